/**
 * `bioseal serve --trust FILE`: the daemon runs with the file's trust
 * settings, and a bad file keeps it from starting, with a clear error.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { assertError, collect, makeWorkspace, runCli, spawnCli } from '../helpers/cli.js';

test('bioseal serve --trust FILE: the session reports the lock threshold from the file', async () => {
  const ws = makeWorkspace();
  const daemon = spawnCli(['serve', '--port', '0', '--socket', ws.p('d.sock'), '--trust', writeJson(ws.p('trust.json'), { lockThreshold: 0.3, halfLifeSeconds: 120 }), '--json'], { home: ws.home });
  try {
    const done = collect(daemon, { timeoutMs: 60_000, interactive: true });
    // The addresses come as one JSON object once the daemon listens.
    let out = '';
    let started: { url: string } | undefined;
    for await (const chunk of daemon.stdout!) {
      out += String(chunk);
      try {
        started = JSON.parse(out) as { url: string };
        break;
      } catch {
        // not whole yet
      }
    }
    assert.ok(started, `the daemon printed its addresses: ${out}`);
    const { url } = started;
    const session = (await (await fetch(`${url}/v1/session`)).json()) as { lockThreshold: number; state: string };
    assert.equal(session.lockThreshold, 0.3);
    assert.equal(session.state, 'locked');
    daemon.kill('SIGTERM');
    assert.equal((await done).code, 0);
  } finally {
    if (daemon.exitCode === null) {
      daemon.kill('SIGKILL');
      await once(daemon, 'exit');
    }
    ws.cleanup();
  }
});

test('bioseal serve --trust FILE: a bad file keeps the daemon from starting', async () => {
  const ws = makeWorkspace();
  try {
    const serve = (file: string) => runCli(['serve', '--port', '0', '--socket', ws.p('d.sock'), '--trust', file], { home: ws.home, timeoutMs: 30_000 });
    assertError(await serve(writeJson(ws.p('unknown.json'), { halfLife: 10 })), 'E_USAGE', { message: /unknown configuration key "halfLife"/ });
    assertError(await serve(writeJson(ws.p('range.json'), { lockThreshold: -1 })), 'E_USAGE', { message: /lockThreshold/ });
    writeFileSync(ws.p('broken.json'), '{"lockThreshold": ');
    assertError(await serve(ws.p('broken.json')), 'E_USAGE', { message: /not JSON/ });
    assertError(await serve(ws.p('missing.json')), 'E_USAGE', { message: /cannot read/ });
  } finally {
    ws.cleanup();
  }
});

function writeJson(file: string, value: unknown): string {
  writeFileSync(file, JSON.stringify(value));
  return file;
}
