/**
 * Tampering with the audit database directly (with better-sqlite3, as anyone
 * with write access to the file could) and checking that verify names what
 * was done and where: edited, deleted, inserted and reordered entries, heads
 * deleted, altered or forged, the log key replaced, and the cases that only a
 * head saved elsewhere can reveal (truncation of entries and heads together,
 * a rewrite re-signed with a new key).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { openAuditLog, parseTreeHeadJson, type AuditVerification, type TreeHeadJson } from '../../src/audit/index.js';
import { entryLeafHash } from '../../src/audit/entry.js';
import { MerkleTree } from '../../src/audit/merkle.js';
import { signTreeHead } from '../../src/audit/tree-head.js';
import { LOG_KEY_PREFIX } from '../../src/audit/log-key.js';
import { encodeKey } from '../../src/keys/encoding.js';
import { FormatError, TamperedError } from '../../src/errors.js';
import { buildLog, copyHome, tamper, tempDir } from './helpers.js';

const ENTRIES = 12;
const tmp = tempDir('bioseal-audit-tamper-');
const TEMPLATE = path.join(tmp.dir, 'template');
let savedHead: TreeHeadJson;
let scenario = 0;

before(async () => {
  const log = await buildLog(TEMPLATE, ENTRIES);
  savedHead = log.headJson();
  log.close();
});
after(() => tmp.cleanup());

/** A fresh copy of the template log to tamper with. */
function freshCopy(): string {
  return copyHome(TEMPLATE, path.join(tmp.dir, `case-${scenario++}`));
}

async function verify(home: string, witness?: TreeHeadJson): Promise<AuditVerification> {
  const log = await openAuditLog(home, { readOnly: true });
  try {
    return log.verify(witness ? { witness: parseTreeHeadJson(JSON.stringify(witness)) } : {});
  } finally {
    log.close();
  }
}

/** Findings as "kind@position" (entries) or "kind#size" (heads), in order. */
function summary(r: AuditVerification): string[] {
  return r.findings.map((f) => (f.seq !== undefined ? `${f.kind}@${f.seq}${f.lastSeq !== undefined ? `-${f.lastSeq}` : ''}` : f.headSize !== undefined ? `${f.kind}#${f.headSize}` : f.kind));
}

function renumber(db: import('better-sqlite3').Database, seqs: number[], delta: number): void {
  const move = db.prepare('UPDATE entries SET seq = ? WHERE seq = ?');
  for (const s of seqs) move.run(s + delta, s);
}

const FORGED_ROW = { time: '2026-01-01T00:00:00.000Z', type: 'unlock', actor: 'mallory', subject: 'model.bseal', decision: 'allow', reasons: '["face matched"]', details: '{}' };
function insertRow(db: import('better-sqlite3').Database, seq: number): void {
  db.prepare('INSERT INTO entries (seq, time, type, actor, subject, decision, reasons, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
    seq,
    FORGED_ROW.time,
    FORGED_ROW.type,
    FORGED_ROW.actor,
    FORGED_ROW.subject,
    FORGED_ROW.decision,
    FORGED_ROW.reasons,
    FORGED_ROW.details,
  );
}

/**
 * What an attacker holding the database and the key file can do: make a new
 * key, and re-sign every head over the entries as they now are.
 */
function resignWithNewKey(home: string): void {
  const secret = new Uint8Array(randomBytes(32));
  const publicKey = ed25519.getPublicKey(secret);
  writeFileSync(path.join(home, 'audit.key'), encodeKey(LOG_KEY_PREFIX, secret) + '\n', { mode: 0o600 });
  tamper(home, (db) => {
    db.prepare("UPDATE meta SET value = ? WHERE key = 'public_key'").run(Buffer.from(publicKey).toString('hex'));
    const rows = db.prepare('SELECT * FROM entries ORDER BY seq').all() as Parameters<typeof entryLeafHash>[0][];
    const leaves = rows.map((r) => entryLeafHash(r));
    const tree = MerkleTree.fromLeafHashes(leaves);
    let previous = 0;
    for (const h of db.prepare('SELECT size, timestamp FROM heads ORDER BY size').all() as { size: number; timestamp: number }[]) {
      const head = signTreeHead(h.size, tree.root(h.size), h.timestamp, secret, publicKey);
      const record = Buffer.concat(leaves.slice(previous, h.size));
      db.prepare('UPDATE heads SET root = ?, key_id = ?, signature = ?, leaves = ? WHERE size = ?').run(Buffer.from(head.root), Buffer.from(head.keyId), Buffer.from(head.signature), record, h.size);
      previous = h.size;
    }
  });
}

describe('audit verify catches tampering and names the position', { concurrency: 4 }, () => {
  test('an untouched log verifies', async () => {
    const r = await verify(freshCopy());
    assert.ok(r.ok, JSON.stringify(r.findings));
    assert.equal(r.entries, ENTRIES);
    assert.equal(r.heads, ENTRIES + 1, 'one head per append, plus the empty tree');
    assert.equal(r.verifiedSize, ENTRIES);
  });

  test('an edited field', async () => {
    const home = freshCopy();
    tamper(home, (db) => db.prepare("UPDATE entries SET decision = 'allow' WHERE seq = 5").run());
    const r = await verify(home);
    assert.deepEqual(summary(r), ['edited@5']);
    assert.match(r.findings[0]!.message, /entry 5 was edited/);
  });

  test('an edited explanation (reasons) and an edited time', async () => {
    const home = freshCopy();
    tamper(home, (db) => {
      db.prepare(`UPDATE entries SET reasons = '["trust 0.95"]' WHERE seq = 1`).run();
      db.prepare(`UPDATE entries SET time = '2020-01-01T00:00:00.000Z' WHERE seq = 9`).run();
    });
    assert.deepEqual(summary(await verify(home)), ['edited@1', 'edited@9']);
  });

  test('a field made unreadable (details no longer JSON, time no longer text)', async () => {
    const home = freshCopy();
    tamper(home, (db) => {
      db.prepare(`UPDATE entries SET details = '{broken' WHERE seq = 3`).run();
      db.prepare('UPDATE entries SET time = 42 WHERE seq = 4').run();
    });
    assert.deepEqual(summary(await verify(home)), ['edited@3', 'edited@4']);
  });

  test('a deleted entry', async () => {
    const home = freshCopy();
    tamper(home, (db) => db.prepare('DELETE FROM entries WHERE seq = 4').run());
    const r = await verify(home);
    assert.deepEqual(summary(r), ['deleted@4']);
    assert.match(r.findings[0]!.message, /entry 4 was deleted/);
  });

  test('a deleted entry with the later ones renumbered to close the gap', async () => {
    const home = freshCopy();
    tamper(home, (db) => {
      db.prepare('DELETE FROM entries WHERE seq = 4').run();
      renumber(db, [5, 6, 7, 8, 9, 10, 11], -1);
    });
    assert.deepEqual(summary(await verify(home)), ['deleted@4', 'reordered@4-10']);
  });

  test('an entry inserted past the last signed head', async () => {
    const home = freshCopy();
    tamper(home, (db) => insertRow(db, ENTRIES));
    const r = await verify(home);
    assert.deepEqual(summary(r), [`inserted@${ENTRIES}`]);
    assert.match(r.findings[0]!.message, /not covered by any signed head/);
  });

  test('an entry inserted in the middle, the later ones renumbered', async () => {
    const home = freshCopy();
    tamper(home, (db) => {
      renumber(db, [11, 10, 9, 8, 7, 6], +1);
      insertRow(db, 6);
    });
    assert.deepEqual(summary(await verify(home)), ['inserted@6', 'reordered@7-12']);
  });

  test('two entries swapped (their sequence numbers exchanged)', async () => {
    const home = freshCopy();
    tamper(home, (db) => {
      db.prepare('UPDATE entries SET seq = -1 WHERE seq = 2').run();
      db.prepare('UPDATE entries SET seq = 2 WHERE seq = 7').run();
      db.prepare('UPDATE entries SET seq = 7 WHERE seq = -1').run();
    });
    const r = await verify(home);
    assert.deepEqual(summary(r), ['reordered@2-7']);
    assert.match(r.findings[0]!.message, /entries 2 and 7 were swapped/);
  });

  test('three entries rotated', async () => {
    const home = freshCopy();
    tamper(home, (db) => {
      db.prepare('UPDATE entries SET seq = -1 WHERE seq = 3').run();
      renumber(db, [4, 5], -1);
      db.prepare('UPDATE entries SET seq = 5 WHERE seq = -1').run();
    });
    assert.deepEqual(summary(await verify(home)), ['reordered@3-4', 'reordered@5']);
  });

  test('the tail of the entries deleted (heads kept)', async () => {
    const home = freshCopy();
    tamper(home, (db) => db.prepare('DELETE FROM entries WHERE seq >= 9').run());
    assert.deepEqual(summary(await verify(home)), ['deleted@9', 'deleted@10', 'deleted@11']);
  });

  test('the tail deleted with its heads: invisible to the log alone, caught by a head saved elsewhere', async () => {
    const home = freshCopy();
    tamper(home, (db) => {
      db.prepare('DELETE FROM entries WHERE seq >= 9').run();
      db.prepare('DELETE FROM heads WHERE size > 9').run();
    });
    const alone = await verify(home);
    assert.ok(alone.ok, 'a consistent shorter log verifies on its own: this is what the saved head is for');
    assert.equal(alone.signedSize, 9);
    const r = await verify(home, savedHead);
    assert.deepEqual(summary(r), ['truncated@9-11']);
    assert.match(r.findings[0]!.message, /entries 9–11 were removed/);
  });

  test('the latest heads deleted (entries kept)', async () => {
    const home = freshCopy();
    tamper(home, (db) => db.prepare('DELETE FROM heads WHERE size > 9').run());
    assert.deepEqual(summary(await verify(home)), ['inserted@9', 'inserted@10', 'inserted@11']);
  });

  test('a head in the middle deleted', async () => {
    const home = freshCopy();
    tamper(home, (db) => db.prepare('DELETE FROM heads WHERE size = 5').run());
    const r = await verify(home);
    assert.deepEqual(summary(r), ['head-deleted@4']);
  });

  test('every head deleted', async () => {
    const home = freshCopy();
    tamper(home, (db) => db.prepare('DELETE FROM heads').run());
    const r = await verify(home);
    assert.equal(r.ok, false);
    assert.ok(summary(r).includes('head-deleted'));
    assert.equal(r.findings.filter((f) => f.kind === 'inserted').length, ENTRIES);
  });

  test('a head signature forged (one bit flipped)', async () => {
    const home = freshCopy();
    tamper(home, (db) => {
      const sig = (db.prepare('SELECT signature FROM heads WHERE size = 6').pluck().get() as Buffer).slice();
      sig[10]! ^= 0x01;
      db.prepare('UPDATE heads SET signature = ? WHERE size = 6').run(sig);
    });
    const r = await verify(home);
    assert.deepEqual(summary(r), ['head-forged#6']);
    assert.match(r.findings[0]!.message, /does not verify under the log key/);
  });

  test('an entry edited and every later head replaced by one with a made-up signature', async () => {
    const home = freshCopy();
    tamper(home, (db) => {
      db.prepare("UPDATE entries SET actor = 'mallory' WHERE seq = 5").run();
      const rows = db.prepare('SELECT * FROM entries ORDER BY seq').all() as Parameters<typeof entryLeafHash>[0][];
      const leaves = rows.map((r) => entryLeafHash(r));
      const tree = MerkleTree.fromLeafHashes(leaves);
      for (let size = 6; size <= ENTRIES; size++) {
        db.prepare('UPDATE heads SET root = ?, signature = ?, leaves = ? WHERE size = ?').run(Buffer.from(tree.root(size)), randomBytes(64), Buffer.from(leaves[size - 1]!), size);
      }
    });
    const r = await verify(home);
    assert.deepEqual(summary(r).filter((s) => s.startsWith('head-forged')), [6, 7, 8, 9, 10, 11, 12].map((s) => `head-forged#${s}`));
    assert.ok(summary(r).includes('inserted@5'), 'entry 5 is no longer covered by a valid head');
    assert.equal(r.verifiedSize, 5);
  });

  test("an entry edited and its leaf patched in the heads' record", async () => {
    const home = freshCopy();
    tamper(home, (db) => {
      db.prepare("UPDATE entries SET decision = 'allow' WHERE seq = 5").run();
      const row = db.prepare('SELECT * FROM entries WHERE seq = 5').get() as Parameters<typeof entryLeafHash>[0];
      db.prepare('UPDATE heads SET leaves = ? WHERE size = 6').run(Buffer.from(entryLeafHash(row)));
    });
    assert.deepEqual(summary(await verify(home)), ['edited@5', 'head-altered#6']);
  });

  test('a head column changed to the wrong type', async () => {
    const home = freshCopy();
    tamper(home, (db) => db.prepare("UPDATE heads SET root = 'abc' WHERE size = 3").run());
    assert.deepEqual(summary(await verify(home)), ['head-altered#3']);
  });

  test('the log key file replaced', async () => {
    const home = freshCopy();
    writeFileSync(path.join(home, 'audit.key'), encodeKey(LOG_KEY_PREFIX, new Uint8Array(randomBytes(32))) + '\n', { mode: 0o600 });
    const r = await verify(home);
    assert.deepEqual(summary(r), ['key-replaced']);
    assert.match(r.findings[0]!.message, /the key was replaced/);
    // And the writer refuses to sign with it.
    const log = await openAuditLog(home);
    try {
      assert.throws(() => log.append({ type: 'lock' }), TamperedError);
    } finally {
      log.close();
    }
  });

  test('the whole log re-signed with a new key: only a saved head can tell', async () => {
    const home = freshCopy();
    resignWithNewKey(home);
    assert.ok((await verify(home)).ok, 'a log rewritten by whoever holds the database and key verifies on its own');
    assert.deepEqual(summary(await verify(home, savedHead)), ['key-replaced#12']);
  });

  test('an entry rewritten and the whole log re-signed with a new key: the saved head catches both', async () => {
    const home = freshCopy();
    tamper(home, (db) => db.prepare("UPDATE entries SET decision = 'allow' WHERE seq = 1").run());
    resignWithNewKey(home);
    assert.deepEqual(summary(await verify(home, savedHead)), ['key-replaced#12', 'rewritten#12']);
  });

  test('a saved head older than the log checks out by a consistency proof', async () => {
    const home = freshCopy();
    const log = await openAuditLog(home);
    const older = log.headJson();
    for (let i = 0; i < 5; i++) log.append({ type: 'trust', reasons: ['face re-check'] });
    log.close();
    const r = await verify(home, older);
    assert.ok(r.ok, JSON.stringify(r.findings));
    // ... and catches a rewrite of what it covers.
    tamper(home, (db) => db.prepare("UPDATE entries SET actor = 'mallory' WHERE seq = 0").run());
    assert.deepEqual(summary(await verify(home, older)), ['edited@0']);
  });

  test('a saved head that was itself changed is refused', () => {
    assert.throws(() => parseTreeHeadJson(JSON.stringify({ ...savedHead, size: savedHead.size - 1 })), FormatError);
    assert.throws(() => parseTreeHeadJson(JSON.stringify({ ...savedHead, root: '00'.repeat(32) })), FormatError);
    assert.throws(() => parseTreeHeadJson(JSON.stringify({ ...savedHead, extra: 1 })), FormatError);
    assert.throws(() => parseTreeHeadJson('not json'), FormatError);
  });

  test('the writer refuses to extend a log whose latest head does not match it', async () => {
    const home = freshCopy();
    tamper(home, (db) => db.prepare('UPDATE heads SET leaves = ? WHERE size = 12').run(randomBytes(32)));
    const log = await openAuditLog(home);
    try {
      assert.throws(() => log.append({ type: 'lock' }), TamperedError);
      assert.throws(() => log.head(), TamperedError);
    } finally {
      log.close();
    }
  });

  test('the writer refuses to overwrite an entry that no head covers', async () => {
    const home = freshCopy();
    tamper(home, (db) => insertRow(db, ENTRIES));
    const log = await openAuditLog(home);
    try {
      assert.throws(() => log.append({ type: 'lock' }), (e: unknown) => e instanceof TamperedError && /entry 12 already exists/.test(e.message));
    } finally {
      log.close();
    }
  });
});
