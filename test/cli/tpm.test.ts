/**
 * The TPM factor end to end through the real `bioseal` CLI and a real
 * software TPM (swtpm, started here): enroll tpm --pcrs 7 --tcti, seal
 * --policy "tpm | recovery", check and run through the TPM alone (by --tcti
 * and by BIOSEAL_TPM_TCTI), inspect showing the tpm factor; after PCR 7 is
 * extended the TPM refuses (E_DEVICE, naming the PCRs) while the recovery
 * passphrase still opens the file; and the typed errors of enroll tpm.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildDemoModel, DEMO_BIAS, DEMO_WEIGHTS } from '../../src/onnx/model-builder.js';
import { assertClose, assertError, assertOk, demoExpected, makeWorkspace, runCli, writePassphrase, type CliOptions } from '../helpers/cli.js';
import { startTestTpm, type TestTpm } from '../helpers/swtpm.js';

const ws = makeWorkspace('bioseal-tpm-cli-');
/** No TCTI from the test's own environment leaks into the children. */
const cli = (args: readonly string[], o: CliOptions = {}) => runCli(args, { home: ws.home, cwd: ws.dir, ...o, env: { BIOSEAL_TPM_TCTI: undefined, ...o.env } });

const MODEL = ws.p('m.onnx');
const SEALED = ws.p('m.bseal');
const PASS_FILE = ws.p('pass.txt');
const INPUT_JSON = ws.p('input.json');
const X = [0.5, -1.2, 3.3, 0.7];
let tpm: TestTpm;

before(async () => {
  writeFileSync(MODEL, buildDemoModel());
  writePassphrase(PASS_FILE, 'tpm recovery passphrase');
  writeFileSync(INPUT_JSON, JSON.stringify({ input: { type: 'float32', dims: [1, 4], data: X } }));
  tpm = await startTestTpm();
});
after(async () => {
  await tpm?.dispose();
  ws.cleanup();
});

describe('bioseal enroll tpm', () => {
  test('enroll --help shows the contract form', async () => {
    const r = await cli(['enroll', '--help']);
    assertOk(r);
    assert.match(r.stdout, /bioseal enroll tpm \[--pcrs LIST\] \[--tcti TCTI\]/);
    assert.match(r.stdout, /BIOSEAL_TPM_TCTI/);
  });

  test('malformed --pcrs or --tcti, or stray arguments, are E_USAGE and enrol nothing', async () => {
    for (const pcrs of ['24', '7,7', 'seven', '', '0,']) {
      assertError(await cli(['enroll', 'tpm', '--pcrs', pcrs, '--tcti', tpm.tcti]), 'E_USAGE', { message: /--pcrs/ });
    }
    assertError(await cli(['enroll', 'tpm', '--tcti', 'not a tcti']), 'E_USAGE', { message: /not a TCTI/ });
    assertError(await cli(['enroll', 'tpm', 'extra', '--tcti', tpm.tcti]), 'E_USAGE', { message: /no further arguments/ });
    assertError(await cli(['enroll', 'tpm', '--images', ws.dir, '--tcti', tpm.tcti]), 'E_USAGE', { message: /does not take --images/ });
    assert.ok(!existsSync(path.join(ws.home, 'enrolments', 'tpm', 'default.json')));
  });

  test('an unreachable TPM is E_DEVICE (--json: one error document)', async () => {
    const gone = await startTestTpm();
    const tcti = gone.tcti;
    await gone.dispose();
    assertError(await cli(['enroll', 'tpm', '--tcti', tcti]), 'E_DEVICE', { message: /not reachable/ });
    assertError(await cli(['enroll', 'tpm', '--tcti', tcti, '--json']), 'E_DEVICE', { json: true, message: /not reachable/ });
  });

  test('enroll tpm --pcrs 7 --tcti: a record naming PCR 7 of the sha256 bank; again without --force is E_EXISTS', async () => {
    const r = await cli(['enroll', 'tpm', '--pcrs', '7', '--tcti', tpm.tcti, '--json']);
    assertOk(r, 'enroll tpm');
    assert.equal(r.json.ok, true);
    assert.equal(r.json.name, 'default');
    assert.match(r.json.id, /^[0-9a-f]{32}$/);
    assert.deepEqual(r.json.pcrs, [7]);
    assert.equal(r.json.pcrBank, 'sha256');
    assert.equal(r.json.tcti, tpm.tcti);
    const record = JSON.parse(readFileSync(r.json.file, 'utf8'));
    assert.equal(record.format, 'bioseal-tpm-enrolment');
    assert.deepEqual(record.data.pcrs, [7]);
    assertError(await cli(['enroll', 'tpm', '--tcti', tpm.tcti]), 'E_EXISTS', { message: /--force/ });
  });

  test('BIOSEAL_TPM_TCTI names the TPM when --tcti is absent; text output says what was bound', async () => {
    const r = await cli(['enroll', 'tpm', '--name', 'env', '--pcrs', '0,7'], { env: { BIOSEAL_TPM_TCTI: tpm.tcti } });
    assertOk(r);
    assert.match(r.stdout, /enrolled tpm "env" on swtpm:host=127\.0\.0\.1,port=\d+, bound to PCRs sha256:0,7/);
  });
});

describe('seal, check, run and inspect through the TPM', () => {
  before(async () => {
    assertOk(await cli(['seal', MODEL, '-o', SEALED, '--policy', 'tpm | recovery', '--tcti', tpm.tcti, '--passphrase-file', PASS_FILE]), 'seal');
  });

  test('check --tcti opens the tpm slot with no passphrase; so does BIOSEAL_TPM_TCTI', async () => {
    const r = await cli(['check', SEALED, '--tcti', tpm.tcti, '--json']);
    assertOk(r, 'check --tcti');
    assert.equal(r.json.slot, 0);
    assertOk(await cli(['check', SEALED], { env: { BIOSEAL_TPM_TCTI: tpm.tcti } }), 'check with BIOSEAL_TPM_TCTI');
  });

  test('run unlocks through the TPM and computes the model\'s output', async () => {
    const r = await cli(['run', SEALED, '--input', INPUT_JSON, '--tcti', tpm.tcti, '--json']);
    assertOk(r, 'run');
    assertClose(r.json.outputs.probabilities.data, demoExpected(X, DEMO_WEIGHTS, DEMO_BIAS));
  });

  test('inspect shows the tpm factor, its enrolment and PCR 7', async () => {
    const enrolment = JSON.parse(readFileSync(path.join(ws.home, 'enrolments', 'tpm', 'default.json'), 'utf8')).id;
    const r = await cli(['inspect', SEALED, '--json']);
    assertOk(r);
    assert.deepEqual(r.json.slots.map((s: any) => s.factors), [['tpm'], ['recovery']]);
    assert.deepEqual(r.json.slots[0].details[0], { enrolment, pcrs: [7], pcrBank: 'sha256' });
    const text = await cli(['inspect', SEALED]);
    assertOk(text);
    assert.match(text.stdout, /slot 0: tpm\s+tpm\(enrolment=[0-9a-f]{32}, pcrs=7, pcrBank=sha256\)/);
  });

  test('after PCR 7 is extended: the TPM alone fails (E_DEVICE, PCR values changed); the recovery passphrase opens it', async () => {
    tpm.extendPcr(7);
    assertError(await cli(['check', SEALED, '--tcti', tpm.tcti]), 'E_DEVICE', { message: /PCR values changed since enrolment/ });
    assertError(await cli(['check', SEALED, '--tcti', tpm.tcti, '--json']), 'E_DEVICE', { json: true, message: /PCR values changed/ });
    const r = await cli(['check', SEALED, '--tcti', tpm.tcti, '--passphrase-file', PASS_FILE, '--json']);
    assertOk(r, 'check with the recovery passphrase');
    assert.equal(r.json.slot, 1);
  });

  test('a wrong recovery passphrase after the PCR change is refused (E_AUTH: a slot reached the key check)', async () => {
    const wrong = writePassphrase(ws.p('wrong.txt'), 'not the passphrase');
    const r = await cli(['check', SEALED, '--tcti', tpm.tcti, '--passphrase-file', wrong]);
    assertError(r, 'E_AUTH');
  });
});
