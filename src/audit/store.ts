/**
 * The audit log's SQLite database (better-sqlite3): opening it with the
 * settings that keep concurrent writers safe (WAL journal, a busy timeout,
 * synchronous=FULL so a committed entry survives a power cut), creating the
 * schema, reading raw rows, and turning SQLite failures into typed errors.
 *
 * Schema (format `bioseal-audit-1`):
 *
 *   meta(key TEXT PRIMARY KEY, value TEXT)         format, public_key (hex), created
 *   entries(seq INTEGER PRIMARY KEY, time, type, actor, subject, decision,
 *           reasons TEXT (canonical JSON array), details TEXT (canonical JSON object))
 *   heads(size INTEGER PRIMARY KEY, root BLOB, timestamp INTEGER, key_id BLOB,
 *         signature BLOB, leaves BLOB)             leaves: the leaf hashes this head added
 */
import Database from 'better-sqlite3';
import { closeSync, existsSync, openSync } from 'node:fs';
import path from 'node:path';
import { BiosealError, FormatError, IOError } from '../errors.js';
import type { EntryColumns } from './entry.js';

/** The value of meta.format for this layout. */
export const STORE_FORMAT = 'bioseal-audit-1';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
  seq INTEGER PRIMARY KEY,
  time TEXT NOT NULL,
  type TEXT NOT NULL,
  actor TEXT,
  subject TEXT,
  decision TEXT,
  reasons TEXT NOT NULL,
  details TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_time ON entries (time);
CREATE TABLE IF NOT EXISTS heads (
  size INTEGER PRIMARY KEY,
  root BLOB NOT NULL,
  timestamp INTEGER NOT NULL,
  key_id BLOB NOT NULL,
  signature BLOB NOT NULL,
  leaves BLOB NOT NULL
);`;

/** A heads row as stored (the columns are untrusted: verify checks their types). */
export interface HeadRow {
  readonly size: unknown;
  readonly root: unknown;
  readonly timestamp: unknown;
  readonly key_id: unknown;
  readonly signature: unknown;
  readonly leaves: unknown;
}

/** An entries row as stored. */
export type EntryRow = { readonly seq: number } & Readonly<Record<keyof EntryColumns, unknown>>;

/**
 * Turns a failure inside SQLite into a typed error naming the file.
 * Typed bioseal errors pass through unchanged.
 */
export function describeSqliteError(error: unknown, file: string): BiosealError {
  if (error instanceof BiosealError) return error;
  const code = String((error as { code?: unknown })?.code ?? '');
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_NOTADB') return new FormatError(`${file} is not a bioseal audit log: the file is not an SQLite database`, { cause: error });
  if (code.startsWith('SQLITE_CORRUPT')) return new FormatError(`the audit log ${file} is corrupt (${message}); run bioseal audit verify on a copy`, { cause: error });
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new IOError(`the audit log ${file} stayed locked by another process past the busy timeout`, { cause: error });
  }
  if (code === 'SQLITE_ERROR' && /no such (table|column)/.test(message)) {
    return new FormatError(`${file} is not a bioseal audit log (${message})`, { cause: error });
  }
  if (code.startsWith('SQLITE_CANTOPEN')) return new IOError(`cannot open the audit log ${file}`, { cause: error });
  if (code.startsWith('SQLITE_READONLY')) return new IOError(`the audit log ${file} is read-only`, { cause: error });
  if (code.startsWith('SQLITE_FULL')) return new IOError(`no space left to write the audit log ${file}`, { cause: error });
  if (code.startsWith('SQLITE_IOERR')) return new IOError(`cannot read or write the audit log ${file} (${message})`, { cause: error });
  if (code.startsWith('SQLITE_')) return new FormatError(`the audit log ${file} could not be used: ${message}`, { cause: error });
  return new IOError(`the audit log ${file} could not be used: ${message}`, { cause: error });
}

/** Runs `fn`, turning SQLite failures into typed errors. */
export function withSqlite<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw describeSqliteError(error, file);
  }
}

export interface OpenStoreOptions {
  /** Create the file and schema when missing. */
  readonly create: boolean;
  /** Open without writing anything. */
  readonly readOnly: boolean;
  /** How long to wait for another writer, in milliseconds. */
  readonly busyTimeoutMs: number;
}

/**
 * Opens the database file. A new file is made with mode 0600 (entries can
 * say who did what) and put in WAL mode.
 * @throws IOError when it is missing (and create is off) or cannot be opened,
 *   FormatError when it is not an SQLite database.
 */
export function openStore(file: string, options: OpenStoreOptions): Database.Database {
  const exists = existsSync(file);
  if (!exists && (!options.create || options.readOnly)) throw new IOError(`there is no audit log at ${file}`);
  return withSqlite(file, () => {
    if (!exists) {
      // SQLite would create it with the umask's mode; an empty file is a valid empty database.
      closeSync(openSync(file, 'a', 0o600));
    }
    const db = new Database(file, { fileMustExist: true, readonly: options.readOnly, timeout: options.busyTimeoutMs });
    try {
      // Reading the schema is the first access: a file that is not a database fails here.
      db.prepare('SELECT count(*) FROM sqlite_master').get();
      // WAL lets readers run beside the one writer; the mode stays with the file.
      if (!exists) db.pragma('journal_mode = WAL');
      if (!options.readOnly) db.pragma('synchronous = FULL');
      return db;
    } catch (error) {
      db.close();
      throw error;
    }
  });
}

/** Whether the schema exists yet (a freshly created file has none). */
export function hasSchema(db: Database.Database): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() !== undefined;
}

/** Creates the tables (idempotent; call inside a write transaction). */
export function createSchema(db: Database.Database): void {
  db.exec(SCHEMA);
}

/** A meta value, or undefined. */
export function readMeta(db: Database.Database, key: string): string | undefined {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: unknown } | undefined;
  return typeof row?.value === 'string' ? row.value : undefined;
}

export function writeMeta(db: Database.Database, key: string, value: string): void {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(key, value);
}

/**
 * Checks that the database is a bioseal audit log of a format this version reads.
 * @throws FormatError otherwise.
 */
export function checkFormat(db: Database.Database, file: string): void {
  if (!hasSchema(db)) throw new FormatError(`${file} is not a bioseal audit log (it has no audit tables)`);
  const format = readMeta(db, 'format');
  if (format === undefined) throw new FormatError(`${file} is not a bioseal audit log (no format record)`);
  if (format !== STORE_FORMAT) throw new FormatError(`${file} is an audit log of format "${format.slice(0, 40)}", which this version cannot read (it reads ${STORE_FORMAT})`);
}

/** The default database path in a state directory. */
export function defaultStorePath(home: string): string {
  return path.join(home, 'audit.db');
}
