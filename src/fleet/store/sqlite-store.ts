/**
 * The single-machine fleet store: one SQLite file (better-sqlite3), by
 * default `$BIOSEAL_HOME/fleet.db`, created with mode 0600, in WAL mode with
 * synchronous=FULL (a committed write survives a power cut) and foreign keys
 * enforced.
 *
 * better-sqlite3 is synchronous, while a store transaction may await between
 * statements. So every call goes through one queue: a transaction holds the
 * connection from BEGIN IMMEDIATE to COMMIT, and other calls wait for it.
 * Other processes on the same file wait on SQLite's busy timeout.
 */
import Database from 'better-sqlite3';
import { closeSync, existsSync, openSync } from 'node:fs';
import path from 'node:path';
import { ensureBiosealHome, biosealHomePath } from '../../home.js';
import { FormatError, IOError } from '../../errors.js';
import { migrate } from './schema.js';
import { SqlFleetStore } from './sql-store.js';
import type { ConstraintKind, SqlDialect, SqlDriver, SqlRow, SqlSession, SqlValue } from './sql-driver.js';

/** The fleet database's file name in the state directory. */
export const FLEET_DB_FILE = 'fleet.db';
const BUSY_TIMEOUT_MS = 5000;

const DIALECT: SqlDialect = { bytes: 'BLOB', integer: 'INTEGER', serial: 'INTEGER PRIMARY KEY' };

/** `$n` placeholders to `?`, with the values in the order they now appear. */
function positional(sql: string, params: readonly SqlValue[]): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
    const v = params[Number(n) - 1];
    values.push(v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v);
    return '?';
  });
  return { text, values };
}

class SqliteDriver implements SqlDriver {
  readonly backend = 'sqlite' as const;
  readonly dialect = DIALECT;
  private readonly statements = new Map<string, { statement: Database.Statement; order: (params: readonly SqlValue[]) => unknown[] }>();
  private tail: Promise<unknown> = Promise.resolve();
  /** Statements of a transaction in progress run straight on the connection. */
  private readonly direct: SqlSession = {
    query: async (sql, params = []) => this.exec(sql, params, true) as SqlRow[],
    run: async (sql, params = []) => this.exec(sql, params, false) as number,
  };

  constructor(
    private readonly db: Database.Database,
    readonly file: string,
  ) {}

  query(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    return this.exclusive(async () => this.exec(sql, params, true) as SqlRow[]);
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.exclusive(async () => this.exec(sql, params, false) as number);
  }

  transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(this.direct);
        this.db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  async lock(): Promise<void> {
    // BEGIN IMMEDIATE already made this the only writer.
  }

  constraintOf(error: unknown): ConstraintKind {
    const code = String((error as { code?: unknown })?.code ?? '');
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return 'unique';
    if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'foreign-key';
    return null;
  }

  describe(error: unknown): Error {
    const code = String((error as { code?: unknown })?.code ?? '');
    const message = error instanceof Error ? error.message : String(error);
    if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) return new FormatError(`${this.file} is not a usable fleet database (${message})`, { cause: error });
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return new IOError(`the fleet database ${this.file} stayed locked by another process`, { cause: error });
    return new IOError(`the fleet database ${this.file} could not be used: ${message}`, { cause: error });
  }

  async close(): Promise<void> {
    await this.exclusive(async () => this.db.close());
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private exec(sql: string, params: readonly SqlValue[], rows: boolean): SqlRow[] | number {
    let prepared = this.statements.get(sql);
    if (!prepared) {
      const { text } = positional(sql, []);
      prepared = { statement: this.db.prepare(text), order: (p) => positional(sql, p).values };
      this.statements.set(sql, prepared);
    }
    const values = prepared.order(params);
    return rows ? (prepared.statement.all(...values) as SqlRow[]) : prepared.statement.run(...values).changes;
  }
}

export interface SqliteFleetStoreOptions {
  /** The database file; default `$BIOSEAL_HOME/fleet.db`. */
  readonly file?: string;
  /** The state directory holding the default file; default $BIOSEAL_HOME. */
  readonly home?: string;
  /** Milliseconds since 1970, for the stored times; default Date.now. */
  readonly clock?: () => number;
}

/** The fleet store in one SQLite file: the single-machine default. */
export class SqliteFleetStore extends SqlFleetStore {
  /**
   * Opens (creating when missing) the database and brings its schema up to date.
   * @throws IOError when the file cannot be opened; FormatError when it is not a fleet database.
   * @example const store = await SqliteFleetStore.open(); await store.listDevices();
   */
  static async open(options: SqliteFleetStoreOptions = {}): Promise<SqliteFleetStore> {
    const file = path.resolve(options.file ?? path.join(ensureBiosealHome(options.home ?? biosealHomePath()), FLEET_DB_FILE));
    let db: Database.Database;
    try {
      // SQLite would create it with the umask's mode; the templates and keys are the fleet's.
      if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
      db = new Database(file, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    } catch (error) {
      throw new IOError(`cannot open the fleet database ${file}: ${(error as Error).message}`, { cause: error });
    }
    const driver = new SqliteDriver(db, file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      await migrate(driver);
    } catch (error) {
      db.close();
      throw error instanceof FormatError || error instanceof IOError ? error : driver.describe(error);
    }
    return new SqliteFleetStore(driver, driver, false, options.clock);
  }
}
