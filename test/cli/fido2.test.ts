/**
 * `bioseal enroll fido2` and fido2 slots through the real CLI and the real
 * libfido2 tools (fido2-tools). No FIDO2 device exists on the machines these
 * tests run on, so what is checked here is the path to the device: the CLI
 * finds no key and says so with E_DEVICE / failure "unavailable", names the
 * key when asked to use a missing one, refuses bad arguments, and leaves no
 * enrolment behind. The ceremonies themselves are tested against a
 * stand-in (test/factors/fido2.test.ts, test/devices/fido2/).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { assertError, assertOk, distModule, makeWorkspace, runCli, runNodeScript, writePassphrase, type CliOptions } from '../helpers/cli.js';

const ws = makeWorkspace('bioseal-fido2-cli-');
const cli = (args: readonly string[], o: CliOptions = {}) => runCli(args, { home: ws.home, cwd: ws.dir, ...o, env: { BIOSEAL_FIDO2_DEVICE: undefined, BIOSEAL_PIN: undefined, ...o.env } });
const FIDO2_DIR = path.join(ws.home, 'enrolments', 'fido2');
const PASS_FILE = ws.p('pass');
const MODEL = ws.p('m.onnx');

before(() => {
  const found = spawnSync('sh', ['-c', 'command -v fido2-token && command -v fido2-cred && command -v fido2-assert'], { encoding: 'utf8' });
  assert.equal(found.status, 0, 'fido2-tools (fido2-token, fido2-cred, fido2-assert) must be installed: scripts/setup-system.sh installs them');
  const keys = spawnSync('fido2-token', ['-L'], { encoding: 'utf8' });
  assert.equal(keys.stdout.trim(), '', `these tests expect no FIDO2 key to be plugged in, but fido2-token -L lists: ${keys.stdout}`);
  writePassphrase(PASS_FILE, 'a recovery passphrase for the fido2 tests');
  writeFileSync(MODEL, Buffer.alloc(10_000, 3));
});
after(() => ws.cleanup());

const noEnrolment = () => assert.ok(!existsSync(FIDO2_DIR) || readdirSync(FIDO2_DIR).length === 0, 'a failed enrolment must leave no record');

describe('bioseal enroll fido2 on a machine without a FIDO2 key', () => {
  test('enroll --help shows the fido2 form', async () => {
    const r = await cli(['enroll', '--help']);
    assertOk(r);
    assert.match(r.stdout, /bioseal enroll fido2 \[--device PATH\]/);
    assert.match(r.stdout, /hmac-secret/);
  });

  test('no key found: E_DEVICE, failure "unavailable", a clear message', async () => {
    const r = await cli(['enroll', 'fido2']);
    assertError(r, 'E_DEVICE', { message: /no FIDO2 security key found .*plug one in/ });
    const j = await cli(['enroll', 'fido2', '--json']);
    assertError(j, 'E_DEVICE', { json: true, message: /no FIDO2 security key found/ });
    assert.equal(j.json.error.failure, 'unavailable');
    noEnrolment();
  });

  test('a named key that is not there: unavailable, naming it (--device and BIOSEAL_FIDO2_DEVICE)', async () => {
    const r = await cli(['enroll', 'fido2', '--device', '/dev/bioseal-no-such-key', '--json']);
    assertError(r, 'E_DEVICE', { json: true, message: /cannot open the FIDO2 security key \(\/dev\/bioseal-no-such-key\)/ });
    assert.equal(r.json.error.failure, 'unavailable');
    const e = await cli(['enroll', 'fido2', '--json'], { env: { BIOSEAL_FIDO2_DEVICE: '/dev/bioseal-env-key' } });
    assertError(e, 'E_DEVICE', { json: true, message: /\/dev\/bioseal-env-key/ });
    noEnrolment();
  });

  test('bad arguments are usage errors', async () => {
    assertError(await cli(['enroll', 'fido2', '--device=-v']), 'E_USAGE', { message: /not a FIDO2 device path/ });
    assertError(await cli(['enroll', 'fido2', 'extra']), 'E_USAGE', { message: /no further arguments/ });
    assertError(await cli(['enroll', 'fido2', '--images', ws.dir]), 'E_USAGE', { message: /does not take --images/ });
    noEnrolment();
  });
});

describe('fido2 slots without a key', () => {
  test('sealing with fido2 in the policy and no enrolment says how to enrol', async () => {
    const r = await cli(['seal', MODEL, '-o', ws.p('a.bseal'), '--policy', 'fido2 | recovery', '--passphrase-file', PASS_FILE]);
    assertError(r, 'E_USAGE', { message: /no fido2 enrolment named "default" \(run: bioseal enroll fido2/ });
  });

  test('sealing with an enrolment but no key plugged in: E_DEVICE unavailable from the real tools', async () => {
    // An enrolment record made with the software stand-in (no device exists here), then the real CLI and tools.
    const script = `
      import { enrolFido2 } from ${distModule('enrolment/fido2-record.js')};
      import { SoftwareAuthenticator } from ${distModule('devices/fido2/software-authenticator.js')};
      const r = await enrolFido2({ home: process.env.BIOSEAL_HOME, name: 'default', session: { runner: new SoftwareAuthenticator() } });
      console.log(r.enrolment.record.id);
    `;
    assertOk(await runNodeScript(script, { home: ws.home }), 'enrolment with the stand-in');
    const r = await cli(['seal', MODEL, '-o', ws.p('b.bseal'), '--policy', 'fido2 | recovery', '--passphrase-file', PASS_FILE, '--json']);
    assertError(r, 'E_DEVICE', { json: true, message: /no FIDO2 security key found/ });
    assert.equal(r.json.error.failure, 'unavailable');
    assert.ok(!existsSync(ws.p('b.bseal')), 'no sealed file is left behind');
  });
});
