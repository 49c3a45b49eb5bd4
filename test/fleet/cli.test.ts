/**
 * `bioseal fleet serve` as a process: it prints its address as one JSON
 * line, makes the operator token file (mode 0600), answers on 127.0.0.1 with
 * the chosen backend (SQLite by default, PostgreSQL with --database), and
 * stops on SIGTERM. Bad arguments are E_USAGE; an unreachable database is E_IO.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { statSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { assertError, assertOk, makeWorkspace, readStartedJson, runCli, spawnCli } from '../helpers/cli.js';
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js';

const ws = makeWorkspace('bioseal-fleet-cli-');
let postgres: TestPostgres;
before(async () => {
  postgres = await startTestPostgres();
});
after(() => {
  postgres?.dispose();
  ws.cleanup();
});

async function serveOnce(args: string[], expectedBackend: string): Promise<void> {
  const child = spawnCli(['fleet', 'serve', '--port', '0', '--json', ...args], { home: ws.home });
  try {
    // --json prints one (indented) JSON object once the service listens.
    const started = await readStartedJson(child);
    assert.match(started.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(started.backend, expectedBackend);
    assert.equal(started.operator_token_file, path.join(ws.home, 'fleet-operator.token'));
    assert.equal(statSync(started.operator_token_file).mode & 0o777, 0o600);
    const health = await (await fetch(`${started.url}/v1/health`)).json();
    assert.deepEqual(health, { ok: true, backend: expectedBackend });
  } finally {
    child.kill('SIGTERM');
    const [code] = await once(child, 'close');
    assert.equal(code, 0);
  }
}

test('fleet serve: SQLite by default, in $BIOSEAL_HOME/fleet.db', async () => {
  await serveOnce([], 'sqlite');
  assert.ok(statSync(path.join(ws.home, 'fleet.db')).isFile());
});

test('fleet serve --database postgres://...: the same service on PostgreSQL', async () => {
  await serveOnce(['--database', postgres.createDatabase('fleet_cli')], 'postgres');
});

test('fleet: help, and E_USAGE / E_IO for bad arguments', async () => {
  const help = await runCli(['fleet', '--help'], { home: ws.home });
  assertOk(help, 'fleet --help');
  assert.match(help.stdout, /bioseal fleet serve/);
  assertError(await runCli(['fleet'], { home: ws.home }), 'E_USAGE');
  assertError(await runCli(['fleet', 'serve', '--port', 'x'], { home: ws.home }), 'E_USAGE');
  assertError(await runCli(['fleet', 'serve', '--database', 'mysql://x', '--json'], { home: ws.home }), 'E_USAGE', { json: true });
  assertError(await runCli(['fleet', 'serve', '--port', '0', '--database', 'postgres://nobody@127.0.0.1:1/x'], { home: ws.home, timeoutMs: 30_000 }), 'E_IO');
});
