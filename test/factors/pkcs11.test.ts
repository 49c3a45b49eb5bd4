/**
 * The `pkcs11` factor (src/factors/pkcs11.ts, src/devices/pkcs11/) against a
 * real SoftHSM2 token in a temporary folder: enrolment makes a
 * non-extractable AES-256 key (checked with pkcs11js directly) and a record
 * without the PIN; sealing and unlocking round-trip; a wrong PIN is refused
 * and counted by the attempt limiter; a deleted key is refused; a deleted
 * token, an unloadable module or another token's serial is unavailable; an
 * altered record is a FormatError or a refusal; re-enrolling revokes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

// Cheap Argon2id for the recovery slots sealed alongside (read when a slot is made).
process.env.BIOSEAL_ARGON2_MEMORY_KIB = '8192';

import { DeviceError, RateLimitError } from '../../src/errors.js';
import { enrolPkcs11, type Pkcs11EnrolResult } from '../../src/devices/pkcs11/enrol.js';
import { enrolmentIdBytes } from '../../src/enrolment/record-store.js';
import { passphraseBytes, type UnlockInputs } from '../../src/factors/inputs.js';
import { pkcs11Factor } from '../../src/factors/pkcs11.js';
import { AttemptLimiter } from '../../src/factors/rate-limit.js';
import { findFactor } from '../../src/factors/registry.js';
import { inspectModel, openModel, sealModel } from '../../src/index.js';
import { biosealError, tempHome } from '../enrolment/helpers.js';
import { SOFTHSM_MODULE, useSoftHsm, type TestSoftHsm } from '../helpers/softhsm.js';

const TOKEN = 'bioseal-test';
const PIN = '271828';
const SO_PIN = '314159';
const model = new Uint8Array(randomBytes(50_000));

let hsm: TestSoftHsm;
let serial: string;
const h = tempHome('bioseal-pkcs11-');

before(() => {
  hsm = useSoftHsm();
  serial = hsm.initToken(TOKEN, PIN, SO_PIN);
});
after(() => {
  hsm?.dispose();
  h.cleanup();
});

function inputs(pin: string | undefined, enrolment = 'default'): UnlockInputs {
  return { home: h.home, pin: pin === undefined ? undefined : async () => passphraseBytes(pin), enrolments: { pkcs11: enrolment } };
}

function enrol(name: string, o: { token?: string; keyLabel?: string; pin?: string; overwrite?: boolean; module?: string } = {}): Promise<Pkcs11EnrolResult> {
  return enrolPkcs11({
    home: h.home,
    name,
    module: o.module ?? SOFTHSM_MODULE,
    tokenLabel: o.token ?? TOKEN,
    keyLabel: o.keyLabel,
    pin: passphraseBytes(o.pin ?? PIN),
    overwrite: o.overwrite,
  });
}

/** Rewrites fields of an enrolment record's data on disk. */
function editRecord(file: string, change: (data: Record<string, unknown>) => void): void {
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  change(doc.data);
  writeFileSync(file, JSON.stringify(doc));
}

function deviceError(failure: DeviceError['failure'], message: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof DeviceError, `expected a DeviceError, got ${String((e as Error)?.stack ?? e)}`);
    assert.equal(e.failure, failure, e.message);
    assert.match(e.message, message);
    return true;
  };
}

describe('the pkcs11 factor', () => {
  let main: Pkcs11EnrolResult;
  before(async () => {
    main = await enrol('default');
  });

  test('is registered as "pkcs11", standalone', () => {
    assert.equal(findFactor('pkcs11'), pkcs11Factor);
    assert.equal(pkcs11Factor.standalone, true);
  });

  test('enrolment creates a sensitive, non-extractable AES-256 key and a record without the PIN', () => {
    assert.equal(main.createdKey, true);
    assert.equal(main.token.serial, serial);
    const attrs = hsm.keyAttributes(TOKEN, PIN, 'bioseal:default');
    assert.ok(attrs, 'the key is on the token');
    assert.equal(attrs.sensitive, true);
    assert.equal(attrs.extractable, false);
    assert.equal(attrs.neverExtractable, true);
    assert.equal(attrs.private, true);
    assert.equal(attrs.token, true);
    assert.equal(attrs.valueLength, 32);
    assert.equal(attrs.valueRead, 'CKR_ATTRIBUTE_SENSITIVE');
    assert.deepEqual(new Uint8Array(attrs.id), main.enrolment.key.id);
    assert.equal(main.enrolment.key.id.length, 16);

    assert.equal(statSync(main.file).mode & 0o777, 0o600);
    const text = readFileSync(main.file, 'utf8');
    assert.doesNotMatch(text, new RegExp(PIN));
    const data = JSON.parse(text).data;
    assert.deepEqual(Object.keys(data).sort(), ['iv', 'keyId', 'keyLabel', 'mechanism', 'module', 'tokenLabel', 'tokenSerial', 'wrapped']);
    assert.equal(data.module, SOFTHSM_MODULE);
    assert.equal(data.tokenLabel, TOKEN);
    assert.equal(data.tokenSerial, serial);
    assert.equal(data.mechanism, 'CKM_AES_GCM');
    assert.equal(Buffer.from(data.wrapped, 'base64').length, 48);
  });

  test('createShare and deriveSecret give the same 32-byte secret; params are the enrolment id', async () => {
    const share = await pkcs11Factor.createShare(inputs(PIN));
    assert.equal(share.secret.length, 32);
    assert.deepEqual(share.params, enrolmentIdBytes(main.enrolment.record));
    assert.deepEqual(pkcs11Factor.describe(share.params), { enrolment: main.enrolment.record.id });
    const again = await pkcs11Factor.deriveSecret(share.params, inputs(PIN));
    assert.deepEqual(again, share.secret);
  });

  test('a model sealed under "pkcs11" opens with the token and PIN, and inspect names the factor', async () => {
    const file = `${h.home}-sealed.bseal`;
    await sealModel({ input: model, output: file, policies: ['pkcs11'], pin: PIN, home: h.home, useIdentities: false });
    const info = await inspectModel(file);
    assert.match(JSON.stringify(info), /pkcs11/);
    const opened = await openModel(file, { home: h.home, pin: PIN, useIdentities: false });
    try {
      assert.deepEqual(opened.bytes, model);
    } finally {
      opened.release();
    }
  });

  test('no PIN: deriveSecret cannot take part; createShare asks for --pin-file', async () => {
    const params = enrolmentIdBytes(main.enrolment.record);
    assert.equal(await pkcs11Factor.deriveSecret(params, inputs(undefined)), undefined);
    await assert.rejects(pkcs11Factor.createShare(inputs(undefined)), biosealError('E_USAGE', /--pin-file/));
  });

  test('unknown enrolment ids give no secret; malformed params are a FormatError', async () => {
    assert.equal(await pkcs11Factor.deriveSecret(new Uint8Array(16).fill(7), inputs(PIN)), undefined);
    await assert.rejects(pkcs11Factor.deriveSecret(new Uint8Array(15), inputs(PIN)), biosealError('E_FORMAT'));
    assert.throws(() => pkcs11Factor.describe(new Uint8Array(17)), biosealError('E_FORMAT'));
  });

  test('a wrong PIN is refused and counted; the right PIN clears the count', async () => {
    const params = enrolmentIdBytes(main.enrolment.record);
    const limiter = new AttemptLimiter(h.home);
    const key = `pkcs11:${main.enrolment.record.id}`;
    assert.equal(limiter.failures(key), 0);
    await assert.rejects(pkcs11Factor.deriveSecret(params, inputs('000000')), deviceError('refused', /wrong PIN/));
    assert.equal(limiter.failures(key), 1);
    await assert.rejects(pkcs11Factor.deriveSecret(params, inputs('0')), deviceError('refused', /PIN/));
    assert.equal(limiter.failures(key), 2);
    assert.equal((await pkcs11Factor.deriveSecret(params, inputs(PIN)))?.length, 32);
    assert.equal(limiter.failures(key), 0);
  });

  test('after 5 wrong PINs the limiter refuses even the right PIN', async () => {
    const r = await enrol('limited');
    const params = enrolmentIdBytes(r.enrolment.record);
    for (let i = 0; i < 5; i++) await assert.rejects(pkcs11Factor.deriveSecret(params, inputs('999999')), deviceError('refused', /wrong PIN/));
    await assert.rejects(pkcs11Factor.deriveSecret(params, inputs(PIN)), (e) => e instanceof RateLimitError);
  });

  test('a key deleted from the token is refused', async () => {
    const r = await enrol('gone');
    hsm.deleteKey(TOKEN, PIN, 'bioseal:gone');
    assert.equal(hsm.keyAttributes(TOKEN, PIN, 'bioseal:gone'), undefined);
    await assert.rejects(pkcs11Factor.deriveSecret(enrolmentIdBytes(r.enrolment.record), inputs(PIN)), deviceError('refused', /no longer on the PKCS#11 token/));
  });

  test('a removed token is unavailable', async () => {
    hsm.initToken('removable', PIN, SO_PIN);
    const r = await enrol('removable', { token: 'removable' });
    const params = enrolmentIdBytes(r.enrolment.record);
    assert.equal((await pkcs11Factor.deriveSecret(params, inputs(PIN)))?.length, 32);
    hsm.deleteToken('removable');
    await assert.rejects(pkcs11Factor.deriveSecret(params, inputs(PIN)), deviceError('unavailable', /no PKCS#11 token labelled "removable"/));
    // Counted only once the token is there to take the PIN.
    assert.equal(new AttemptLimiter(h.home).failures(`pkcs11:${r.enrolment.record.id}`), 0);
  });

  test('a token with the same label but another serial is unavailable', async () => {
    const r = await enrol('serial');
    editRecord(r.file, (d) => (d.tokenSerial = '0000000000000000'));
    await assert.rejects(pkcs11Factor.deriveSecret(enrolmentIdBytes(r.enrolment.record), inputs(PIN)), deviceError('unavailable', /serial/));
  });

  test('a module that cannot be loaded is unavailable', async () => {
    const r = await enrol('module');
    editRecord(r.file, (d) => (d.module = '/nonexistent/libnope-pkcs11.so'));
    await assert.rejects(pkcs11Factor.deriveSecret(enrolmentIdBytes(r.enrolment.record), inputs(PIN)), deviceError('unavailable', /cannot load the PKCS#11 module/));
  });

  test('an altered wrapped secret or IV is refused by the token; malformed fields are FormatErrors', async () => {
    const r = await enrol('tamper');
    const params = enrolmentIdBytes(r.enrolment.record);
    const original = readFileSync(r.file, 'utf8');
    const flip = (b64: string, i: number) => {
      const b = Buffer.from(b64, 'base64');
      b[i]! ^= 1;
      return b.toString('base64');
    };
    for (const [field, index] of [['wrapped', 0], ['wrapped', 47], ['iv', 5]] as const) {
      writeFileSync(r.file, original);
      editRecord(r.file, (d) => (d[field] = flip(d[field] as string, index)));
      await assert.rejects(pkcs11Factor.deriveSecret(params, inputs(PIN)), deviceError('refused', /could not unwrap/), `${field}[${index}]`);
    }
    const malformed: [string, (d: Record<string, unknown>) => void][] = [
      ['short iv', (d) => (d.iv = Buffer.alloc(8).toString('base64'))],
      ['short wrapped', (d) => (d.wrapped = Buffer.alloc(32).toString('base64'))],
      ['not base64', (d) => (d.wrapped = '!!!')],
      ['other mechanism', (d) => (d.mechanism = 'CKM_AES_CBC')],
      ['no module', (d) => delete d.module],
      ['long token label', (d) => (d.tokenLabel = 'x'.repeat(33))],
      ['key id too long', (d) => (d.keyId = Buffer.alloc(65).toString('base64'))],
    ];
    for (const [what, change] of malformed) {
      writeFileSync(r.file, original);
      editRecord(r.file, change);
      await assert.rejects(pkcs11Factor.deriveSecret(params, inputs(PIN)), biosealError('E_FORMAT'), what);
    }
    writeFileSync(r.file, original);
    assert.equal((await pkcs11Factor.deriveSecret(params, inputs(PIN)))?.length, 32);
  });

  test('re-enrolling a name reuses its key but revokes slots made with the old enrolment', async () => {
    const old = await enrol('again');
    const oldParams = enrolmentIdBytes(old.enrolment.record);
    await assert.rejects(enrol('again'), biosealError('E_EXISTS', /--force/));
    const renewed = await enrol('again', { overwrite: true });
    assert.equal(renewed.createdKey, false);
    assert.deepEqual(renewed.enrolment.key.id, old.enrolment.key.id);
    assert.equal(await pkcs11Factor.deriveSecret(oldParams, inputs(PIN)), undefined);
    assert.equal((await pkcs11Factor.deriveSecret(enrolmentIdBytes(renewed.enrolment.record), inputs(PIN)))?.length, 32);
  });

  test('enrolment refuses a wrong PIN, an absent token and an unsuitable existing key, and writes nothing', async () => {
    await assert.rejects(enrol('bad-pin', { pin: '123123' }), deviceError('refused', /wrong PIN/));
    await assert.rejects(enrol('no-token', { token: 'absent' }), deviceError('unavailable', /no PKCS#11 token labelled "absent"/));
    await assert.rejects(enrol('no-module', { module: '/nonexistent/lib.so' }), deviceError('unavailable', /cannot load/));
    hsm.aes128Key(TOKEN, PIN, 'small');
    await assert.rejects(enrol('small', { keyLabel: 'small' }), biosealError('E_USAGE', /not an AES-256 key/));
    await assert.rejects(enrol('bad-label', { token: 'trailing ' }), biosealError('E_USAGE', /spaces/));
    for (const name of ['bad-pin', 'no-token', 'no-module', 'small']) {
      await assert.rejects(pkcs11Factor.createShare(inputs(PIN, name)), biosealError('E_USAGE', /no pkcs11 enrolment/));
    }
  });

  test('an existing suitable key can be named with --key-label', async () => {
    const r = await enrol('named', { keyLabel: 'bioseal:default' });
    assert.equal(r.createdKey, false);
    assert.deepEqual(r.enrolment.key.id, main.enrolment.key.id);
    assert.equal((await pkcs11Factor.createShare(inputs(PIN, 'named'))).secret.length, 32);
  });

  test('a wrapped secret moved into another enrolment of the same key is refused (bound to its enrolment id)', async () => {
    const a = await enrol('bound-a', { keyLabel: 'bioseal:default' });
    const b = await enrol('bound-b', { keyLabel: 'bioseal:default' });
    assert.deepEqual(a.enrolment.key.id, b.enrolment.key.id);
    const fromA = JSON.parse(readFileSync(a.file, 'utf8')).data;
    editRecord(b.file, (d) => {
      d.iv = fromA.iv;
      d.wrapped = fromA.wrapped;
    });
    await assert.rejects(pkcs11Factor.deriveSecret(enrolmentIdBytes(b.enrolment.record), inputs(PIN)), deviceError('refused', /could not unwrap/));
    assert.equal((await pkcs11Factor.deriveSecret(enrolmentIdBytes(a.enrolment.record), inputs(PIN)))?.length, 32);
  });
});
