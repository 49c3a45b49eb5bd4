/**
 * The fido2 factor: enrolment record, slot parameters, secrets, counters,
 * revocation, attempt limiting and PIN handling.
 *
 * No FIDO2 device exists where these tests run. The factor talks to a
 * SoftwareAuthenticator, a stand-in that answers the tool requests in the
 * tools' documented output formats with a real ES256 key (see
 * src/devices/fido2/software-authenticator.ts). The device round trip itself
 * is not exercised here; the real tools are (tools.test.ts, test/cli/fido2.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { DeviceError, ExistsError, FormatError, RateLimitError } from '../../src/errors.js';
import { createFido2Factor } from '../../src/factors/fido2.js';
import { findFactor } from '../../src/factors/registry.js';
import { AttemptLimiter } from '../../src/factors/rate-limit.js';
import { enrolFido2, loadFido2Enrolment } from '../../src/enrolment/fido2-record.js';
import { PIN_KEY_INFO, SoftwareAuthenticator } from '../../src/devices/fido2/software-authenticator.js';
import type { Fido2ToolRunner } from '../../src/devices/fido2/tool-runner.js';
import type { UnlockInputs } from '../../src/factors/inputs.js';

// The keys are found through the stand-in's `fido2-token -L`, not a named device.
delete process.env.BIOSEAL_FIDO2_DEVICE;

const homes: string[] = [];
after(() => homes.forEach((h) => rmSync(h, { recursive: true, force: true })));
function newHome(): string {
  const h = mkdtempSync(path.join(os.tmpdir(), 'bioseal-fido2-factor-'));
  homes.push(h);
  return h;
}

async function setup(options: { pin?: string; info?: string } = {}) {
  const home = newHome();
  const auth = new SoftwareAuthenticator(options);
  const pinBytes = options.pin === undefined ? undefined : new Uint8Array(Buffer.from(options.pin));
  const enrolled = await enrolFido2({ home, name: 'default', session: { runner: auth, pin: pinBytes && (async () => pinBytes) } });
  const factor = createFido2Factor(auth);
  const inputs: UnlockInputs = { home, pin: pinBytes && (async () => pinBytes) };
  return { home, auth, enrolled, factor, inputs, limiterKey: `fido2:${enrolled.enrolment.record.id}` };
}

const assertDevice = (failure: string) => (e: unknown) => e instanceof DeviceError && e.failure === failure;

describe('fido2 enrolment', () => {
  test('records the credential id, public key, relying party and counter, and no secret (mode 0600)', async () => {
    const { home, enrolled } = await setup();
    const file = path.join(home, 'enrolments', 'fido2', 'default.json');
    assert.equal(enrolled.file, file);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const json = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(json.format, 'bioseal-fido2-enrolment');
    assert.deepEqual(Object.keys(json.data).sort(), ['aaguid', 'attestation', 'counter', 'credentialId', 'device', 'deviceDescription', 'publicKey', 'rpId', 'userId', 'userVerification']);
    assert.equal(json.data.rpId, 'bioseal:fido2');
    assert.equal(json.data.userVerification, 'builtin');
    assert.equal(json.data.attestation, 'self');
    assert.equal(Buffer.from(json.data.credentialId, 'base64').length, 64);
  });

  test('a taken name is refused before the key is asked; --force re-enrols', async () => {
    const { home, auth } = await setup();
    const before = auth.requests.length;
    await assert.rejects(enrolFido2({ home, name: 'default', session: { runner: auth } }), ExistsError);
    assert.equal(auth.requests.length, before);
    const again = await enrolFido2({ home, name: 'default', overwrite: true, session: { runner: auth } });
    assert.equal(loadFido2Enrolment(home, 'default').record.id, again.enrolment.record.id);
  });

  test('a PIN key: fido2-cred without -v (and -r where the key would skip the PIN); the PIN is asked only when the tool prompts', async () => {
    const { auth } = await setup({ pin: '4321', info: PIN_KEY_INFO });
    const cred = auth.requests.find((r) => r.tool === 'fido2-cred')!;
    assert.deepEqual(cred.args, ['-M', '-h', '-r', auth.path, 'es256']);
    await assert.rejects(enrolFido2({ home: newHome(), name: 'x', session: { runner: new SoftwareAuthenticator({ pin: '4321', info: PIN_KEY_INFO }) } }), assertDevice('refused'));
  });
});

describe('the fido2 factor', () => {
  test('is registered, standalone, with a cost', () => {
    const f = findFactor('fido2');
    assert.ok(f);
    assert.equal(f.standalone, true);
    assert.equal(f.cost, 150);
  });

  test('createShare gives 48 bytes of parameters (id | salt) and a 32-byte secret; deriveSecret gives it back', async () => {
    const { factor, inputs, enrolled } = await setup();
    const share = await factor.createShare(inputs);
    assert.equal(share.params.length, 48);
    assert.equal(Buffer.from(share.params.subarray(0, 16)).toString('hex'), enrolled.enrolment.record.id);
    assert.equal(share.secret.length, 32);
    assert.deepEqual(await factor.deriveSecret(share.params, inputs), share.secret);
    assert.deepEqual(factor.describe(share.params), { enrolment: enrolled.enrolment.record.id });
  });

  test('each slot gets its own salt, hence its own secret', async () => {
    const { factor, inputs } = await setup();
    const a = await factor.createShare(inputs);
    const b = await factor.createShare(inputs);
    assert.notDeepEqual(a.params.subarray(16), b.params.subarray(16));
    assert.notDeepEqual(a.secret, b.secret);
  });

  test('the assertion asks fido2-assert -G -h -t uv=true with the slot\'s salt, and the stored counter moves forward', async () => {
    const { factor, inputs, auth, home } = await setup();
    const share = await factor.createShare(inputs);
    const afterShare = loadFido2Enrolment(home, 'default').counter;
    await factor.deriveSecret(share.params, inputs);
    const assert2 = auth.requests.filter((r) => r.tool === 'fido2-assert').at(-1)!;
    assert.deepEqual(assert2.args, ['-G', '-h', '-t', 'uv=true', auth.path]);
    assert.equal(assert2.input!.split('\n')[3], Buffer.from(share.params.subarray(16)).toString('base64'));
    assert.ok(loadFido2Enrolment(home, 'default').counter > afterShare);
  });

  test('an enrolment not on this machine, or revoked by re-enrolment, gives undefined', async () => {
    const { factor, inputs, home, auth } = await setup();
    const share = await factor.createShare(inputs);
    const foreign = new Uint8Array(share.params);
    foreign[0]! ^= 0xff;
    assert.equal(await factor.deriveSecret(foreign, inputs), undefined);
    await enrolFido2({ home, name: 'default', overwrite: true, session: { runner: auth } });
    assert.equal(await factor.deriveSecret(share.params, inputs), undefined);
  });

  test('malformed parameters are a FormatError', async () => {
    const { factor, inputs } = await setup();
    await assert.rejects(factor.deriveSecret(new Uint8Array(47), inputs), FormatError);
    assert.throws(() => factor.describe(new Uint8Array(49)), FormatError);
  });

  test('a refusal stays counted; a verified answer clears the count', async () => {
    const { factor, inputs, auth, home, limiterKey } = await setup();
    const share = await factor.createShare(inputs);
    const limiter = new AttemptLimiter(home);
    auth.tamper = { noUv: true };
    await assert.rejects(factor.deriveSecret(share.params, inputs), assertDevice('refused'));
    auth.tamper = { wrongKey: true };
    await assert.rejects(factor.deriveSecret(share.params, inputs), assertDevice('invalid-response'));
    assert.equal(limiter.failures(limiterKey), 2);
    await factor.deriveSecret(share.params, inputs);
    assert.equal(limiter.failures(limiterKey), 0);
  });

  test('after five failures the key is not asked again until the delay has passed', async () => {
    const { factor, inputs, auth, limiterKey, home } = await setup();
    const share = await factor.createShare(inputs);
    for (let i = 0; i < 5; i++) {
      auth.tamper = { noUv: true };
      await assert.rejects(factor.deriveSecret(share.params, inputs), assertDevice('refused'));
    }
    assert.equal(new AttemptLimiter(home).failures(limiterKey), 5);
    const asked = auth.requests.filter((r) => r.tool === 'fido2-assert').length;
    await assert.rejects(factor.deriveSecret(share.params, inputs), RateLimitError);
    assert.equal(auth.requests.filter((r) => r.tool === 'fido2-assert').length, asked);
  });

  test('no key plugged in: unavailable, and not counted as a failed attempt', async () => {
    const { factor, inputs, auth, limiterKey, home } = await setup();
    const share = await factor.createShare(inputs);
    const noKeys: Fido2ToolRunner = { run: async () => ({ exitCode: 0, stdout: '', stderr: '', pinMissing: false }) };
    await assert.rejects(createFido2Factor(noKeys).deriveSecret(share.params, inputs), assertDevice('unavailable'));
    assert.equal(new AttemptLimiter(home).failures(limiterKey), 0);
    assert.ok(auth.requests.length > 0);
  });

  test('another key that does not hold the credential: refused', async () => {
    const { factor, inputs } = await setup();
    const share = await factor.createShare(inputs);
    await assert.rejects(createFido2Factor(new SoftwareAuthenticator()).deriveSecret(share.params, inputs), (e: unknown) => e instanceof DeviceError && e.failure === 'refused' && /does not hold the enrolled credential/.test(e.message));
  });

  test('a PIN key: fido2-assert -v, the PIN from the inputs; a wrong or missing PIN is refused', async () => {
    const { factor, inputs, auth, home } = await setup({ pin: '4321', info: PIN_KEY_INFO });
    const share = await factor.createShare(inputs);
    assert.deepEqual(auth.requests.filter((r) => r.tool === 'fido2-assert').at(-1)!.args, ['-G', '-h', '-v', auth.path]);
    assert.deepEqual(await factor.deriveSecret(share.params, inputs), share.secret);
    const wrong = new Uint8Array(Buffer.from('0000'));
    await assert.rejects(factor.deriveSecret(share.params, { home, pin: async () => wrong }), (e: unknown) => e instanceof DeviceError && e.failure === 'refused' && /wrong PIN/.test(e.message));
    await assert.rejects(factor.deriveSecret(share.params, { home }), (e: unknown) => e instanceof DeviceError && e.failure === 'refused' && /asks for its PIN/.test(e.message));
  });

  test('the person is told what to do', async () => {
    const { factor, inputs } = await setup();
    const messages: string[] = [];
    await factor.createShare({ ...inputs, interaction: { notify: (m) => messages.push(m), openUrl: () => undefined } });
    assert.equal(messages.length, 1);
    assert.match(messages[0]!, /touch the FIDO2 security key .* with an enrolled finger/);
  });
});

describe('the fido2 benchmark', () => {
  test('measures output-to-secret over stand-in outputs and says the device round trip was not measured', async () => {
    const { benchFido2Factor } = await import('../../src/bench/factor-fido2.js');
    const lines: string[] = [];
    const r = await benchFido2Factor({ runs: 3, log: (l) => lines.push(l) });
    assert.equal(r.factor, 'fido2');
    assert.equal(r.available, true);
    assert.equal(r.runs, 3);
    assert.ok(typeof r.medianMs === 'number' && r.medianMs > 0);
    assert.match(r.what, /device round trip was not measured/);
    assert.match(lines.join('\n'), /not measured/);
  });
});
