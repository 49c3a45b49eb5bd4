/**
 * The audit log library as the daemon uses it: appending, reading, signed
 * heads, inclusion and consistency proofs, files and their modes, two
 * processes writing at once, and clear typed errors for a missing, foreign or
 * corrupt database and a missing or swapped key.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  EMPTY_ROOT,
  leafHash,
  openAuditLog,
  parseSince,
  verifyConsistency,
  verifyInclusion,
  verifyTreeHead,
  type AuditEntry,
} from '../../src/audit/index.js';
import { encodeEntry } from '../../src/audit/entry.js';
import { canonicalJson } from '../../src/audit/canonical.js';
import { FormatError, IOError, TamperedError, UsageError } from '../../src/errors.js';
import { runNodeScript, distModule, assertOk } from '../helpers/cli.js';
import { buildLog, sampleEvent, tamper, tempDir } from './helpers.js';

const tmp = tempDir('bioseal-audit-log-');
after(() => tmp.cleanup());
let n = 0;
const newHome = (): string => path.join(tmp.dir, `home-${n++}`);

/** The leaf input of an entry as read back (what the tree hashed). */
const leafOf = (e: AuditEntry): Uint8Array =>
  leafHash(encodeEntry({ time: e.time, type: e.type, actor: e.actor, subject: e.subject, decision: e.decision, reasons: canonicalJson(e.reasons), details: canonicalJson(e.details) }));

describe('appending and reading', () => {
  test('a new log starts with a signed head of the empty tree; files are private', async () => {
    const home = newHome();
    const log = await openAuditLog(home);
    try {
      const head = log.head();
      assert.equal(head.size, 0);
      assert.deepEqual(head.root, EMPTY_ROOT);
      assert.ok(verifyTreeHead(head, log.publicKey!));
      assert.equal(statSync(path.join(home, 'audit.db')).mode & 0o777, 0o600);
      assert.equal(statSync(path.join(home, 'audit.key')).mode & 0o777, 0o600);
      assert.match(readFileSync(path.join(home, 'audit.key'), 'utf8'), /^biosealauditsec1[a-z2-7]+\n$/);
    } finally {
      log.close();
    }
  });

  test('entries come back in order with their explanation, one signed head per append', async () => {
    const home = newHome();
    const log = await buildLog(home, 6);
    try {
      const entries = log.entries();
      assert.deepEqual(entries.map((e) => e.seq), [0, 1, 2, 3, 4, 5]);
      assert.deepEqual(entries[1]!.reasons, sampleEvent(1).reasons);
      assert.equal(entries[0]!.decision, 'allow');
      assert.equal(entries[2]!.decision, null);
      assert.deepEqual(entries[0]!.details, sampleEvent(0).details);
      for (let i = 1; i < entries.length; i++) assert.ok(entries[i]!.time >= entries[i - 1]!.time, 'times never go backwards');
      const head = log.head();
      assert.equal(head.size, 6);
      assert.ok(verifyTreeHead(head, log.publicKey!));
      assert.ok(!verifyTreeHead({ ...head, size: 5 }, log.publicKey!), 'a head cannot be moved to another size');
      assert.ok(!verifyTreeHead({ ...head, timestamp: head.timestamp + 1 }, log.publicKey!), 'or another time');
      assert.ok(log.verify().ok);
      assert.equal(log.verify().heads, 7);
    } finally {
      log.close();
    }
  });

  test('a batch is one transaction under one head', async () => {
    const home = newHome();
    const log = await buildLog(home, 2);
    try {
      const stored = log.appendBatch([sampleEvent(2), sampleEvent(3), sampleEvent(4)]);
      assert.deepEqual(stored.map((e) => e.seq), [2, 3, 4]);
      const report = log.verify();
      assert.ok(report.ok);
      assert.equal(report.heads, 4, 'the empty head, two single appends, one batch');
      assert.throws(() => log.appendBatch([]), UsageError);
      assert.throws(() => log.appendBatch([sampleEvent(0), { type: 'Bad Type' }]), UsageError);
      assert.equal(log.entries().length, 5, 'a batch with one bad event appends nothing');
    } finally {
      log.close();
    }
  });

  test('the log survives closing and reopening, and goes on from where it was', async () => {
    const home = newHome();
    (await buildLog(home, 3)).close();
    const log = await openAuditLog(home);
    try {
      assert.equal(log.append(sampleEvent(3)).seq, 3);
      assert.ok(log.verify().ok);
    } finally {
      log.close();
    }
  });

  test('since filters by time', async () => {
    const home = newHome();
    const log = await buildLog(home, 3);
    try {
      const all = log.entries();
      assert.equal(log.entries({ since: new Date(all[0]!.time) }).length, 3);
      assert.equal(log.entries({ since: new Date(Date.now() + 60_000) }).length, 0);
      assert.equal(log.entries({ since: parseSince('1h') }).length, 3);
      assert.throws(() => log.entries({ since: new Date('nonsense') }), UsageError);
    } finally {
      log.close();
    }
  });

  test('parseSince reads ISO times and durations, and nothing else', () => {
    const now = new Date('2026-03-01T12:00:00.000Z');
    assert.equal(parseSince('1h', now).toISOString(), '2026-03-01T11:00:00.000Z');
    assert.equal(parseSince('90s', now).toISOString(), '2026-03-01T11:58:30.000Z');
    assert.equal(parseSince('2w', now).toISOString(), '2026-02-15T12:00:00.000Z');
    assert.equal(parseSince('2026-02-01T00:00:00Z', now).toISOString(), '2026-02-01T00:00:00.000Z');
    assert.equal(parseSince('2026-02-01', now).toISOString(), '2026-02-01T00:00:00.000Z');
    for (const bad of ['yesterday', '1y', '-1h', '', '2026-13-45', '1h30m']) assert.throws(() => parseSince(bad, now), UsageError, bad);
  });
});

describe('proofs', () => {
  test('every entry has an inclusion proof against the signed root, and heads prove each other consistent', async () => {
    const home = newHome();
    const log = await buildLog(home, 5);
    try {
      const heads = [log.head()];
      for (let i = 5; i < 23; i++) {
        log.append(sampleEvent(i));
        heads.push(log.head());
      }
      const latest = log.head();
      const entries = log.entries();
      for (const e of entries) {
        const p = log.inclusionProof(e.seq);
        assert.deepEqual(p.leafHash, leafOf(e), `leaf ${e.seq} is the hash of the entry as stored`);
        assert.ok(verifyInclusion(e.seq, latest.size, p.leafHash, p.proof, latest.root), `inclusion of ${e.seq}`);
        assert.ok(!verifyInclusion(e.seq, latest.size, leafOf({ ...e, actor: 'mallory' }), p.proof, latest.root), `an edited entry ${e.seq} is not included`);
      }
      for (const old of heads) {
        const proof = log.consistencyProof(old.size);
        assert.ok(verifyConsistency(old.size, latest.size, old.root, latest.root, proof), `consistency ${old.size} -> ${latest.size}`);
      }
      const p = log.inclusionProof(2, 7);
      assert.ok(verifyInclusion(2, 7, p.leafHash, p.proof, heads[2]!.root), 'against an older head');
      assert.throws(() => log.inclusionProof(23), UsageError);
      assert.throws(() => log.consistencyProof(24), UsageError);
    } finally {
      log.close();
    }
  });
});

describe('concurrency', () => {
  test('two processes appending at once never corrupt the log', async () => {
    const home = newHome();
    (await openAuditLog(home)).close();
    const script = (who: string) => `
      import { openAuditLog } from ${distModule('audit/index.js')};
      const log = await openAuditLog(process.env.BIOSEAL_HOME, { busyTimeoutMs: 30000 });
      for (let i = 0; i < 40; i++) log.append({ type: 'trust', actor: '${who}', reasons: ['sample ' + i], details: { i } });
      log.close();
    `;
    const results = await Promise.all([runNodeScript(script('a'), { home }), runNodeScript(script('b'), { home }), runNodeScript(script('c'), { home })]);
    for (const r of results) assertOk(r, 'writer');
    const log = await openAuditLog(home, { readOnly: true });
    try {
      const report = log.verify();
      assert.ok(report.ok, JSON.stringify(report.findings));
      assert.equal(report.entries, 120);
      assert.equal(report.heads, 121);
      const entries = log.entries();
      assert.deepEqual(entries.map((e) => e.seq), Array.from({ length: 120 }, (_, i) => i));
      for (const who of ['a', 'b', 'c']) {
        const mine = entries.filter((e) => e.actor === who).map((e) => (e.details as { i: number }).i);
        assert.deepEqual(mine, Array.from({ length: 40 }, (_, i) => i), `${who}'s entries all there, in its order`);
      }
    } finally {
      log.close();
    }
  });
});

describe('typed errors', () => {
  test('no log: reading says so (E_IO) and creates nothing', async () => {
    const home = newHome();
    await assert.rejects(openAuditLog(home, { readOnly: true }), (e: unknown) => e instanceof IOError && /there is no audit log/.test(e.message));
    await assert.rejects(openAuditLog(home, { create: false }), IOError);
  });

  test('a file that is not a database (E_FORMAT)', async () => {
    const file = path.join(tmp.dir, 'garbage.db');
    writeFileSync(file, Buffer.alloc(4096, 0x41));
    await assert.rejects(openAuditLog(newHome(), { file, readOnly: true }), (e: unknown) => e instanceof FormatError && /not an SQLite database/.test(e.message));
    await assert.rejects(openAuditLog(newHome(), { file, keyFile: path.join(tmp.dir, 'k1') }), FormatError);
  });

  test('an SQLite database of something else (E_FORMAT)', async () => {
    const file = path.join(tmp.dir, 'other.db');
    const db = new Database(file);
    db.exec('CREATE TABLE people (name TEXT)');
    db.close();
    await assert.rejects(openAuditLog(newHome(), { file, readOnly: true }), (e: unknown) => e instanceof FormatError && /not a bioseal audit log/.test(e.message));
  });

  test('an audit log of an unknown format version (E_FORMAT)', async () => {
    const home = newHome();
    (await buildLog(home, 1)).close();
    tamper(home, (db) => db.prepare("UPDATE meta SET value = 'bioseal-audit-9' WHERE key = 'format'").run());
    await assert.rejects(openAuditLog(home, { readOnly: true }), /format "bioseal-audit-9"/);
  });

  test('a database file cut short (E_FORMAT), never a crash', async () => {
    const home = newHome();
    const log = await buildLog(home, 200);
    log.close();
    const file = path.join(home, 'audit.db');
    const size = statSync(file).size;
    assert.ok(size > 3 * 4096, `the log should span several pages (${size} bytes)`);
    truncateSync(file, 2 * 4096);
    const attempt = async () => {
      const l = await openAuditLog(home, { readOnly: true });
      try {
        l.verify();
        l.entries();
      } finally {
        l.close();
      }
    };
    await assert.rejects(attempt(), (e: unknown) => e instanceof FormatError && /corrupt|not a bioseal audit log|could not be used/.test(e.message));
  });

  test('the key file missing: reading and verifying work, appending is refused (E_IO)', async () => {
    const home = newHome();
    (await buildLog(home, 2)).close();
    rmSync(path.join(home, 'audit.key'));
    const log = await openAuditLog(home);
    try {
      assert.throws(() => log.append(sampleEvent(0)), (e: unknown) => e instanceof IOError && /key .* is missing/.test(e.message));
      const report = log.verify();
      assert.ok(report.ok);
      assert.match(report.notes.join('\n'), /does not exist/);
    } finally {
      log.close();
    }
  });

  test('a malformed key file (E_FORMAT)', async () => {
    const home = newHome();
    (await buildLog(home, 1)).close();
    writeFileSync(path.join(home, 'audit.key'), 'biosealauditsec1aaaa\n');
    await assert.rejects(openAuditLog(home), FormatError);
  });

  test('read-only and closed logs refuse appends', async () => {
    const home = newHome();
    (await buildLog(home, 1)).close();
    const ro = await openAuditLog(home, { readOnly: true });
    assert.throws(() => ro.append(sampleEvent(0)), UsageError);
    ro.close();
    assert.throws(() => ro.entries(), UsageError);
  });

  test('a head that no longer matches blocks appends (E_TAMPERED) but not verify', async () => {
    const home = newHome();
    (await buildLog(home, 3)).close();
    tamper(home, (db) => db.prepare("UPDATE heads SET signature = zeroblob(64) WHERE size = 3").run());
    const log = await openAuditLog(home);
    try {
      assert.throws(() => log.append(sampleEvent(0)), TamperedError);
      const report = log.verify();
      assert.equal(report.ok, false);
      // The forged head was the only one covering entry 2, so that entry is now unsigned too.
      assert.deepEqual(report.findings.map((f) => `${f.kind} ${f.seq ?? f.headSize}`), ['inserted 2', 'head-forged 3']);
    } finally {
      log.close();
    }
  });
});
