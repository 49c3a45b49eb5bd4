/**
 * The fleet verification service end to end over HTTP on 127.0.0.1, with
 * real CKKS (node-seal) on both sides: devices register and enrol encrypted
 * templates, the service returns encrypted scores that only the device can
 * read, and the numbers come out right. Then what it refuses: unsigned,
 * wrongly signed, replayed, stale and revoked requests, oversized and
 * garbled uploads, secret keys, rolled-back manifests and audit logs that
 * shrank or were rewritten. Finally the stored data is searched for any
 * secret key. The 1:1 flow runs on SQLite and on a throwaway PostgreSQL.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { ed25519 } from '@noble/curves/ed25519.js';
import { openAuditLog } from '../../src/audit/index.js';
import { HeContext, HeEnroller, HeKeyHolder, innerProduct, readEvaluationKeys, unitVector } from '../../src/he/index.js';
import { FleetClient, LIMITS, PostgresFleetStore, signRequest, SqliteFleetStore, startFleetService, type FleetService, type FleetStore } from '../../src/fleet/index.js';
import { base64 } from '../../src/fleet/http.js';
import { manifestDocument, signManifest } from '../../src/updates/manifest.js';
import { serializeDocument } from '../../src/updates/document.js';
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js';

const TOKEN = 'o'.repeat(43);
const DIMS = 128;
const dir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-fleet-service-'));
const vector = (phase: number, d = DIMS) => unitVector(Array.from({ length: d }, (_, i) => Math.sin(i * 0.37 + phase) + 0.3 * Math.cos(i * 1.3 * phase)));

let ctx: HeContext;
let phoneKeys: HeKeyHolder;
let holderKeys: HeKeyHolder;
let postgres: TestPostgres;

before(async () => {
  ctx = await HeContext.create();
  phoneKeys = HeKeyHolder.generate(ctx);
  holderKeys = HeKeyHolder.generate(ctx, { search: true });
  postgres = await startTestPostgres();
});

after(() => {
  phoneKeys?.dispose();
  holderKeys?.dispose();
  ctx?.dispose();
  postgres?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(store: FleetStore, home: string): Promise<FleetService> {
  return startFleetService({ home, port: 0, store, operatorToken: TOKEN, onInternalError: (e) => console.error(e) });
}

const client = (service: FleetService, deviceId: string, operatorToken = TOKEN) =>
  new FleetClient({ url: service.url, deviceId, secretKey: ed25519.utils.randomSecretKey(), operatorToken });

async function expectError(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: any) => {
    assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
    return true;
  });
}

/** Sends exactly these bytes and headers. */
async function send(service: FleetService, method: string, path: string, body: Uint8Array | string, headers: Record<string, string>) {
  const res = await fetch(service.url + path, { method, body: method === 'GET' ? undefined : body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.status, json: (await res.json()) as any };
}

for (const backend of ['sqlite', 'postgres'] as const) {
  test(`${backend}: register, enrol, verify 1:1: the device decrypts the plaintext score within 1e-4`, async () => {
    const home = mkdtempSync(path.join(dir, 'home-'));
    const store = backend === 'sqlite' ? await SqliteFleetStore.open({ home }) : await PostgresFleetStore.connect({ url: postgres.createDatabase('service_1to1') });
    const service = await serve(store, home);
    try {
      assert.equal(service.backend, backend);
      const phone = client(service, 'phone-1');
      const registered = await phone.register(phoneKeys.evaluationKeys());
      assert.equal(registered.search, false);
      assert.deepEqual((await store.getDevice('phone-1'))?.publicKey, phone.publicKey);
      const enrolled = vector(1);
      await phone.enrol('alice', phoneKeys.encryptMatchVector(enrolled));
      for (const [fresh, label] of [
        [vector(1.05), 'same person'],
        [vector(4), 'someone else'],
      ] as const) {
        const encrypted = await phone.verify('alice', phoneKeys.encryptMatchVector(fresh));
        const score = phoneKeys.decryptMatchScore(encrypted);
        const plain = innerProduct(enrolled, fresh);
        assert.ok(Math.abs(score - plain) < 1e-4, `${label}: ${score} vs ${plain}`);
      }
      await expectError(phone.verify('bob', phoneKeys.encryptMatchVector(enrolled)), 'E_NOT_FOUND');
      await expectError(phone.enrol('alice', phoneKeys.encryptMatchVector(enrolled)), 'E_EXISTS');
    } finally {
      await service.close();
      await store.close();
    }
  });
}

describe('the service on SQLite', () => {
  let home: string;
  let store: SqliteFleetStore;
  let service: FleetService;
  let phone: FleetClient;
  const enrolled = vector(2);

  before(async () => {
    home = mkdtempSync(path.join(dir, 'home-'));
    store = await SqliteFleetStore.open({ home });
    service = await serve(store, home);
    phone = client(service, 'phone-1');
    await phone.register(phoneKeys.evaluationKeys());
    await phone.enrol('alice', phoneKeys.encryptMatchVector(enrolled));
  });
  after(async () => {
    await service.close();
    await store.close();
  });

  test('health answers without credentials; unknown routes and methods are typed errors', async () => {
    assert.deepEqual((await send(service, 'GET', '/v1/health', '', {})).json, { ok: true, backend: 'sqlite' });
    const missing = await send(service, 'GET', '/v1/nothing', '', {});
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'E_NOT_FOUND');
    assert.equal((await send(service, 'PUT', '/v1/verify', '{}', {})).json.error.code, 'E_METHOD');
  });

  test('registration needs the operator token and a signature by the registering key', async () => {
    const keys = phoneKeys.evaluationKeys();
    await expectError(client(service, 'phone-2', 'x'.repeat(43)).register(keys), 'E_AUTH');
    const secretKey = ed25519.utils.randomSecretKey();
    const body = JSON.stringify({ id: 'phone-2', public_key: Buffer.from(ed25519.getPublicKey(ed25519.utils.randomSecretKey())).toString('hex'), evaluation_keys: base64(keys) });
    const signedByOther = signRequest({ method: 'POST', path: '/v1/devices', body: new TextEncoder().encode(body), deviceId: 'phone-2', secretKey });
    const r = await send(service, 'POST', '/v1/devices', body, { ...signedByOther, authorization: `Bearer ${TOKEN}` });
    assert.equal(r.status, 401);
    assert.equal(r.json.error.code, 'E_AUTH');
    await expectError(client(service, 'phone-1').register(keys), 'E_EXISTS');
    const badId = JSON.stringify({ id: 'bad id!', public_key: Buffer.from(ed25519.getPublicKey(secretKey)).toString('hex'), evaluation_keys: base64(keys) });
    const signedBadId = signRequest({ method: 'POST', path: '/v1/devices', body: new TextEncoder().encode(badId), deviceId: 'phone-2', secretKey });
    assert.equal((await send(service, 'POST', '/v1/devices', badId, { ...signedBadId, authorization: `Bearer ${TOKEN}` })).json.error.code, 'E_USAGE');
    assert.equal(await store.getDevice('phone-2'), undefined);
  });

  test('the service never takes a secret key: offered as evaluation keys or as a template, it is E_FORMAT', async () => {
    const secret = phoneKeys.exportSecretKey();
    await expectError(client(service, 'phone-3').register(secret), 'E_FORMAT');
    await expectError(phone.enrol('mallory', secret), 'E_FORMAT');
    assert.equal(await store.getDevice('phone-3'), undefined);
  });

  test('garbled envelopes and other parameter sets are 400 E_FORMAT', async () => {
    const probe = phoneKeys.encryptMatchVector(vector(2.1));
    const flipped = probe.slice();
    flipped[flipped.length >> 1]! ^= 0x40;
    await expectError(phone.verify('alice', flipped), 'E_FORMAT');
    await expectError(phone.verify('alice', probe.subarray(0, 1000)), 'E_FORMAT');
    // Another parameter fingerprint, with the digest recomputed so only the parameters differ.
    const foreign = probe.slice();
    foreign[8]! ^= 1;
    foreign.set(createHash('sha256').update(foreign.subarray(0, foreign.length - 32)).digest(), foreign.length - 32);
    await expectError(phone.verify('alice', foreign), 'E_FORMAT');
    await expectError(phone.verify('alice', phoneKeys.encryptMatchVector(vector(2, 64))), 'E_FORMAT');
    const notBase64 = await phone.request('POST', '/v1/verify', { person: 'alice', probe: 'not base64!' });
    assert.equal(notBase64.status, 400);
    assert.equal(notBase64.json.error.code, 'E_FORMAT');
  });

  test('requests with a wrong signature, a replay, a stale timestamp or no signature are refused with E_AUTH', async () => {
    const probe = base64(phoneKeys.encryptMatchVector(vector(2.2)));
    const body = new TextEncoder().encode(JSON.stringify({ person: 'alice', probe }));
    const secretKey = (phone as any).options.secretKey as Uint8Array;
    const headers = signRequest({ method: 'POST', path: '/v1/verify', body, deviceId: 'phone-1', secretKey });
    const first = await send(service, 'POST', '/v1/verify', body, headers);
    assert.equal(first.status, 200, JSON.stringify(first.json));
    const replay = await send(service, 'POST', '/v1/verify', body, headers);
    assert.equal(replay.status, 401);
    assert.equal(replay.json.error.code, 'E_AUTH');
    assert.equal(replay.json.error.message, 'device authentication failed');

    const fresh = signRequest({ method: 'POST', path: '/v1/verify', body, deviceId: 'phone-1', secretKey });
    const changed = new TextEncoder().encode(JSON.stringify({ person: 'bob', probe }));
    assert.equal((await send(service, 'POST', '/v1/verify', changed, fresh)).json.error.code, 'E_AUTH', 'the body was changed after signing');
    const otherPath = signRequest({ method: 'POST', path: '/v1/enrolments', body, deviceId: 'phone-1', secretKey });
    assert.equal((await send(service, 'POST', '/v1/verify', body, otherPath)).json.error.code, 'E_AUTH');
    const wrongKey = signRequest({ method: 'POST', path: '/v1/verify', body, deviceId: 'phone-1', secretKey: ed25519.utils.randomSecretKey() });
    assert.equal((await send(service, 'POST', '/v1/verify', body, wrongKey)).json.error.code, 'E_AUTH');
    const stale = signRequest({ method: 'POST', path: '/v1/verify', body, deviceId: 'phone-1', secretKey, timestamp: Date.now() - 10 * 60 * 1000 });
    assert.equal((await send(service, 'POST', '/v1/verify', body, stale)).json.error.code, 'E_AUTH');
    assert.equal((await send(service, 'POST', '/v1/verify', body, {})).json.error.code, 'E_AUTH');
    const unknown = signRequest({ method: 'POST', path: '/v1/verify', body, deviceId: 'phone-9', secretKey });
    assert.equal((await send(service, 'POST', '/v1/verify', body, unknown)).json.error.code, 'E_AUTH');
  });

  test('an upload declared larger than its route allows is refused with 413 before its body is read', async () => {
    const headers = signRequest({ method: 'POST', path: '/v1/verify', body: new Uint8Array(0), deviceId: 'phone-1', secretKey: (phone as any).options.secretKey });
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${service.url}/v1/verify`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-length': String(64 * 1024 * 1024) } });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      });
      req.on('error', reject);
      // Headers only: not one byte of the 64 MiB follows.
      req.flushHeaders();
    });
    assert.equal(answer.status, 413);
    assert.equal(JSON.parse(answer.body).error.code, 'E_TOO_LARGE');
    // A body that grows past the limit while streaming (no declared length) is cut off too.
    const big = await phone.request('POST', '/v1/audit-heads', { head: 'x'.repeat(LIMITS.auditHead) });
    assert.equal(big.status, 413);
  });

  test('1:N: a station adds a gallery group under the key holder\'s key; only the holder searches and reads the scores', async () => {
    const holder = client(service, 'holder');
    assert.equal((await holder.register(holderKeys.evaluationKeys())).search, true);
    const station = client(service, 'station');
    await station.register(phoneKeys.evaluationKeys());
    const holderPublic = readEvaluationKeys(ctx, holderKeys.evaluationKeys());
    const enroller = new HeEnroller(holderPublic);
    const people = [vector(5, 64), vector(6, 64), vector(7, 64)];
    try {
      const group = enroller.encryptGalleryGroup(people);
      await expectError(station.addGalleryGroup('holder', ['ann', 'ben'], group), 'E_FORMAT');
      await expectError(station.addGalleryGroup('station', ['ann', 'ben', 'cy'], group), 'E_USAGE');
      await station.addGalleryGroup('holder', ['ann', 'ben', 'cy'], group);
    } finally {
      enroller.dispose();
      holderPublic.dispose();
    }
    const probe = vector(6.02, 64);
    const results = await holder.search(holderKeys.encryptSearchQuery(probe));
    assert.equal(results.length, 1);
    assert.deepEqual(results[0]!.labels, ['ann', 'ben', 'cy']);
    const scores = holderKeys.decryptSearchScores(results[0]!.scores);
    people.forEach((p, i) => assert.ok(Math.abs(scores[i]! - innerProduct(p, probe)) < 1e-4, `template ${i}: ${scores[i]} vs ${innerProduct(p, probe)}`));
    await expectError(station.search(holderKeys.encryptSearchQuery(probe)), 'E_USAGE');
  });

  test('model manifests: the operator publishes signed ones, devices fetch the latest; rollbacks, bad signatures and strangers are refused', async () => {
    const publisher = ed25519.utils.randomSecretKey();
    const now = Date.now();
    const manifest = (version: number, expiresAt = new Date(now + 86_400_000)) =>
      serializeDocument(
        manifestDocument(
          signManifest({ name: 'face-detector', version, file: { name: 'face-detector.bseal', size: 1234, sha256: 'ab'.repeat(32) }, policy: 'keyfile | recovery', issuedAt: new Date(now - 60_000), expiresAt }, publisher),
        ),
      );
    const operator = client(service, 'operator');
    assert.deepEqual(await operator.publishManifest(manifest(2)), { name: 'face-detector', version: 2, digest: 'ab'.repeat(32) });
    const latest = await phone.latestManifest('face-detector');
    assert.equal(latest.version, 2);
    assert.equal(latest.manifest, manifest(2), 'the manifest file exactly as published (Ed25519 signatures are deterministic)');
    await expectError(operator.publishManifest(manifest(1)), 'E_ROLLBACK');
    const forged = manifest(3).replace(/"signature": "(.)/, (_, c: string) => `"signature": "${c === '0' ? '1' : '0'}`);
    await expectError(operator.publishManifest(forged), 'E_SIGNATURE');
    await expectError(operator.publishManifest(manifest(4, new Date(now - 1000))), 'E_EXPIRED');
    await expectError(operator.publishManifest(manifest(3).replace('\n', '\n ')), 'E_FORMAT');
    await expectError(client(service, 'operator', 'y'.repeat(43)).publishManifest(manifest(3)), 'E_AUTH');
    await expectError(phone.latestManifest('no-such-model'), 'E_NOT_FOUND');
  });

  test('audit heads: a device reports its signed heads; a shrunk or rewritten log is 422 E_TAMPERED', async () => {
    const deviceHome = mkdtempSync(path.join(dir, 'device-'));
    const log = await openAuditLog(deviceHome);
    try {
      for (let i = 0; i < 3; i++) log.append({ type: 'unlock', actor: `user-${i}` });
      const first = log.headJson();
      assert.equal(await phone.postAuditHead(first), 'recorded');
      assert.equal(await phone.postAuditHead(first), 'unchanged');
      for (let i = 0; i < 4; i++) log.append({ type: 'lock', actor: `user-${i}` });
      const second = log.headJson();
      await expectError(phone.postAuditHead(second), 'E_TAMPERED');
      assert.equal(await phone.postAuditHead(second, log.consistencyProof(first.size, second.size)), 'recorded');
      await expectError(phone.postAuditHead(first), 'E_TAMPERED');
      await expectError(phone.postAuditHead({ ...second, root: '00'.repeat(32) }), 'E_FORMAT');
      assert.equal((await store.latestAuditHead('phone-1'))?.size, second.size);
    } finally {
      log.close();
    }
  });

  test('a revoked device is refused from then on', async () => {
    const tablet = client(service, 'tablet');
    await tablet.register(phoneKeys.evaluationKeys());
    await tablet.enrol('carol', phoneKeys.encryptMatchVector(enrolled));
    const revoke = await tablet.request('POST', '/v1/devices/tablet/revoke', undefined, { operator: true, sign: false });
    assert.deepEqual(revoke.json, { id: 'tablet', revoked: true });
    await expectError(tablet.verify('carol', phoneKeys.encryptMatchVector(enrolled)), 'E_AUTH');
    const listed = await tablet.request('GET', '/v1/devices', undefined, { operator: true, sign: false });
    assert.ok(listed.json.devices.find((d: any) => d.id === 'tablet').revoked_at);
  });

  test('what the service stored holds no secret key: only evaluation keys, templates and gallery groups', async () => {
    const db = new Database(path.join(home, 'fleet.db'), { readonly: true });
    const secretPart = phoneKeys.exportSecretKey();
    const holderSecret = holderKeys.exportSecretKey();
    const kinds = new Set<number>();
    let blobs = 0;
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
      for (const table of tables) {
        for (const row of db.prepare(`SELECT * FROM "${table}"`).all() as Record<string, unknown>[]) {
          for (const value of Object.values(row)) {
            if (!(value instanceof Uint8Array)) continue;
            blobs++;
            if (value.subarray(0, 4).toString() === 'BSHE') kinds.add(value[5]!);
            // The secret keys' coefficients appear nowhere, in any form of envelope.
            for (const secret of [secretPart, holderSecret]) assert.equal(Buffer.from(value).indexOf(Buffer.from(secret.subarray(100_000, 100_064))), -1, `a secret key in ${table}`);
          }
        }
      }
    } finally {
      db.close();
    }
    assert.ok(blobs > 5);
    assert.deepEqual([...kinds].sort((a, b) => a - b), [1, 4, 16], 'matchVector, galleryGroup and evaluationKeys only (secretKey is 17)');
  });
});
