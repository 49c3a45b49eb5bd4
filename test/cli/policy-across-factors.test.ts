/**
 * Policies across factors, end to end through the CLI with real devices: a
 * model sealed under "(pkcs11 & tpm) | recovery" (a SoftHSM2 token and a
 * swtpm), opened through whichever branch the person can satisfy; inspect
 * shows what each slot needs; one device of the pair is not enough.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { buildDemoModel } from '../../src/onnx/model-builder.js';
import { assertError, assertOk, makeWorkspace, runCli, writePassphrase, type CliOptions } from '../helpers/cli.js';
import { SOFTHSM_MODULE, useSoftHsm, type TestSoftHsm } from '../helpers/softhsm.js';
import { startTestTpm, type TestTpm } from '../helpers/swtpm.js';

const ws = makeWorkspace('bioseal-policy-cli-');
const PIN = '246813579';
const PIN_FILE = ws.p('pin');
const WRONG_PIN_FILE = ws.p('wrong-pin');
const PASS_FILE = ws.p('pass');
const MODEL = ws.p('m.onnx');
const SEALED = ws.p('m.bseal');
let hsm: TestSoftHsm;
let tpm: TestTpm;

const cli = (args: readonly string[], o: CliOptions = {}) =>
  runCli(args, { home: ws.home, cwd: ws.dir, timeoutMs: 120_000, ...o, env: { ...hsm.env, BIOSEAL_PIN: undefined, BIOSEAL_TPM_TCTI: tpm.tcti, ...o.env } });

before(async () => {
  hsm = useSoftHsm();
  hsm.initToken('pair', PIN, '55667788');
  tpm = await startTestTpm();
  writePassphrase(PIN_FILE, PIN);
  writePassphrase(WRONG_PIN_FILE, '000000000');
  writePassphrase(PASS_FILE, 'recovery for the pair policy');
  writeFileSync(MODEL, buildDemoModel());
});
after(async () => {
  await tpm?.dispose();
  hsm?.dispose();
  ws.cleanup();
});

describe('seal --policy "(pkcs11 & tpm) | recovery"', () => {
  test('enrol both devices, seal, and inspect shows each slot\'s factors', async () => {
    assertOk(await cli(['enroll', 'pkcs11', '--module', SOFTHSM_MODULE, '--token', 'pair', '--pin-file', PIN_FILE]), 'enroll pkcs11');
    assertOk(await cli(['enroll', 'tpm']), 'enroll tpm');
    assertOk(await cli(['seal', MODEL, '-o', SEALED, '--policy', '(pkcs11 & tpm) | recovery', '--pin-file', PIN_FILE, '--passphrase-file', PASS_FILE]), 'seal');
    const r = await cli(['inspect', SEALED, '--json']);
    assertOk(r, 'inspect');
    assert.deepEqual(
      r.json.slots.map((s: { factors: string[] }) => s.factors),
      [['pkcs11', 'tpm'], ['recovery']],
    );
  });

  test('the device branch opens it with the PIN and this TPM, no passphrase', async () => {
    const r = await cli(['check', SEALED, '--pin-file', PIN_FILE, '--json']);
    assertOk(r, 'check through pkcs11 & tpm');
    assert.equal(r.json.slot, 0);
  });

  test('the recovery branch opens it without either device', async () => {
    const r = await cli(['check', SEALED, '--passphrase-file', PASS_FILE, '--json'], { env: { BIOSEAL_TPM_TCTI: 'swtpm:host=127.0.0.1,port=1' } });
    assertOk(r, 'check through recovery');
    assert.equal(r.json.slot, 1);
  });

  test('one device of the pair is not enough: a wrong PIN with the right TPM does not open it', async () => {
    assertError(await cli(['check', SEALED, '--pin-file', WRONG_PIN_FILE]), 'E_DEVICE', { message: /wrong PIN/ });
  });
});
