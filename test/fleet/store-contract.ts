/**
 * The fleet store's contract: what a caller may rely on from either
 * database. `storeContract` registers the same tests for each backend
 * (store.test.ts calls it with SQLite and with a throwaway PostgreSQL).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { leafHash, MerkleTree } from '../../src/audit/merkle.js';
import type { FleetStore, NewAuditHead } from '../../src/fleet/store/index.js';

/** A fresh, empty store, and a way to open a second handle on the same database. */
export interface StoreFixture {
  readonly store: FleetStore;
  /**
   * A second writer for the concurrency test: another connection pool (PostgreSQL), or the
   * same store (SQLite: a process keeps one connection, whose queue orders the writers).
   */
  another(): Promise<FleetStore>;
  /** A new handle on the same database. */
  reopen(): Promise<FleetStore>;
  /** Closes every handle and removes the database. */
  dispose(): Promise<void>;
}

const bytes = (n: number, fill?: number) => (fill === undefined ? new Uint8Array(randomBytes(n)) : new Uint8Array(n).fill(fill));
const fingerprint = bytes(32, 7);
const device = (id: string) => ({ id, publicKey: bytes(32), evaluationKeys: bytes(1000), fingerprint });

async function rejects(promise: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: any) => {
    assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

/** A device's audit log: a real RFC 6962 tree, heads at any size with proofs between them. */
function auditLog(seed: string, entries = 40) {
  const tree = MerkleTree.fromLeafHashes(Array.from({ length: entries }, (_, i) => leafHash(new TextEncoder().encode(`${seed}/${i}`))));
  const keyId = bytes(32, seed.charCodeAt(0));
  return {
    head: (deviceId: string, size: number): NewAuditHead => ({ deviceId, size, root: tree.root(size), timestamp: 1_700_000_000_000 + size, keyId, signature: bytes(64) }),
    proof: (from: number, to: number) => tree.consistencyProof(from, to),
  };
}

/** Registers the contract's tests for one backend. */
export function storeContract(backend: string, fresh: () => Promise<StoreFixture>): void {
  const withStore = (name: string, body: (store: FleetStore, fixture: StoreFixture) => Promise<void>) =>
    test(name, async () => {
      const fixture = await fresh();
      try {
        await body(fixture.store, fixture);
      } finally {
        await fixture.dispose();
      }
    });

  describe(`fleet store contract: ${backend}`, () => {
    withStore('devices: register, read back byte for byte, list in order, revoke once', async (store) => {
      assert.equal(store.backend, backend);
      const a = device('phone-a');
      const registered = await store.registerDevice(a);
      assert.equal(registered.revokedAt, null);
      await store.registerDevice(device('phone-b'));
      const got = await store.getDevice('phone-a');
      assert.deepEqual(got?.publicKey, a.publicKey);
      assert.deepEqual(await store.getEvaluationKeys('phone-a'), a.evaluationKeys);
      assert.equal(await store.getEvaluationKeys('phone-c'), undefined);
      assert.deepEqual(got?.fingerprint, fingerprint);
      assert.equal(got?.registeredAt, registered.registeredAt);
      assert.deepEqual((await store.listDevices()).map((d) => d.id), ['phone-a', 'phone-b']);
      assert.equal(await store.getDevice('phone-c'), undefined);
      assert.equal(await store.revokeDevice('phone-a'), true);
      assert.equal(await store.revokeDevice('phone-a'), false, 'already revoked');
      assert.equal(await store.revokeDevice('phone-c'), false, 'no such device');
      assert.equal(typeof (await store.getDevice('phone-a'))?.revokedAt, 'number');
      assert.equal((await store.getDevice('phone-b'))?.revokedAt, null);
    });

    withStore('devices: an id or a public key registers once', async (store) => {
      const a = device('phone-a');
      await store.registerDevice(a);
      await rejects(store.registerDevice(device('phone-a')), 'E_EXISTS');
      await rejects(store.registerDevice({ ...device('phone-z'), publicKey: a.publicKey }), 'E_EXISTS');
      await rejects(store.registerDevice({ ...device('phone-y'), publicKey: bytes(31) }), 'E_FORMAT');
      await rejects(store.registerDevice({ ...device('phone-y'), fingerprint: bytes(16) }), 'E_FORMAT');
      await rejects(store.registerDevice(device('')), 'E_FORMAT');
      assert.equal((await store.listDevices()).length, 1);
    });

    withStore('enrolments: one per device and person, templates stored byte for byte', async (store) => {
      await store.registerDevice(device('phone-a'));
      await store.registerDevice(device('phone-b'));
      const template = bytes(200_000);
      await store.addEnrolment({ deviceId: 'phone-a', person: 'alice', template, fingerprint });
      await store.addEnrolment({ deviceId: 'phone-a', person: 'bob', template: bytes(10, 0), fingerprint });
      await store.addEnrolment({ deviceId: 'phone-b', person: 'alice', template: bytes(10), fingerprint });
      assert.deepEqual((await store.getEnrolment('phone-a', 'alice'))?.template, template);
      assert.deepEqual((await store.getEnrolment('phone-a', 'bob'))?.template, bytes(10, 0));
      assert.deepEqual((await store.listEnrolments('phone-a')).map((e) => e.person), ['alice', 'bob']);
      await rejects(store.addEnrolment({ deviceId: 'phone-a', person: 'alice', template, fingerprint }), 'E_EXISTS');
      await rejects(store.addEnrolment({ deviceId: 'phone-x', person: 'alice', template, fingerprint }), 'E_USAGE');
      assert.equal(await store.removeEnrolment('phone-a', 'alice'), true);
      assert.equal(await store.removeEnrolment('phone-a', 'alice'), false);
      assert.equal(await store.getEnrolment('phone-a', 'alice'), undefined);
      assert.ok(await store.getEnrolment('phone-b', 'alice'), "another device's enrolment is untouched");
    });

    withStore('SQL-injection-shaped and unusual text is stored and matched literally', async (store) => {
      const nasty = [
        "Robert'); DROP TABLE enrolments; --",
        "x' OR '1'='1",
        '$1 ? ?1 :name @p %s \\x00',
        'Zoë 日本 😀 "quoted" `tick`',
        ' '.repeat(256),
      ];
      await store.registerDevice(device(nasty[1]!));
      for (const person of nasty) await store.addEnrolment({ deviceId: nasty[1]!, person, template: bytes(8), fingerprint });
      assert.deepEqual((await store.listEnrolments(nasty[1]!)).map((e) => e.person).sort(), [...nasty].sort());
      for (const person of nasty) assert.equal((await store.getEnrolment(nasty[1]!, person))?.person, person);
      assert.equal(await store.getEnrolment(nasty[1]!, "' OR '1'='1"), undefined, 'a quote trick matches nothing');
      assert.equal(await store.getDevice("' OR ''='"), undefined);
      await store.publishModel({ name: "m'; DELETE FROM models; --", version: 1, manifest: bytes(5), digest: 'a'.repeat(64) });
      assert.equal((await store.latestModel("m'; DELETE FROM models; --"))?.version, 1);
      assert.equal((await store.listDevices()).length, 1, 'the tables are all still there');
      await rejects(store.addEnrolment({ deviceId: nasty[1]!, person: 'nul\u0000byte', template: bytes(8), fingerprint }), 'E_FORMAT');
      await rejects(store.addEnrolment({ deviceId: nasty[1]!, person: 'x'.repeat(257), template: bytes(8), fingerprint }), 'E_FORMAT');
    });

    withStore('gallery groups: kept per key holder, in order, with their labels', async (store) => {
      await store.registerDevice(device('holder'));
      await store.registerDevice(device('station'));
      const g1 = await store.addGalleryGroup({ holderId: 'holder', enrolledBy: 'station', labels: ['ann', 'ben'], group: bytes(3000), fingerprint });
      const g2 = await store.addGalleryGroup({ holderId: 'holder', enrolledBy: 'holder', labels: ['cy'], group: bytes(30), fingerprint });
      assert.ok(g2.seq > g1.seq);
      const groups = await store.listGalleryGroups('holder');
      assert.deepEqual(groups.map((g) => g.labels), [['ann', 'ben'], ['cy']]);
      assert.deepEqual(groups[0]!.group, g1.group);
      assert.equal(groups[0]!.enrolledBy, 'station');
      assert.deepEqual(await store.listGalleryGroups('station'), []);
      await rejects(store.addGalleryGroup({ holderId: 'nobody', enrolledBy: 'station', labels: ['x'], group: bytes(3), fingerprint }), 'E_USAGE');
      await rejects(store.addGalleryGroup({ holderId: 'holder', enrolledBy: 'station', labels: [], group: bytes(3), fingerprint }), 'E_USAGE');
    });

    withStore('published models: versions only go up; a version publishes once', async (store) => {
      const release = (version: number) => ({ name: 'face-detector', version, manifest: new TextEncoder().encode(`{"v":${version}}`), digest: `${version}`.padStart(64, '0') });
      assert.equal(await store.latestModel('face-detector'), undefined);
      await store.publishModel(release(1));
      await store.publishModel(release(3));
      assert.equal((await store.latestModel('face-detector'))?.version, 3);
      assert.deepEqual((await store.latestModel('face-detector'))?.manifest, release(3).manifest);
      await rejects(store.publishModel(release(3)), 'E_EXISTS');
      await rejects(store.publishModel(release(2)), 'E_ROLLBACK');
      await store.publishModel({ ...release(1), name: 'other' });
      assert.deepEqual((await store.listModels('face-detector')).map((m) => m.version), [1, 3]);
      await rejects(store.publishModel({ ...release(4), digest: 'XYZ' }), 'E_USAGE');
      await rejects(store.publishModel({ ...release(0) }), 'E_FORMAT');
    });

    withStore('audit heads: only growth with a valid consistency proof; regressions and rewrites are E_TAMPERED', async (store) => {
      await store.registerDevice(device('phone-a'));
      const log = auditLog('a');
      const forged = auditLog('b');
      assert.equal(await store.recordAuditHead(log.head('phone-a', 10), []), 'recorded');
      assert.equal(await store.recordAuditHead(log.head('phone-a', 10), []), 'unchanged');
      await rejects(store.recordAuditHead(log.head('phone-a', 9), []), 'E_TAMPERED', /shrank/);
      await rejects(store.recordAuditHead({ ...forged.head('phone-a', 10), keyId: log.head('phone-a', 10).keyId }, []), 'E_TAMPERED', /rewritten/);
      await rejects(store.recordAuditHead(log.head('phone-a', 20), []), 'E_TAMPERED', /consistency/);
      await rejects(store.recordAuditHead(log.head('phone-a', 20), log.proof(9, 20)), 'E_TAMPERED', /consistency/);
      const rewritten = { ...forged.head('phone-a', 20), keyId: log.head('phone-a', 10).keyId };
      await rejects(store.recordAuditHead(rewritten, forged.proof(10, 20)), 'E_TAMPERED', /consistency/);
      await rejects(store.recordAuditHead({ ...log.head('phone-a', 20), keyId: bytes(32, 1) }, log.proof(10, 20)), 'E_TAMPERED', /another log key/);
      assert.equal(await store.recordAuditHead(log.head('phone-a', 20), log.proof(10, 20)), 'recorded');
      assert.equal(await store.recordAuditHead(log.head('phone-a', 33), log.proof(20, 33)), 'recorded');
      const latest = await store.latestAuditHead('phone-a');
      assert.equal(latest?.size, 33);
      assert.deepEqual(latest?.root, log.head('phone-a', 33).root);
      await rejects(store.recordAuditHead(log.head('phone-a', 20), []), 'E_TAMPERED', /shrank/);
      await rejects(store.recordAuditHead(log.head('phone-x', 1), []), 'E_USAGE');
      await rejects(store.recordAuditHead({ ...log.head('phone-a', 34), root: bytes(31) }, []), 'E_FORMAT');
    });

    withStore('nonces: each is claimed once per device until it expires', async (store) => {
      assert.equal(await store.claimNonce('phone-a', 'n1', 1000, 2000), true);
      assert.equal(await store.claimNonce('phone-a', 'n1', 1500, 2500), false, 'replay');
      assert.equal(await store.claimNonce('phone-b', 'n1', 1500, 2500), true, 'another device');
      assert.equal(await store.claimNonce('phone-a', 'n1', 2001, 3000), true, 'forgotten after expiry');
    });

    withStore('transactions: all or nothing', async (store) => {
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.registerDevice(device('phone-a'));
          await tx.addEnrolment({ deviceId: 'phone-a', person: 'alice', template: bytes(8), fingerprint });
          throw new Error('abort');
        }),
        /abort/,
      );
      assert.equal(await store.getDevice('phone-a'), undefined);
      const n = await store.transaction(async (tx) => {
        await tx.registerDevice(device('phone-a'));
        await tx.addEnrolment({ deviceId: 'phone-a', person: 'alice', template: bytes(8), fingerprint });
        return (await tx.listEnrolments('phone-a')).length;
      });
      assert.equal(n, 1);
      assert.ok(await store.getEnrolment('phone-a', 'alice'));
    });

    withStore('concurrent writers: one registration per id, one head per size, model versions in order, one claim per nonce', async (store, fixture) => {
      const other = await fixture.another();
      const stores = [store, other];
      const pick = (i: number) => stores[i % 2]!;
      const settled = (ps: Promise<unknown>[]) => Promise.allSettled(ps);
      const codes = (rs: PromiseSettledResult<unknown>[]) => rs.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code);

      const same = await settled(Array.from({ length: 12 }, (_, i) => pick(i).registerDevice(device('contested'))));
      assert.equal(same.filter((r) => r.status === 'fulfilled').length, 1);
      assert.deepEqual(new Set(codes(same)), new Set(['E_EXISTS']));
      await Promise.all(Array.from({ length: 12 }, (_, i) => pick(i).registerDevice(device(`d${i}`))));
      assert.equal((await store.listDevices()).length, 13);

      const logs = Array.from({ length: 10 }, (_, i) => auditLog(String.fromCharCode(65 + i)));
      const keyId = bytes(32, 9);
      const heads = await settled(logs.map((log, i) => pick(i).recordAuditHead({ ...log.head('contested', 8), keyId }, [])));
      assert.equal(heads.filter((r) => r.status === 'fulfilled').length, 1, 'one of ten different roots at one size');
      assert.deepEqual(new Set(codes(heads)), new Set(['E_TAMPERED']));

      const versions = [5, 2, 9, 1, 7, 3, 10, 4, 8, 6];
      const published = await settled(versions.map((v, i) => pick(i).publishModel({ name: 'm', version: v, manifest: bytes(4), digest: 'b'.repeat(64) })));
      assert.ok(published.some((r) => r.status === 'fulfilled'));
      for (const code of codes(published)) assert.ok(code === 'E_ROLLBACK' || code === 'E_EXISTS', code);
      const stored = (await store.listModels('m')).sort((a, b) => a.publishedAt - b.publishedAt || a.version - b.version).map((m) => m.version);
      assert.deepEqual(stored, [...stored].sort((a, b) => a - b), 'no release was accepted below an earlier one');
      assert.equal((await store.latestModel('m'))?.version, Math.max(...stored));

      const claims = await Promise.all(Array.from({ length: 12 }, (_, i) => pick(i).claimNonce('d1', 'once', 1000, 5000)));
      assert.equal(claims.filter(Boolean).length, 1);
    });

    withStore('reopening keeps everything and does not migrate twice', async (store, fixture) => {
      await store.registerDevice(device('phone-a'));
      const other = await fixture.reopen();
      assert.equal((await other.getDevice('phone-a'))?.id, 'phone-a');
    });
  });
}
