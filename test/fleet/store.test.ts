/**
 * The fleet store's contract on both databases: SQLite in a temporary file,
 * and a real PostgreSQL (Debian's package) started for this file on
 * 127.0.0.1, one fresh database per test. Plus what only one backend has:
 * the SQLite file's mode and refusals of foreign files and formats.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { openFleetStore, PostgresFleetStore, SqliteFleetStore, type FleetStore } from '../../src/fleet/store/index.js';
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js';
import { storeContract } from './store-contract.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-fleet-store-'));
let postgres: TestPostgres;
let databases = 0;

before(async () => {
  postgres = await startTestPostgres();
});
after(() => {
  postgres?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

storeContract('sqlite', async () => {
  const file = path.join(dir, `fleet-${++databases}.db`);
  const store = await SqliteFleetStore.open({ file });
  const handles: FleetStore[] = [store];
  return {
    store,
    another: async () => store,
    reopen: async () => {
      const h = await SqliteFleetStore.open({ file });
      handles.push(h);
      return h;
    },
    dispose: async () => {
      for (const h of handles) await h.close();
      rmSync(file, { force: true });
    },
  };
});

storeContract('postgres', async () => {
  const url = postgres.createDatabase(`fleet_${++databases}`);
  const store = await PostgresFleetStore.connect({ url });
  const handles: FleetStore[] = [store];
  const open = async () => {
    const h = await PostgresFleetStore.connect({ url });
    handles.push(h);
    return h;
  };
  return {
    store,
    another: open,
    reopen: open,
    dispose: async () => {
      for (const h of handles) await h.close();
    },
  };
});

test('sqlite: the default file is $BIOSEAL_HOME/fleet.db, mode 0600', async () => {
  const home = path.join(dir, 'home');
  const store = await openFleetStore(undefined, home);
  try {
    assert.equal(store.backend, 'sqlite');
    assert.equal(statSync(path.join(home, 'fleet.db')).mode & 0o777, 0o600);
  } finally {
    await store.close();
  }
});

test('sqlite: a file that is not a database is refused with E_FORMAT', async () => {
  const file = path.join(dir, 'not-a-db.db');
  writeFileSync(file, 'this is not SQLite '.repeat(100));
  await assert.rejects(SqliteFleetStore.open({ file }), { code: 'E_FORMAT' });
});

test('postgres: a database of another format is refused with E_FORMAT; a wrong server is E_IO; a non-URL is E_USAGE', async () => {
  const url = postgres.createDatabase('foreign_format');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CREATE TABLE fleet_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    await client.query("INSERT INTO fleet_meta VALUES ('format', 'bioseal-fleet-99')");
  } finally {
    await client.end();
  }
  await assert.rejects(PostgresFleetStore.connect({ url }), { code: 'E_FORMAT' });
  const closedPort = postgres.port === 1 ? 2 : 1;
  await assert.rejects(PostgresFleetStore.connect({ url: `postgres://nobody:secret@127.0.0.1:${closedPort}/x` }), (error: any) => {
    assert.equal(error.code, 'E_IO');
    assert.doesNotMatch(error.message, /secret/, 'the password is not repeated');
    return true;
  });
  await assert.rejects(openFleetStore('mysql://x'), { code: 'E_USAGE' });
});
