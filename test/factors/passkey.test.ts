/**
 * The `passkey` factor (src/factors/passkey.ts) with a real browser: Chromium
 * and a virtual authenticator with UV and PRF (test/helpers/browser.ts).
 * Enrolment stores only public data; slots get their own PRF salt; a model
 * sealed under "passkey" opens through the page; malformed parameters,
 * unknown and revoked enrolments, a tampered record (a counter rolled
 * forward, as a cloned authenticator would leave it) and cancels are
 * handled, and failed attempts are counted.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { DeviceError, FormatError } from '../../src/errors.js';
import { enrolPasskey } from '../../src/enrolment/passkey.js';
import { passkeyFactor } from '../../src/factors/passkey.js';
import { AttemptLimiter } from '../../src/factors/rate-limit.js';
import { findFactor } from '../../src/factors/registry.js';
import { inspectModel, openModel, sealModel } from '../../src/index.js';
import { biosealError, tempHome } from '../enrolment/helpers.js';
import { TestBrowser } from '../helpers/browser.js';

const h = tempHome('bioseal-passkey-');
let browser: TestBrowser;
let enrolmentId: string;
let recordFile: string;

before(async () => {
  browser = await TestBrowser.launch();
  await browser.addAuthenticator();
  const r = await enrolPasskey({ home: h.home, name: 'default', openUrl: browser.interaction().openUrl });
  enrolmentId = r.enrolment.record.id;
  recordFile = r.file;
});
after(async () => {
  await browser?.close();
  h.cleanup();
});

const inputs = (action: 'continue' | 'cancel' = 'continue') => ({ home: h.home, interaction: browser.interaction(action) });
const record = () => JSON.parse(readFileSync(recordFile, 'utf8'));

describe('passkey factor', () => {
  test('is registered, standalone, and the enrolment record holds only public data', () => {
    assert.equal(findFactor('passkey'), passkeyFactor);
    assert.equal(passkeyFactor.standalone, true);
    assert.equal(statSync(recordFile).mode & 0o777, 0o600);
    const data = record().data;
    assert.deepEqual(Object.keys(data).sort(), ['aaguid', 'counter', 'credentialId', 'publicKey', 'rpId', 'transports', 'userHandle']);
    assert.equal(data.rpId, 'localhost');
  });

  test('each slot gets its own salt and secret; each secret comes back through the page', async () => {
    const a = await passkeyFactor.createShare(inputs());
    const b = await passkeyFactor.createShare(inputs());
    assert.equal(a.params.length, 48);
    assert.equal(a.secret.length, 32);
    assert.equal(Buffer.from(a.params.subarray(0, 16)).toString('hex'), enrolmentId);
    assert.notDeepEqual(a.params.subarray(16), b.params.subarray(16));
    assert.notDeepEqual(a.secret, b.secret);
    const counter = record().data.counter;
    const interaction = browser.interaction();
    assert.deepEqual(await passkeyFactor.deriveSecret(a.params, { home: h.home, interaction }), a.secret);
    assert.deepEqual(await passkeyFactor.deriveSecret(b.params, { home: h.home, interaction }), b.secret);
    assert.deepEqual((await interaction.settled()).map((o) => o.state), ['done', 'done']);
    assert.ok(record().data.counter > counter, 'the stored signature counter advances');
    assert.deepEqual(passkeyFactor.describe(a.params), { enrolment: enrolmentId });
  });

  test('malformed parameters, unknown enrolments and a missing interaction', async () => {
    await assert.rejects(passkeyFactor.deriveSecret(new Uint8Array(47), inputs()), (e) => e instanceof FormatError);
    assert.throws(() => passkeyFactor.describe(new Uint8Array(49)), (e) => e instanceof FormatError);
    const unknown = new Uint8Array(randomBytes(48));
    assert.equal(await passkeyFactor.deriveSecret(unknown, inputs()), undefined);
    const { params } = await passkeyFactor.createShare(inputs());
    assert.equal(await passkeyFactor.deriveSecret(params, { home: h.home }), undefined);
    await assert.rejects(passkeyFactor.createShare({ home: h.home }), biosealError('E_USAGE', /passkey/));
    await assert.rejects(passkeyFactor.createShare({ ...inputs(), enrolments: { passkey: 'nope' } }), biosealError('E_USAGE', /no passkey enrolment named "nope"/));
  });

  test('a cancel and a tampered record fail with typed errors and count as failed attempts; success clears them', async () => {
    const { params, secret } = await passkeyFactor.createShare(inputs());
    const limiter = new AttemptLimiter(h.home);
    const key = `passkey:${enrolmentId}`;
    await assert.rejects(passkeyFactor.deriveSecret(params, inputs('cancel')), (e) => e instanceof DeviceError && e.failure === 'cancelled');
    assert.equal(limiter.failures(key), 1);
    // A stored counter ahead of the authenticator's, as a cloned authenticator would leave it.
    const original = readFileSync(recordFile, 'utf8');
    const tampered = record();
    tampered.data.counter = 4_000_000_000;
    writeFileSync(recordFile, JSON.stringify(tampered));
    try {
      await assert.rejects(passkeyFactor.deriveSecret(params, inputs()), (e) => e instanceof DeviceError && e.failure === 'invalid-response' && /counter/i.test(e.message));
    } finally {
      writeFileSync(recordFile, original);
    }
    assert.equal(limiter.failures(key), 2);
    assert.deepEqual(await passkeyFactor.deriveSecret(params, inputs()), secret);
    assert.equal(limiter.failures(key), 0);
  });

  test('a model sealed under "passkey | recovery" opens with the passkey; re-enrolling revokes its slot', async () => {
    const model = new Uint8Array(randomBytes(50_000));
    const file = path.join(path.dirname(h.home), 'model.bseal');
    process.env.BIOSEAL_ARGON2_MEMORY_KIB = '8192';
    const passphrase = async () => new TextEncoder().encode('correct horse battery staple');
    await sealModel({ input: model, output: file, policies: ['passkey | recovery'], passphrase, ...inputs(), useIdentities: false });
    const d = await inspectModel(file);
    assert.deepEqual(
      d.slots.map((s) => s.factors),
      [['passkey'], ['recovery']],
    );
    const opened = await openModel(file, { ...inputs(), useIdentities: false });
    try {
      assert.deepEqual(opened.bytes, model);
    } finally {
      opened.release();
    }
    await assert.rejects(enrolPasskey({ home: h.home, name: 'default', openUrl: () => assert.fail('no page before the name check') }), biosealError('E_EXISTS'));
    await enrolPasskey({ home: h.home, name: 'default', overwrite: true, openUrl: browser.interaction().openUrl });
    await assert.rejects(openModel(file, { ...inputs(), useIdentities: false }), biosealError('E_AUTH'));
  });
});
