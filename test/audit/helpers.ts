/**
 * Helpers for the audit log tests: temporary state directories holding a log
 * of known entries, copies of it to tamper with, and direct SQL access to the
 * database (what an attacker with write access to the file can do).
 */
import Database from 'better-sqlite3';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openAuditLog, type AuditLog } from '../../src/audit/index.js';
import type { AuditEvent } from '../../src/audit/entry.js';

/** A temporary directory, removed by cleanup(). */
export function tempDir(prefix = 'bioseal-audit-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The i-th sample event: a mix of the kinds the daemon records. */
export function sampleEvent(i: number): AuditEvent {
  const kinds: AuditEvent[] = [
    { type: 'unlock', actor: 'alice', subject: 'model.bseal', decision: 'allow', reasons: [`face matched (score 0.9${i % 10})`, 'liveness passed'], details: { factors: ['face', 'tpm'], i } },
    { type: 'decision', actor: 'alice', subject: 'model.bseal', decision: 'deny', reasons: ['trust 0.41 below model:infer threshold 0.6'], details: { action: 'model:infer', i } },
    { type: 'trust', actor: 'alice', reasons: ['keystroke sample matched', 'face re-check 12 s ago'], details: { from: 0.5, to: 0.8, i } },
    { type: 'lock', actor: 'alice', decision: 'lock', reasons: ['idle timeout'], details: { i } },
  ];
  return kinds[i % kinds.length]!;
}

/** Opens (creating) a log in `home` and appends `count` sample events, one head each. */
export async function buildLog(home: string, count: number): Promise<AuditLog> {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const log = await openAuditLog(home);
  for (let i = 0; i < count; i++) log.append(sampleEvent(i));
  return log;
}

/** Copies a closed log's state directory (database and key) to a new home. */
export function copyHome(from: string, to: string): string {
  mkdirSync(to, { recursive: true, mode: 0o700 });
  for (const name of ['audit.db', 'audit.key']) copyFileSync(path.join(from, name), path.join(to, name));
  return to;
}

/** Runs SQL directly on a log's database, as someone with write access to the file could. */
export function tamper(home: string, fn: (db: Database.Database) => void): void {
  const db = new Database(path.join(home, 'audit.db'));
  try {
    fn(db);
  } finally {
    db.close();
  }
}
