/**
 * `AuditLog`: the append-only audit log that the CLI and the daemon write
 * to. Each append (or batch) is one SQLite IMMEDIATE transaction that adds
 * the entries and a new signed tree head together, so readers and a second
 * writing process never see entries without their head, and a crash leaves
 * either both or neither.
 *
 * Before extending the log, a writer checks that the latest head's signature
 * verifies and that its root is the root of the recorded leaves: the log key
 * never signs on top of a state it did not vouch for.
 *
 * @example
 * const log = await openAuditLog(home);
 * log.append({ type: 'unlock', actor: 'alice', subject: 'model.bseal', decision: 'allow', reasons: ['face matched (0.91)'] });
 * const report = log.verify();
 * log.close();
 */
import path from 'node:path';
import type Database from 'better-sqlite3';
import { biosealHomePath, ensureBiosealHome } from '../home.js';
import { BiosealError, IOError, TamperedError, UsageError } from '../errors.js';
import { constantTimeEqual, toHex, wipe } from '../util/bytes.js';
import { entryFromRow, entryLeafHash, eventColumns, type AuditEntry, type AuditEvent, type EntryColumns } from './entry.js';
import { HASH_LENGTH, MerkleTree } from './merkle.js';
import { signTreeHead, treeHeadToJson, verifyTreeHead, type SignedTreeHead, type TreeHeadJson } from './tree-head.js';
import { loadOrCreateLogKey, readLogKey, type LogKey } from './log-key.js';
import {
  checkFormat,
  createSchema,
  defaultStorePath,
  describeSqliteError,
  hasSchema,
  openStore,
  readMeta,
  STORE_FORMAT,
  withSqlite,
  writeMeta,
  type EntryRow,
  type HeadRow,
} from './store.js';
import { verifySnapshot, type AuditVerification } from './verify.js';

/** The most events one batch may append. */
export const MAX_BATCH = 10_000;

export interface OpenAuditLogOptions {
  /** The database file. Default `$BIOSEAL_HOME/audit.db`. */
  readonly file?: string;
  /** The log key file. Default `$BIOSEAL_HOME/audit.key`. */
  readonly keyFile?: string;
  /** Create the log (and its key) when missing. Default true, unless readOnly. */
  readonly create?: boolean;
  /** Open for reading and verifying only: appends are refused. Default false. */
  readonly readOnly?: boolean;
  /** How long to wait for another process's transaction, in milliseconds. Default 5000. */
  readonly busyTimeoutMs?: number;
}

/** An inclusion (audit) proof for one entry: RFC 6962 §2.1.1. */
export interface InclusionProof {
  readonly seq: number;
  readonly size: number;
  readonly leafHash: Uint8Array;
  readonly proof: readonly Uint8Array[];
  readonly root: Uint8Array;
}

export interface VerifyLogOptions {
  /** A head saved outside the log (parseTreeHeadJson), to catch truncation and re-signing. */
  readonly witness?: { readonly head: SignedTreeHead; readonly publicKey: Uint8Array };
}

function headFromRow(row: HeadRow): SignedTreeHead | undefined {
  const ok =
    typeof row.size === 'number' &&
    typeof row.timestamp === 'number' &&
    row.root instanceof Uint8Array &&
    row.root.length === HASH_LENGTH &&
    row.key_id instanceof Uint8Array &&
    row.signature instanceof Uint8Array;
  if (!ok) return undefined;
  return {
    size: row.size as number,
    root: new Uint8Array(row.root as Uint8Array),
    timestamp: row.timestamp as number,
    keyId: new Uint8Array(row.key_id as Uint8Array),
    signature: new Uint8Array(row.signature as Uint8Array),
  };
}

const sameHead = (a: SignedTreeHead, b: SignedTreeHead): boolean =>
  a.size === b.size && a.timestamp === b.timestamp && constantTimeEqual(a.root, b.root) && constantTimeEqual(a.signature, b.signature);

/**
 * Opens (by default creating) the audit log in a state directory.
 * @throws IOError when the log is missing (readOnly or create: false) or cannot be opened,
 *   FormatError when the file is not a bioseal audit log or the key file is malformed.
 */
export async function openAuditLog(home: string = biosealHomePath(), options: OpenAuditLogOptions = {}): Promise<AuditLog> {
  const readOnly = options.readOnly ?? false;
  const create = !readOnly && (options.create ?? true);
  const file = path.resolve(options.file ?? defaultStorePath(home));
  const keyFile = path.resolve(options.keyFile ?? path.join(home, 'audit.key'));
  if (create && (options.file === undefined || options.keyFile === undefined)) ensureBiosealHome(home);
  const db = openStore(file, { create, readOnly, busyTimeoutMs: options.busyTimeoutMs ?? 5000 });
  let key: LogKey | undefined;
  try {
    if (!readOnly) {
      // A log without a schema is new: it needs a key (made now, when absent) to sign its first head.
      const fresh = create && withSqlite(file, () => !hasSchema(db));
      key = fresh ? await loadOrCreateLogKey(keyFile) : readLogKey(keyFile);
      if (fresh) initialise(db, file, key!);
    }
    withSqlite(file, () => checkFormat(db, file));
    const publicKeyHex = withSqlite(file, () => readMeta(db, 'public_key'));
    const publicKey = publicKeyHex && /^[0-9a-f]{64}$/.test(publicKeyHex) ? new Uint8Array(Buffer.from(publicKeyHex, 'hex')) : undefined;
    return new AuditLog(db, file, keyFile, publicKey, key);
  } catch (error) {
    wipe(key?.secretKey);
    db.close();
    throw error;
  }
}

/** Creates the schema, records the key and signs the empty tree, once, whoever gets there first. */
function initialise(db: Database.Database, file: string, key: LogKey): void {
  withSqlite(file, () =>
    db
      .transaction(() => {
        if (hasSchema(db)) return;
        createSchema(db);
        writeMeta(db, 'format', STORE_FORMAT);
        writeMeta(db, 'public_key', toHex(key.publicKey));
        writeMeta(db, 'created', new Date().toISOString());
        const empty = new MerkleTree();
        insertHead(db, signTreeHead(0, empty.root(), Date.now(), key.secretKey, key.publicKey), new Uint8Array(0));
      })
      .immediate(),
  );
}

function insertHead(db: Database.Database, head: SignedTreeHead, leaves: Uint8Array): void {
  db.prepare('INSERT INTO heads (size, root, timestamp, key_id, signature, leaves) VALUES (?, ?, ?, ?, ?, ?)').run(
    head.size,
    Buffer.from(head.root),
    head.timestamp,
    Buffer.from(head.keyId),
    Buffer.from(head.signature),
    Buffer.from(leaves),
  );
}

/** An open audit log. Not safe to share between threads; open one per process (or worker). */
export class AuditLog {
  /** The Merkle tree of the recorded leaves, as far as `lastHead` vouches for it. */
  private tree = new MerkleTree();
  private lastHead: SignedTreeHead | undefined;
  private closed = false;

  /** @internal use openAuditLog */
  constructor(
    private readonly db: Database.Database,
    /** The database file. */
    readonly file: string,
    /** The log key file. */
    readonly keyFile: string,
    /** The public key recorded in the log (undefined only in a damaged log). */
    readonly publicKey: Uint8Array | undefined,
    private readonly key: LogKey | undefined,
  ) {}

  /**
   * Appends one event and signs the new tree head.
   * @returns the stored entry (with its sequence number and time).
   * @throws UsageError for a malformed event or a read-only log; IOError when the
   *   key is missing or the database is busy past the timeout; TamperedError when
   *   the log no longer matches its latest signed head (run verify).
   */
  append(event: AuditEvent): AuditEntry {
    return this.appendBatch([event])[0]!;
  }

  /** Appends several events in one transaction under one new signed head. @throws as append. */
  appendBatch(events: readonly AuditEvent[]): AuditEntry[] {
    this.checkOpen();
    if (!Array.isArray(events) || events.length === 0 || events.length > MAX_BATCH) throw new UsageError(`append between 1 and ${MAX_BATCH} events at a time`);
    const key = this.writerKey();
    const prepared = events.map((e) => eventColumns(e, ''));
    const write = () => {
      const previous = this.sync();
      const lastTime = this.db.prepare('SELECT time FROM entries ORDER BY seq DESC LIMIT 1').pluck().get() as unknown;
      // Times never go backwards along the log, even when the clock does.
      let time = new Date().toISOString();
      if (typeof lastTime === 'string' && lastTime > time) time = lastTime;
      const insert = this.db.prepare('INSERT INTO entries (seq, time, type, actor, subject, decision, reasons, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      const leaves = new Uint8Array(prepared.length * HASH_LENGTH);
      const stored: AuditEntry[] = prepared.map((p, i) => {
        const seq = previous.size + i;
        const columns: EntryColumns = { ...p, time };
        leaves.set(entryLeafHash(columns), i * HASH_LENGTH);
        try {
          insert.run(seq, columns.time, columns.type, columns.actor, columns.subject, columns.decision, columns.reasons, columns.details);
        } catch (error) {
          if (String((error as { code?: unknown }).code).startsWith('SQLITE_CONSTRAINT')) {
            throw new TamperedError(`audit entry ${seq} already exists but no signed head covers it; run bioseal audit verify`, { cause: error });
          }
          throw error;
        }
        return entryFromRow(seq, columns);
      });
      for (let i = 0; i < prepared.length; i++) this.tree.append(leaves.subarray(i * HASH_LENGTH, (i + 1) * HASH_LENGTH));
      const head = signTreeHead(this.tree.size, this.tree.root(), Math.max(Date.now(), previous.timestamp), key.secretKey, key.publicKey);
      insertHead(this.db, head, leaves);
      this.lastHead = head;
      return stored;
    };
    try {
      return this.db.transaction(write).immediate();
    } catch (error) {
      // The in-memory tree may hold leaves of a transaction that did not commit: rebuild it next time.
      this.forgetTree();
      throw describeSqliteError(error, this.file);
    }
  }

  /**
   * Entries in order, optionally only those appended at or after `since`.
   * @throws FormatError when a stored entry cannot be read (verify says more).
   */
  entries(options: { since?: Date } = {}): AuditEntry[] {
    this.checkOpen();
    const since = options.since;
    if (since !== undefined && Number.isNaN(since.getTime())) throw new UsageError('since must be a valid date');
    return withSqlite(this.file, () => {
      const rows = (
        since === undefined
          ? this.db.prepare('SELECT * FROM entries ORDER BY seq').all()
          : this.db.prepare('SELECT * FROM entries WHERE time >= ? ORDER BY seq').all(since.toISOString())
      ) as EntryRow[];
      return rows.map((row) => entryFromRow(row.seq, row));
    });
  }

  /** Number of entries the latest signed head covers. @throws as head. */
  size(): number {
    return this.head().size;
  }

  /**
   * The latest signed tree head, after checking that it verifies and matches
   * the recorded leaves.
   * @throws TamperedError when it does not.
   */
  head(): SignedTreeHead {
    this.checkOpen();
    return this.read(() => this.sync());
  }

  /** The latest head in the JSON form to keep elsewhere (`bioseal audit head > FILE`). */
  headJson(): TreeHeadJson {
    const head = this.head();
    return treeHeadToJson(head, this.publicKey!);
  }

  /**
   * The audit path of entry `seq` in the tree of `size` entries (default:
   * the latest head's size): RFC 6962 §2.1.1.
   * @throws UsageError when seq or size is outside the signed log.
   */
  inclusionProof(seq: number, size?: number): InclusionProof {
    this.checkOpen();
    return this.read(() => {
      const head = this.sync();
      const n = size ?? head.size;
      try {
        return { seq, size: n, leafHash: this.tree.leaf(seq), proof: this.tree.inclusionProof(seq, n), root: this.tree.root(n) };
      } catch (error) {
        if (error instanceof RangeError) throw new UsageError(`no inclusion proof: ${error.message}`);
        throw error;
      }
    });
  }

  /**
   * The consistency proof between the trees of `first` and `second` entries
   * (default: the latest head's size): RFC 6962 §2.1.2.
   * @throws UsageError when a size is outside the signed log or first > second.
   */
  consistencyProof(first: number, second?: number): Uint8Array[] {
    this.checkOpen();
    return this.read(() => {
      const head = this.sync();
      try {
        return this.tree.consistencyProof(first, second ?? head.size);
      } catch (error) {
        if (error instanceof RangeError) throw new UsageError(`no consistency proof: ${error.message}`);
        throw error;
      }
    });
  }

  /**
   * Verifies the whole log (see verify.ts): every leaf, every head, the key,
   * and optionally a head saved elsewhere. Never throws for a tampered log:
   * the report lists what was found.
   * @throws FormatError or IOError when the database cannot be read at all.
   */
  verify(options: VerifyLogOptions = {}): AuditVerification {
    this.checkOpen();
    let keyFilePublicKey: Uint8Array | undefined;
    const notes: string[] = [];
    try {
      const key = readLogKey(this.keyFile);
      if (key) {
        keyFilePublicKey = key.publicKey;
        wipe(key.secretKey);
      } else {
        notes.push(`the log key file ${this.keyFile} does not exist, so it was not compared with the log's key`);
      }
    } catch (error) {
      notes.push(`the log key file ${this.keyFile} could not be read (${(error as Error).message}), so it was not compared with the log's key`);
    }
    const snapshot = withSqlite(this.file, () =>
      this.db.transaction(() => {
        const entries = new Map<number, Uint8Array | undefined>();
        for (const row of this.db.prepare('SELECT * FROM entries ORDER BY seq').iterate() as IterableIterator<EntryRow>) {
          let leaf: Uint8Array | undefined;
          try {
            leaf = entryLeafHash(row);
          } catch (error) {
            if (!(error instanceof BiosealError)) throw error;
          }
          entries.set(row.seq, leaf);
        }
        const heads = this.db.prepare('SELECT * FROM heads ORDER BY size').all() as HeadRow[];
        return { publicKey: this.publicKey, entries, heads };
      })(),
    );
    const report = verifySnapshot(snapshot, { ...(keyFilePublicKey ? { keyFilePublicKey } : {}), ...(options.witness ? { witness: options.witness } : {}) });
    return { ...report, notes: [...notes, ...report.notes] };
  }

  /** Closes the database and wipes the key from memory. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    wipe(this.key?.secretKey);
    this.db.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new UsageError('the audit log is closed');
  }

  private writerKey(): LogKey {
    if (this.db.readonly) throw new UsageError('the audit log was opened read-only');
    if (!this.key) throw new IOError(`the audit log key ${this.keyFile} is missing, so nothing can be appended; restore it from a backup`);
    if (!this.publicKey || !constantTimeEqual(this.key.publicKey, this.publicKey)) {
      throw new TamperedError(`the audit log key ${this.keyFile} is not the key this log was made with: it was replaced; run bioseal audit verify`);
    }
    return this.key;
  }

  /** Runs reads in one snapshot (a deferred transaction). */
  private read<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn)();
    } catch (error) {
      throw describeSqliteError(error, this.file);
    }
  }

  private forgetTree(): void {
    this.tree = new MerkleTree();
    this.lastHead = undefined;
  }

  /**
   * Brings the in-memory tree up to the latest signed head (another process
   * may have appended), checking that head's signature and root. Call inside
   * a transaction.
   * @throws TamperedError when the latest head is missing, forged or does not match.
   */
  private sync(): SignedTreeHead {
    const row = this.db.prepare('SELECT * FROM heads ORDER BY size DESC LIMIT 1').get() as HeadRow | undefined;
    const head = row && headFromRow(row);
    const damaged = (what: string) => new TamperedError(`the audit log ${what}; run bioseal audit verify`);
    if (!head) throw damaged(row ? 'has a malformed latest head' : 'has no signed tree head');
    if (this.lastHead && sameHead(head, this.lastHead)) return head;
    if (head.size < this.tree.size) this.forgetTree();
    const rows = this.db.prepare('SELECT size, leaves FROM heads WHERE size > ? ORDER BY size').all(this.tree.size) as { size: unknown; leaves: unknown }[];
    for (const r of rows) {
      const leaves = r.leaves;
      if (!(leaves instanceof Uint8Array) || leaves.length % HASH_LENGTH !== 0 || typeof r.size !== 'number' || r.size - leaves.length / HASH_LENGTH !== this.tree.size) {
        this.forgetTree();
        throw damaged(`has a gap or an altered record in its heads before size ${String(r.size)}`);
      }
      for (let o = 0; o < leaves.length; o += HASH_LENGTH) this.tree.append(new Uint8Array(leaves.subarray(o, o + HASH_LENGTH)));
    }
    if (this.tree.size !== head.size || !constantTimeEqual(this.tree.root(), head.root) || !this.publicKey || !verifyTreeHead(head, this.publicKey)) {
      this.forgetTree();
      throw damaged(`does not match its latest signed head (size ${head.size})`);
    }
    this.lastHead = head;
    return head;
  }
}
