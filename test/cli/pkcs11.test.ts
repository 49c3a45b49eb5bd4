/**
 * The pkcs11 factor end to end through the real `bioseal` CLI and a real
 * SoftHSM2 token (a temporary token store, SOFTHSM2_CONF in the children's
 * environment): `enroll pkcs11 --module LIB --token LABEL --pin-file F`,
 * `seal --policy "pkcs11 | recovery" --pin-file F`, `check --pin-file F`,
 * `inspect`, and the typed failures (wrong PIN, missing options, absent
 * token, taken name).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { EXIT, assertError, assertOk, makeWorkspace, runCli, writePassphrase, type CliOptions } from '../helpers/cli.js';
import { SOFTHSM_MODULE, useSoftHsm, type TestSoftHsm } from '../helpers/softhsm.js';

const TOKEN = 'bioseal-cli';
const PIN = '8675309';

const ws = makeWorkspace('bioseal-pkcs11-cli-');
let hsm: TestSoftHsm;
let serial: string;
const PIN_FILE = ws.p('pin');
const WRONG_PIN_FILE = ws.p('wrong-pin');
const PASS_FILE = ws.p('passphrase');
const MODEL = ws.p('m.onnx');
const SEALED = ws.p('m.bseal');

const cli = (args: readonly string[], o: CliOptions = {}) =>
  runCli(args, { home: ws.home, cwd: ws.dir, timeoutMs: 120_000, ...o, env: { ...hsm.env, BIOSEAL_PIN: undefined, ...o.env } });

before(() => {
  hsm = useSoftHsm();
  serial = hsm.initToken(TOKEN, PIN, '11223344');
  writePassphrase(PIN_FILE, PIN);
  writePassphrase(WRONG_PIN_FILE, '0000000');
  writePassphrase(PASS_FILE, 'correct horse battery staple for pkcs11');
  writeFileSync(MODEL, randomBytes(40_000));
});
after(() => {
  hsm?.dispose();
  ws.cleanup();
});

describe('bioseal with a PKCS#11 token', () => {
  let enrolmentId: string;

  test('enroll --help shows the pkcs11 form', async () => {
    const r = await cli(['enroll', '--help']);
    assertOk(r);
    assert.match(r.stdout, /bioseal enroll pkcs11 --module LIB --token LABEL --pin-file F/);
  });

  test('enroll pkcs11 --module LIB --token LABEL --pin-file F', async () => {
    const r = await cli(['enroll', 'pkcs11', '--module', SOFTHSM_MODULE, '--token', TOKEN, '--pin-file', PIN_FILE, '--json']);
    assertOk(r, 'enroll pkcs11');
    assert.equal(r.json.ok, true);
    assert.equal(r.json.name, 'default');
    assert.equal(r.json.token, TOKEN);
    assert.equal(r.json.serial, serial);
    assert.equal(r.json.keyLabel, 'bioseal:default');
    assert.equal(r.json.createdKey, true);
    assert.match(r.json.id, /^[0-9a-f]{32}$/);
    enrolmentId = r.json.id;
    const record = readFileSync(r.json.file, 'utf8');
    assert.doesNotMatch(record, new RegExp(PIN));
    const attrs = hsm.keyAttributes(TOKEN, PIN, 'bioseal:default');
    assert.equal(attrs?.extractable, false);
    assert.equal(attrs?.sensitive, true);
  });

  test('enrolling the same name again is E_EXISTS unless --force', async () => {
    assertError(await cli(['enroll', 'pkcs11', '--module', SOFTHSM_MODULE, '--token', TOKEN, '--pin-file', PIN_FILE]), 'E_EXISTS', { message: /--force/ });
  });

  test('seal --policy "pkcs11 | recovery" --pin-file F, then check --pin-file F opens it', async () => {
    const s = await cli(['seal', MODEL, '-o', SEALED, '--policy', 'pkcs11 | recovery', '--pin-file', PIN_FILE, '--passphrase-file', PASS_FILE]);
    assertOk(s, 'seal');
    const c = await cli(['check', SEALED, '--pin-file', PIN_FILE, '--json']);
    assertOk(c, 'check');
    assert.equal(c.json.ok, true);
    assert.equal(c.json.plaintextLength, 40_000);
  });

  test('inspect shows the pkcs11 factor and its enrolment', async () => {
    const r = await cli(['inspect', SEALED, '--json']);
    assertOk(r, 'inspect');
    const factors = r.json.slots.map((s: { factors: string[] }) => s.factors);
    assert.deepEqual(factors, [['pkcs11'], ['recovery']]);
    assert.deepEqual(r.json.slots[0].details[0], { enrolment: enrolmentId });
    const text = await cli(['inspect', SEALED]);
    assertOk(text, 'inspect');
    assert.match(text.stdout, new RegExp(`pkcs11\\(enrolment=${enrolmentId}\\)`));
  });

  // No slot reached its key check (no passphrase for the recovery slot), so the token's own refusal is the answer.
  test('a wrong PIN file does not open it, and says the PIN was wrong', async () => {
    const r = await cli(['check', SEALED, '--pin-file', WRONG_PIN_FILE]);
    assert.equal(r.code, EXIT.E_DEVICE, `exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, /wrong PIN/);
    assert.equal(r.stdout, '');
  });

  test('a wrong PIN and a wrong passphrase: E_AUTH, with the refusal of the token in the hint', async () => {
    const wrongPass = `${PASS_FILE}.wrong`;
    writeFileSync(wrongPass, 'not the passphrase\n');
    const r = await cli(['check', SEALED, '--pin-file', WRONG_PIN_FILE, '--passphrase-file', wrongPass]);
    assert.equal(r.code, EXIT.E_AUTH, `exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, /hint: .*wrong PIN/);
  });

  test('without a PIN, the recovery branch opens it', async () => {
    assertOk(await cli(['check', SEALED, '--passphrase-file', PASS_FILE]), 'check with the recovery passphrase');
  });

  test('BIOSEAL_PIN works in place of --pin-file', async () => {
    assertOk(await cli(['check', SEALED], { env: { BIOSEAL_PIN: PIN } }), 'check with BIOSEAL_PIN');
  });

  test('enroll pkcs11 without --module, --token or a PIN is a usage error', async () => {
    assertError(await cli(['enroll', 'pkcs11', '--token', TOKEN, '--pin-file', PIN_FILE, '--name', 'x']), 'E_USAGE', { message: /--module/ });
    assertError(await cli(['enroll', 'pkcs11', '--module', SOFTHSM_MODULE, '--pin-file', PIN_FILE, '--name', 'x']), 'E_USAGE', { message: /--token/ });
    assertError(await cli(['enroll', 'pkcs11', '--module', SOFTHSM_MODULE, '--token', TOKEN, '--name', 'x']), 'E_USAGE', { message: /--pin-file/ });
  });

  test('enroll pkcs11 with a wrong PIN or an absent token is E_DEVICE', async () => {
    assertError(await cli(['enroll', 'pkcs11', '--module', SOFTHSM_MODULE, '--token', TOKEN, '--pin-file', WRONG_PIN_FILE, '--name', 'x']), 'E_DEVICE', {
      message: /wrong PIN/,
    });
    assertError(await cli(['enroll', 'pkcs11', '--module', SOFTHSM_MODULE, '--token', 'absent', '--pin-file', PIN_FILE, '--name', 'x']), 'E_DEVICE', {
      message: /no PKCS#11 token labelled "absent"/,
    });
  });
});
