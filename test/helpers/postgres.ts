/**
 * A real, throwaway PostgreSQL server for tests: Debian's `postgresql`
 * package (initdb and pg_ctl under /usr/lib/postgresql/VERSION/bin), a
 * cluster in a temporary directory, listening on 127.0.0.1 only (and a Unix
 * socket in that directory), stopped and removed by `dispose()`.
 *
 * PostgreSQL refuses to run as root, so when the tests run as root the
 * cluster belongs to the `postgres` user the package creates and the tools
 * run through `runuser -u postgres --`. A missing package fails the test with
 * a message naming it: these tests are never skipped.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

const PG_ROOT = '/usr/lib/postgresql';
const IS_ROOT = process.getuid?.() === 0;

export interface TestPostgres {
  /** A connection string for the superuser's `postgres` database on 127.0.0.1. */
  readonly url: string;
  readonly port: number;
  /** A connection string for a fresh, empty database (created on each call). */
  createDatabase(name: string): string;
  /** Stops the server and removes the cluster. */
  dispose(): void;
}

/** The bin directory of the newest installed PostgreSQL, or a failed assertion naming the package. */
export function postgresBinDir(): string {
  const versions = existsSync(PG_ROOT)
    ? readdirSync(PG_ROOT)
        .filter((v) => /^\d+$/.test(v) && existsSync(path.join(PG_ROOT, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  assert.ok(versions.length > 0, `PostgreSQL is not installed (no ${PG_ROOT}/*/bin/initdb): install the postgresql package (scripts/setup-system.sh does)`);
  return path.join(PG_ROOT, versions[0]!, 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts a fresh PostgreSQL server. Call dispose() in `after`. */
export async function startTestPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-pg-'));
  const data = path.join(dir, 'data');
  const owner = IS_ROOT ? Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()) : null;
  if (owner !== null) {
    chownSync(dir, owner, Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()));
  }
  chmodSync(dir, 0o700);
  const run = (tool: string, args: readonly string[]) => {
    const command = owner !== null ? 'runuser' : path.join(bin, tool);
    const argv = owner !== null ? ['-u', 'postgres', '--', path.join(bin, tool), ...args] : [...args];
    return execFileSync(command, argv, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  };
  const user = owner !== null ? 'postgres' : os.userInfo().username;
  let port = 0;
  let started = false;
  try {
    run('initdb', ['-D', data, '-A', 'trust', '-U', user, '--no-sync', '-E', 'UTF8', '--locale=C']);
    // A port taken between probing and binding makes pg_ctl fail: try a few.
    for (let attempt = 0; attempt < 5 && !started; attempt++) {
      port = await freePort();
      try {
        run('pg_ctl', ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', '-o', `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off`, 'start']);
        started = true;
      } catch (error) {
        if (attempt === 4) throw error;
      }
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const url = `postgres://${user}@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    createDatabase(name) {
      assert.match(name, /^[a-z_][a-z0-9_]{0,62}$/);
      run('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', user, name]);
      return `postgres://${user}@127.0.0.1:${port}/${name}`;
    },
    dispose() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
