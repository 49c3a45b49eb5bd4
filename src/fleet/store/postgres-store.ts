/**
 * The fleet store in PostgreSQL (the `pg` client), for a fleet: several
 * service processes may share one database. Connection string from the
 * options or `BIOSEAL_FLEET_DATABASE_URL`
 * (`postgres://USER[:PASSWORD]@HOST:PORT/DATABASE`); the schema is migrated
 * on connect.
 *
 * Every statement is parameterised. Transactions run on one pooled
 * connection at READ COMMITTED; rules that read before they write (model
 * versions, audit heads) take a transaction-scoped advisory lock on their key
 * (`pg_advisory_xact_lock`), so concurrent writers of one key queue up while
 * writers of other keys proceed.
 */
import pg from 'pg';
import { FormatError, IOError, UsageError } from '../../errors.js';
import { migrate } from './schema.js';
import { SqlFleetStore } from './sql-store.js';
import type { ConstraintKind, SqlDialect, SqlDriver, SqlRow, SqlSession, SqlValue } from './sql-driver.js';

/** The environment variable naming the fleet's PostgreSQL database. */
export const FLEET_DATABASE_URL_ENV = 'BIOSEAL_FLEET_DATABASE_URL';

const DIALECT: SqlDialect = { bytes: 'BYTEA', integer: 'BIGINT', serial: 'BIGSERIAL PRIMARY KEY' };

function values(params: readonly SqlValue[]): unknown[] {
  return params.map((v) => (v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v));
}

function sessionOf(client: pg.Pool | pg.PoolClient): SqlSession {
  return {
    async query(sql, params = []) {
      return (await client.query(sql, values(params))).rows as SqlRow[];
    },
    async run(sql, params = []) {
      return (await client.query(sql, values(params))).rowCount ?? 0;
    },
  };
}

/** The connection string without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured database';
  }
}

class PostgresDriver implements SqlDriver {
  readonly backend = 'postgres' as const;
  readonly dialect = DIALECT;
  private readonly pooled: SqlSession;

  constructor(
    private readonly pool: pg.Pool,
    private readonly where: string,
  ) {
    this.pooled = sessionOf(pool);
  }

  query(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]> {
    return this.pooled.query(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.pooled.run(sql, params);
  }

  async transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(sessionOf(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      // A connection whose rollback failed is closed rather than reused.
      client.release(broken);
    }
  }

  async lock(session: SqlSession, scope: string, key: string): Promise<void> {
    await session.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [scope, key]);
  }

  constraintOf(error: unknown): ConstraintKind {
    const code = (error as { code?: unknown })?.code;
    if (code === '23505') return 'unique';
    if (code === '23503') return 'foreign-key';
    return null;
  }

  describe(error: unknown): Error {
    const code = String((error as { code?: unknown })?.code ?? '');
    const message = error instanceof Error ? error.message : String(error);
    if (code.startsWith('22')) return new FormatError(`the fleet database refused a value: ${message}`, { cause: error });
    if (/^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EHOSTUNREACH)$/.test(code) || code.startsWith('08') || code.startsWith('57P') || code === '28P01' || code === '28000' || code === '3D000') {
      return new IOError(`cannot use the fleet database at ${this.where}: ${message}`, { cause: error });
    }
    return new IOError(`the fleet database at ${this.where} failed: ${message}`, { cause: error });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export interface PostgresFleetStoreOptions {
  /** `postgres://...`; default $BIOSEAL_FLEET_DATABASE_URL. */
  readonly url?: string;
  /** Most connections held open; default 10. */
  readonly maxConnections?: number;
  /** Milliseconds since 1970, for the stored times; default Date.now. */
  readonly clock?: () => number;
}

/** The fleet store in PostgreSQL. */
export class PostgresFleetStore extends SqlFleetStore {
  /**
   * Connects and brings the schema up to date.
   * @throws UsageError without a connection string; IOError when the server cannot be used; FormatError for a database of another format.
   * @example const store = await PostgresFleetStore.connect({ url: 'postgres://fleet@127.0.0.1:5432/fleet' });
   */
  static async connect(options: PostgresFleetStoreOptions = {}): Promise<PostgresFleetStore> {
    const url = options.url ?? process.env[FLEET_DATABASE_URL_ENV];
    if (!url) throw new UsageError(`no PostgreSQL connection string: pass one or set ${FLEET_DATABASE_URL_ENV}`);
    if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError(`the fleet database URL must start with postgres:// (got ${redactUrl(url)})`);
    const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10, connectionTimeoutMillis: 10_000, application_name: 'bioseal-fleet' });
    // An idle connection the server drops is removed from the pool; without a listener it would crash the process.
    pool.on('error', () => undefined);
    const driver = new PostgresDriver(pool, redactUrl(url));
    try {
      await migrate(driver);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error instanceof FormatError ? error : driver.describe(error);
    }
    return new PostgresFleetStore(driver, driver, false, options.clock);
  }
}
