/**
 * What the fleet store needs from a database, so that one implementation of
 * the store's logic (`sql-store.ts`) serves SQLite and PostgreSQL alike: run
 * a parameterised statement, run a transaction, take a lock that serialises
 * writers of one key inside a transaction, and say which constraint a
 * failure broke.
 *
 * Statements are written once, in PostgreSQL's placeholder style ($1, $2,
 * ...); the SQLite driver rewrites the placeholders to `?` and orders the
 * values to match. Values are only ever bound, never spliced into the text.
 */

/** A bound value: text, an integer, bytes or NULL. */
export type SqlValue = string | number | Uint8Array | null;

/** A row as the database returns it: checked and converted by `rows.ts`. */
export type SqlRow = Readonly<Record<string, unknown>>;

/** One connection's statements (outside a transaction, each on its own). */
export interface SqlSession {
  /** Rows of a statement (SELECT, or a write with RETURNING). */
  query(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  /** Rows changed by a write. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

/** Which integrity rule a failed write broke, if any. */
export type ConstraintKind = 'unique' | 'foreign-key' | null;

/** The column types and locking of one database. */
export interface SqlDialect {
  readonly bytes: string;
  readonly integer: string;
  /** An auto-numbered integer primary key column definition. */
  readonly serial: string;
}

export interface SqlDriver extends SqlSession {
  readonly backend: 'sqlite' | 'postgres';
  readonly dialect: SqlDialect;
  /** Runs `work` in one transaction; it commits when `work` resolves and rolls back when it throws. */
  transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  /**
   * Inside a transaction: waits until no other transaction holds the same
   * `scope`/`key` lock, then holds it until commit. (SQLite needs none: its
   * write transactions are already serial.)
   */
  lock(session: SqlSession, scope: string, key: string): Promise<void>;
  /** The constraint a database error reports, or null for other failures. */
  constraintOf(error: unknown): ConstraintKind;
  /** A typed error for a failure that is not a broken constraint (unreachable server, corrupt file, ...). */
  describe(error: unknown): Error;
  close(): Promise<void>;
}
