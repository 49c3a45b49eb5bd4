/**
 * The fleet store's tables (format `bioseal-fleet-1`), written once for both
 * databases (column types from the dialect), and the migration every store
 * runs when it connects: create what is missing, refuse a database of a
 * format this version does not know. The migration holds a lock so that
 * several services starting at once against one PostgreSQL do not race.
 *
 *   fleet_meta(key, value)                       format
 *   devices(seq, id UNIQUE, public_key UNIQUE, evaluation_keys, fingerprint, registered_at, revoked_at)
 *   enrolments(device_id -> devices, person, template, fingerprint, created_at)   key (device_id, person)
 *   gallery_groups(seq, holder_id -> devices, enrolled_by -> devices, labels (JSON list), group_bytes, fingerprint, created_at)
 *   models(seq, name, version, manifest, digest, published_at)                   UNIQUE (name, version)
 *   audit_heads(seq, device_id -> devices, size, root, timestamp, key_id, signature, received_at)  UNIQUE (device_id, size)
 *   nonces(device_id, nonce, expires_at)                                          key (device_id, nonce)
 */
import { FormatError } from '../../errors.js';
import type { SqlDialect, SqlDriver } from './sql-driver.js';

/** The value of fleet_meta.format for this layout. */
export const FLEET_STORE_FORMAT = 'bioseal-fleet-1';

function tables(d: SqlDialect): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS devices (
      seq ${d.serial},
      id TEXT NOT NULL UNIQUE,
      public_key ${d.bytes} NOT NULL UNIQUE,
      evaluation_keys ${d.bytes} NOT NULL,
      fingerprint ${d.bytes} NOT NULL,
      registered_at ${d.integer} NOT NULL,
      revoked_at ${d.integer})`,
    `CREATE TABLE IF NOT EXISTS enrolments (
      device_id TEXT NOT NULL REFERENCES devices (id),
      person TEXT NOT NULL,
      template ${d.bytes} NOT NULL,
      fingerprint ${d.bytes} NOT NULL,
      created_at ${d.integer} NOT NULL,
      PRIMARY KEY (device_id, person))`,
    `CREATE TABLE IF NOT EXISTS gallery_groups (
      seq ${d.serial},
      holder_id TEXT NOT NULL REFERENCES devices (id),
      enrolled_by TEXT NOT NULL REFERENCES devices (id),
      labels TEXT NOT NULL,
      group_bytes ${d.bytes} NOT NULL,
      fingerprint ${d.bytes} NOT NULL,
      created_at ${d.integer} NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS gallery_groups_holder ON gallery_groups (holder_id, seq)`,
    `CREATE TABLE IF NOT EXISTS models (
      seq ${d.serial},
      name TEXT NOT NULL,
      version ${d.integer} NOT NULL,
      manifest ${d.bytes} NOT NULL,
      digest TEXT NOT NULL,
      published_at ${d.integer} NOT NULL,
      UNIQUE (name, version))`,
    `CREATE TABLE IF NOT EXISTS audit_heads (
      seq ${d.serial},
      device_id TEXT NOT NULL REFERENCES devices (id),
      size ${d.integer} NOT NULL,
      root ${d.bytes} NOT NULL,
      timestamp ${d.integer} NOT NULL,
      key_id ${d.bytes} NOT NULL,
      signature ${d.bytes} NOT NULL,
      received_at ${d.integer} NOT NULL,
      UNIQUE (device_id, size))`,
    `CREATE TABLE IF NOT EXISTS nonces (
      device_id TEXT NOT NULL,
      nonce TEXT NOT NULL,
      expires_at ${d.integer} NOT NULL,
      PRIMARY KEY (device_id, nonce))`,
    `CREATE INDEX IF NOT EXISTS nonces_expiry ON nonces (expires_at)`,
  ];
}

/**
 * Brings the database to this format (creating the tables in an empty one).
 * @throws FormatError when it holds another format, or tables that are not the fleet store's.
 */
export async function migrate(driver: SqlDriver): Promise<void> {
  await driver.transaction(async (s) => {
    await driver.lock(s, 'fleet-schema', FLEET_STORE_FORMAT);
    await s.run('CREATE TABLE IF NOT EXISTS fleet_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    const [row] = await s.query('SELECT value FROM fleet_meta WHERE key = $1', ['format']);
    if (row !== undefined && row.value !== FLEET_STORE_FORMAT) {
      throw new FormatError(`the fleet database has format "${String(row.value).slice(0, 40)}", which this version cannot use (it uses ${FLEET_STORE_FORMAT})`);
    }
    for (const statement of tables(driver.dialect)) await s.run(statement);
    if (row === undefined) await s.run('INSERT INTO fleet_meta (key, value) VALUES ($1, $2)', ['format', FLEET_STORE_FORMAT]);
  });
}
