/**
 * The passkey factor end to end through the real `bioseal` CLI and a real
 * browser (Chromium with a virtual authenticator): `enroll passkey`, `seal
 * --policy "passkey | recovery"`, `check` and `inspect`, each ceremony
 * completed on the page whose address the CLI prints (BIOSEAL_BROWSER=none,
 * so no desktop browser is started). Also the typed errors: a cancel on the
 * page, a timeout, a bad --timeout and an existing enrolment.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { assertError, assertOk, collect, makeWorkspace, runCli, spawnCli, writePassphrase, type CliResult } from '../helpers/cli.js';
import { TestBrowser, type PageOutcome } from '../helpers/browser.js';

const ws = makeWorkspace('bioseal-passkey-cli-');
let browser: TestBrowser;
before(async () => {
  browser = await TestBrowser.launch();
  await browser.addAuthenticator();
});
after(async () => {
  await browser?.close();
  ws.cleanup();
});

const env = { BIOSEAL_BROWSER: 'none' };
const PAGE = /open this page to continue: (http:\/\/localhost:\d+\/c\/[A-Za-z0-9_-]{43}\/)/g;

/** Runs the CLI, completing (or cancelling) on the page every ceremony it prints. */
async function withPages(args: string[], action: 'continue' | 'cancel' = 'continue'): Promise<CliResult & { pages: PageOutcome[] }> {
  const child = spawnCli(args, { home: ws.home, cwd: ws.dir, env });
  const pages: Promise<PageOutcome>[] = [];
  let seen = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    seen += d;
    const urls = [...seen.matchAll(PAGE)].map((m) => m[1]!);
    for (const url of urls.slice(pages.length)) pages.push(browser.completeCeremony(url, action));
  });
  const result = await collect(child, { timeoutMs: 120_000 });
  return { ...result, pages: await Promise.all(pages) };
}

describe('bioseal enroll passkey / seal / check', () => {
  test('enrol, seal under "passkey | recovery", check and inspect, each through the page', async () => {
    const enrol = await withPages(['enroll', 'passkey', '--json']);
    assertOk(enrol, 'enroll passkey');
    assert.equal(enrol.json.ok, true);
    assert.equal(enrol.json.name, 'default');
    assert.match(enrol.json.id, /^[0-9a-f]{32}$/);
    assert.deepEqual(enrol.pages.map((p) => p.state), ['done']);

    writeFileSync(ws.p('m.onnx'), randomBytes(40_000));
    const pw = writePassphrase(ws.p('pw.txt'), 'a recovery passphrase for the test');
    const seal = await withPages(['seal', 'm.onnx', '-o', 'm.bseal', '--policy', 'passkey | recovery', '--passphrase-file', pw]);
    assertOk(seal, 'seal');
    assert.equal(seal.pages.length, 1);

    const check = await withPages(['check', 'm.bseal', '--json']);
    assertOk(check, 'check');
    assert.deepEqual(check.pages.map((p) => p.state), ['done']);

    const inspect = await runCli(['inspect', 'm.bseal', '--json'], { home: ws.home, cwd: ws.dir, env });
    assertOk(inspect, 'inspect');
    assert.match(JSON.stringify(inspect.json), /"passkey"/);
    assert.match(JSON.stringify(inspect.json), new RegExp(enrol.json.id));

    // A cancel on the page: the passkey slot cannot open, and no other slot can without the passphrase.
    const cancelled = await withPages(['check', 'm.bseal'], 'cancel');
    assert.notEqual(cancelled.code, 0);
    assert.match(cancelled.stderr, /cancelled on the page/);
    assert.deepEqual(cancelled.pages.map((p) => p.state), ['failed']);
  });

  test('enroll passkey: an existing name, a bad --timeout, a page nobody opens, a cancel', async () => {
    assertError(await runCli(['enroll', 'passkey'], { home: ws.home, cwd: ws.dir, env }), 'E_EXISTS');
    assertError(await runCli(['enroll', 'passkey', '--name', 'x', '--timeout', 'soon'], { home: ws.home, cwd: ws.dir, env }), 'E_USAGE', { message: /--timeout/ });
    const late = await runCli(['enroll', 'passkey', '--name', 'late', '--timeout', '1', '--json'], { home: ws.home, cwd: ws.dir, env });
    assertError(late, 'E_DEVICE', { json: true, message: /within 1 s/ });
    assert.equal(late.json.error.failure, 'timeout');
    const cancelled = await withPages(['enroll', 'passkey', '--name', 'other', '--json'], 'cancel');
    assertError(cancelled, 'E_DEVICE', { json: true });
    assert.equal(cancelled.json.error.failure, 'cancelled');
  });
});
