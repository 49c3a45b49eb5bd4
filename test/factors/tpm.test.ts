/**
 * The `tpm` factor (src/factors/tpm.ts) and TPM enrolments
 * (src/enrolment/tpm.ts) against a real software TPM started here: a model
 * sealed under "tpm" opens on that TPM, and not after a bound PCR changes,
 * not on another TPM, not when the TPM cannot be reached; a damaged record is
 * a typed error; re-enrolling revokes; every unseal counts against the
 * attempt limiter, refusals included, and a success clears the count.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

// Cheap Argon2id for the recovery slots sealed alongside tpm slots (read when a slot is made).
process.env.BIOSEAL_ARGON2_MEMORY_KIB = '8192';
delete process.env.BIOSEAL_TPM_TCTI;

import { BiosealError, DeviceError } from '../../src/errors.js';
import { enrolTpm } from '../../src/enrolment/tpm.js';
import { loadEnrolmentRecord } from '../../src/enrolment/record-store.js';
import { tpmFactor } from '../../src/factors/tpm.js';
import { AttemptLimiter } from '../../src/factors/rate-limit.js';
import { checkPolicyBranches, findFactor } from '../../src/factors/registry.js';
import { inspectModel, openModel, sealModel } from '../../src/index.js';
import { parsePolicy } from '../../src/policy/expression.js';
import { biosealError, tempHome } from '../enrolment/helpers.js';
import { startTestTpm, type TestTpm } from '../helpers/swtpm.js';
import { lastFailureAt } from '../helpers/attempts.js';

const model = new Uint8Array(randomBytes(50_000));

/** Opens `file` with the given inputs: true, or the error code. */
async function opens(file: string, o: { home: string; tpmTcti?: string; passphrase?: string }): Promise<true | string> {
  try {
    const opened = await openModel(file, { ...o, useIdentities: false });
    try {
      assert.deepEqual(opened.bytes, model);
    } finally {
      opened.release();
    }
    return true;
  } catch (error) {
    if (error instanceof BiosealError) return error.code;
    throw error;
  }
}

function recordFile(home: string, name = 'default'): string {
  return path.join(home, 'enrolments', 'tpm', `${name}.json`);
}

/** Rewrites a record's data through `change`. */
function editRecord(home: string, change: (data: Record<string, any>) => void, name = 'default'): void {
  const o = JSON.parse(readFileSync(recordFile(home, name), 'utf8'));
  change(o.data);
  writeFileSync(recordFile(home, name), JSON.stringify(o));
}

describe('the tpm factor', () => {
  let tpm: TestTpm;
  let other: TestTpm;
  const h = tempHome('bioseal-tpm-factor-');
  const file = (name: string) => path.join(path.dirname(h.home), name);
  let id = '';

  before(async () => {
    [tpm, other] = await Promise.all([startTestTpm(), startTestTpm()]);
    const r = await enrolTpm({ home: h.home, name: 'default', pcrs: [0, 7], tcti: tpm.tcti });
    id = r.enrolment.record.id;
  });
  after(async () => {
    await Promise.all([tpm?.dispose(), other?.dispose()]);
    h.cleanup();
  });

  test('is registered as "tpm", may stand alone, and is tried before a passphrase', () => {
    assert.equal(findFactor('tpm'), tpmFactor);
    assert.equal(tpmFactor.standalone, true);
    assert.ok(tpmFactor.cost < findFactor('recovery')!.cost);
    assert.doesNotThrow(() => checkPolicyBranches(parsePolicy('tpm | recovery')));
    assert.doesNotThrow(() => checkPolicyBranches(parsePolicy('face & tpm')));
  });

  test('the record (0600) holds the sealed object, the PCR selection and the primary template, never the secret', async () => {
    assert.equal(statSync(recordFile(h.home)).mode & 0o777, 0o600);
    const record = loadEnrolmentRecord(h.home, 'tpm', 'default');
    assert.deepEqual(Object.keys(record.data).sort(), ['pcrBank', 'pcrs', 'primary', 'private', 'public']);
    assert.equal(record.data.pcrBank, 'sha256');
    assert.deepEqual(record.data.pcrs, [0, 7]);
    assert.deepEqual(record.data.primary, { hierarchy: 'owner', algorithm: 'ecc256:aes128cfb', hash: 'sha256', attributes: 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda|restricted|decrypt' });
    const share = await tpmFactor.createShare({ home: h.home, tpmTcti: tpm.tcti });
    const text = readFileSync(recordFile(h.home), 'utf8');
    const secret = Buffer.from(share.secret);
    for (const form of [secret.toString('hex'), secret.toString('base64')]) assert.ok(!text.includes(form), 'the secret must not be in the record');
  });

  test('slot parameters: enrolment id and PCR bitmap (19 bytes); inspect shows both; malformed ones are E_FORMAT', async () => {
    const share = await tpmFactor.createShare({ home: h.home, tpmTcti: tpm.tcti });
    assert.equal(share.params.length, 19);
    assert.equal(share.secret.length, 32);
    assert.deepEqual(tpmFactor.describe(share.params), { enrolment: id, pcrs: [0, 7], pcrBank: 'sha256' });
    assert.deepEqual(await tpmFactor.deriveSecret(share.params, { home: h.home, tpmTcti: tpm.tcti }), share.secret);
    for (const bad of [new Uint8Array(0), share.params.subarray(1), new Uint8Array(20)]) {
      await assert.rejects(tpmFactor.deriveSecret(bad, { home: h.home, tpmTcti: tpm.tcti }), biosealError('E_FORMAT'));
      assert.throws(() => tpmFactor.describe(bad), biosealError('E_FORMAT'));
    }
    const unknown = new Uint8Array(share.params);
    unknown[0]! ^= 0xff;
    assert.equal(await tpmFactor.deriveSecret(unknown, { home: h.home, tpmTcti: tpm.tcti }), undefined, 'an enrolment not on this machine: the slot is skipped');
  });

  test('sealModel "tpm | recovery": opens through the TPM alone; inspect names the enrolment and PCRs', async () => {
    await sealModel({ input: model, output: file('m.bseal'), policies: ['tpm | recovery'], passphrase: 'recovery words', home: h.home, tpmTcti: tpm.tcti, useIdentities: false });
    assert.equal(await opens(file('m.bseal'), { home: h.home, tpmTcti: tpm.tcti }), true);
    const d = await inspectModel(file('m.bseal'));
    assert.deepEqual(d.slots.map((s) => s.factors), [['tpm'], ['recovery']]);
    assert.deepEqual(d.slots[0]!.details[0], { enrolment: id, pcrs: [0, 7], pcrBank: 'sha256' });
  });

  test('survives a TPM restart', async () => {
    await tpm.restart();
    assert.equal(await opens(file('m.bseal'), { home: h.home, tpmTcti: tpm.tcti }), true);
  });

  test('after a bound PCR is extended: E_DEVICE "PCR values changed", the recovery slot still opens; a reboot restores it', async () => {
    tpm.extendPcr(7);
    await assert.rejects(openModel(file('m.bseal'), { home: h.home, tpmTcti: tpm.tcti, useIdentities: false }), (e: unknown) => {
      assert.ok(e instanceof DeviceError, String(e));
      assert.equal(e.failure, 'refused');
      assert.match(e.message, /PCR values changed since enrolment/);
      return true;
    });
    assert.equal(await opens(file('m.bseal'), { home: h.home, tpmTcti: tpm.tcti, passphrase: 'recovery words' }), true);
    await tpm.restart();
    assert.equal(await opens(file('m.bseal'), { home: h.home, tpmTcti: tpm.tcti }), true);
  });

  test('on another TPM (the record copied to a home there): E_DEVICE "belongs to another TPM"', async () => {
    const elsewhere = tempHome('bioseal-tpm-elsewhere-');
    try {
      cpSync(path.join(h.home, 'enrolments'), path.join(elsewhere.home, 'enrolments'), { recursive: true });
      await assert.rejects(openModel(file('m.bseal'), { home: elsewhere.home, tpmTcti: other.tcti, useIdentities: false }), (e: unknown) => {
        assert.ok(e instanceof DeviceError && e.failure === 'refused', String(e));
        assert.match(e.message, /belongs to another TPM/);
        return true;
      });
    } finally {
      elsewhere.cleanup();
    }
  });

  test('a TPM that cannot be reached: E_DEVICE unavailable; without any TCTI or device, E_DEVICE saying so', async () => {
    const gone = await startTestTpm();
    const tcti = gone.tcti;
    await gone.dispose();
    await assert.rejects(openModel(file('m.bseal'), { home: h.home, tpmTcti: tcti, useIdentities: false }), (e: unknown) => e instanceof DeviceError && e.failure === 'unavailable' && /not reachable/.test(e.message));
    await assert.rejects(tpmFactor.createShare({ home: h.home, tpmTcti: 'bad tcti' }), biosealError('E_USAGE', /not a TCTI/));
    new AttemptLimiter(h.home).recordSuccess(`tpm:${id}`);
  });

  test('a damaged record is a typed error, never a crash', async () => {
    const share = await tpmFactor.createShare({ home: h.home, tpmTcti: tpm.tcti });
    const original = readFileSync(recordFile(h.home), 'utf8');
    const inputs = { home: h.home, tpmTcti: tpm.tcti };
    const damage: [string, (d: Record<string, any>) => void, string, RegExp?][] = [
      ['public not base64', (d) => (d.public = '!!!'), 'E_FORMAT', /public/],
      ['public not a TPM2B', (d) => (d.public = Buffer.from([0, 9, 1]).toString('base64')), 'E_FORMAT', /TPM2B/],
      ['private missing', (d) => delete d.private, 'E_FORMAT', /private/],
      ['PCR out of range', (d) => (d.pcrs = [0, 24]), 'E_FORMAT', /pcrs/],
      ['PCRs repeated', (d) => (d.pcrs = [7, 7]), 'E_FORMAT', /pcrs/],
      ['PCRs other than the slot\'s', (d) => (d.pcrs = [7]), 'E_FORMAT', /other PCRs than the slot/],
      ['another bank', (d) => (d.pcrBank = 'sha1'), 'E_FORMAT', /sha256/],
      ['another hierarchy', (d) => (d.primary.hierarchy = 'endorsement'), 'E_FORMAT', /hierarchy/],
      ['an option smuggled into the template', (d) => (d.primary.algorithm = 'ecc256:aes128cfb -P x'), 'E_FORMAT', /algorithm/],
      ['the sealed blob changed', (d) => {
        const b = Buffer.from(d.private, 'base64');
        b[b.length - 4]! ^= 1;
        d.private = b.toString('base64');
      }, 'E_DEVICE', /another TPM/],
    ];
    try {
      for (const [what, change, code, message] of damage) {
        writeFileSync(recordFile(h.home), original);
        editRecord(h.home, change);
        await assert.rejects(tpmFactor.deriveSecret(share.params, inputs), biosealError(code, message), what);
      }
      writeFileSync(recordFile(h.home), original);
      editRecord(h.home, (d) => (d.public = 'AAA'));
      await assert.rejects(tpmFactor.createShare(inputs), biosealError('E_FORMAT'), 'sealing with a damaged record');
      // A record that is not even an enrolment record is skipped: the slot cannot open (E_AUTH).
      writeFileSync(recordFile(h.home), '{"format": "something else"');
      assert.equal(await tpmFactor.deriveSecret(share.params, inputs), undefined);
      assert.equal(await opens(file('m.bseal'), inputs), 'E_AUTH');
    } finally {
      writeFileSync(recordFile(h.home), original);
      new AttemptLimiter(h.home).recordSuccess(`tpm:${id}`);
    }
    assert.equal(await opens(file('m.bseal'), inputs), true);
  });

  test('rate limiting: refusals count, the 6th attempt waits without touching the TPM, a success clears the count', async () => {
    const key = `tpm:${id}`;
    const limiter = new AttemptLimiter(h.home);
    assert.equal(limiter.failures(key), 0);
    tpm.extendPcr(0);
    for (let i = 1; i <= 5; i++) {
      assert.equal(await opens(file('m.bseal'), { home: h.home, tpmTcti: tpm.tcti }), 'E_DEVICE');
      assert.equal(limiter.failures(key), i);
    }
    await tpm.restart(); // PCRs back to their enrolled values: the TPM would unseal now
    await assert.rejects(tpmFactor.deriveSecret((await inspectParams()), { home: h.home, tpmTcti: tpm.tcti }), biosealError('E_RATE_LIMIT', /too many failed TPM attempts/));
    assert.equal(limiter.failures(key), 5, 'a refused attempt is not counted again');
    assert.equal(new AttemptLimiter(h.home, undefined, () => lastFailureAt(h.home, key)).waitMs(key), 30_000, 'the next attempt waits 30 s from the last failure');
    limiter.recordSuccess(key); // stands in for waiting out the delay
    assert.equal(await opens(file('m.bseal'), { home: h.home, tpmTcti: tpm.tcti }), true);
    tpm.extendPcr(0);
    assert.equal(await opens(file('m.bseal'), { home: h.home, tpmTcti: tpm.tcti }), 'E_DEVICE');
    assert.equal(limiter.failures(key), 1);
    await tpm.restart();
    assert.equal(await opens(file('m.bseal'), { home: h.home, tpmTcti: tpm.tcti }), true);
    assert.equal(limiter.failures(key), 0, 'a success clears the count');
  });

  test('re-enrolling the name revokes the old enrolment: its slots no longer open, the recovery slot still does', async () => {
    await assert.rejects(enrolTpm({ home: h.home, name: 'default', pcrs: [], tcti: tpm.tcti }), biosealError('E_EXISTS', /--force/));
    await enrolTpm({ home: h.home, name: 'default', pcrs: [], tcti: tpm.tcti, overwrite: true });
    assert.equal(await opens(file('m.bseal'), { home: h.home, tpmTcti: tpm.tcti }), 'E_AUTH');
    assert.equal(await opens(file('m.bseal'), { home: h.home, tpmTcti: tpm.tcti, passphrase: 'recovery words' }), true);
  });

  test('sealing with no enrolment of that name is E_USAGE naming the command to run', async () => {
    await assert.rejects(
      sealModel({ input: model, output: file('none.bseal'), policies: ['tpm'], home: h.home, tpmTcti: tpm.tcti, enrolments: { tpm: 'laptop' }, useIdentities: false }),
      biosealError('E_USAGE', /no tpm enrolment named "laptop".*bioseal enroll tpm/),
    );
  });

  /** The tpm slot parameters of m.bseal, as the container stores them. */
  async function inspectParams(): Promise<Uint8Array> {
    const { readSealedInfo } = await import('../../src/container/open.js');
    const info = await readSealedInfo(file('m.bseal'));
    return info.header.slots[0]!.factors[0]!.params;
  }
});
