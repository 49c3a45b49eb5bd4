/**
 * `bioseal audit show|verify|head` through real CLI subprocesses: the
 * explanation printed per entry, --since, --json, exit 0 for an intact log
 * and 4 (E_TAMPERED) with every finding for a tampered one, a head saved
 * with `audit head` catching truncation, and typed errors for bad input.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { assertError, assertOk, makeWorkspace, runCli, type CliOptions } from '../helpers/cli.js';
import { buildLog, copyHome, tamper } from '../audit/helpers.js';

const ws = makeWorkspace('bioseal-audit-cli-');
after(() => ws.cleanup());
const cli = (args: readonly string[], o: CliOptions = {}) => runCli(args, { home: ws.home, cwd: ws.dir, ...o });
let copies = 0;
const copy = (): string => copyHome(ws.home, ws.p(`copy-${copies++}`));

before(async () => {
  (await buildLog(ws.home, 6)).close();
});

describe('bioseal audit', { concurrency: 4 }, () => {
  test('--help and usage errors', async () => {
    const help = await cli(['audit', '--help']);
    assertOk(help);
    assert.match(help.stdout, /bioseal audit show/);
    assert.match(help.stdout, /bioseal audit verify/);
    assertError(await cli(['audit']), 'E_USAGE');
    assertError(await cli(['audit', 'append']), 'E_USAGE');
    assertError(await cli(['audit', 'verify', '--since', '1h']), 'E_USAGE');
    assertError(await cli(['audit', 'show', 'extra']), 'E_USAGE');
    assertError(await cli(['audit', 'show', '--since', 'soon']), 'E_USAGE', { message: /duration/ });
    assertError(await cli(['audit', 'show', '--since', 'soon', '--json']), 'E_USAGE', { json: true });
  });

  test('show prints one line per entry with its decision and explanation, then the latest head', async () => {
    const r = await cli(['audit', 'show']);
    assertOk(r);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 7, r.stdout);
    assert.match(lines[0]!, /^#0 \d{4}-\d\d-\d\dT[\d:.]+Z unlock alice -> model\.bseal \| allow: face matched \(score 0\.90\); liveness passed {2}\{"factors":\["face","tpm"\],"i":0\}$/);
    assert.match(lines[1]!, /^#1 .* decision alice -> model\.bseal \| deny: trust 0\.41 below model:infer threshold 0\.6/);
    assert.match(lines[6]!, /^latest signed head: size 6, root [0-9a-f]{64}/);
  });

  test('show --json and --since', async () => {
    const all = await cli(['audit', 'show', '--json']);
    assertOk(all);
    assert.equal(all.json.entries.length, 6);
    assert.equal(all.json.head.size, 6);
    assert.equal(all.json.entries[3].type, 'lock');
    const recent = await cli(['audit', 'show', '--since', '1h', '--json']);
    assert.equal(recent.json.entries.length, 6);
    const future = await cli(['audit', 'show', '--since', '2999-01-01']);
    assertOk(future);
    assert.match(future.stdout, /^no entries since 2999-01-01T00:00:00\.000Z$/m);
  });

  test('verify exits 0 on an intact log and prints the head to keep', async () => {
    const r = await cli(['audit', 'verify']);
    assertOk(r);
    assert.match(r.stdout, /^OK .*audit\.db: 6 entries and 7 signed heads verified/m);
    const j = await cli(['audit', 'verify', '--json']);
    assertOk(j);
    assert.equal(j.json.ok, true);
    assert.equal(j.json.head.size, 6);
    assert.equal(j.json.head.format, 'bioseal-audit-head-1');
  });

  test('verify exits 4 on a tampered log and names every finding', async () => {
    const home = copy();
    tamper(home, (db) => {
      db.prepare("UPDATE entries SET decision = 'allow' WHERE seq = 1").run();
      db.prepare('DELETE FROM entries WHERE seq = 4').run();
    });
    const r = await cli(['audit', 'verify'], { home });
    assertError(r, 'E_TAMPERED', { message: /2 problem\(s\); first: entry 1 was edited/ });
    assert.match(r.stderr, /^ {2}\[edited\] entry 1 was edited/m);
    assert.match(r.stderr, /^ {2}\[deleted\] entry 4 was deleted/m);
    const j = await cli(['audit', 'verify', '--json'], { home });
    assertError(j, 'E_TAMPERED', { json: true });
    assert.deepEqual(
      j.json.error.findings.map((f: { kind: string; seq: number }) => [f.kind, f.seq]),
      [
        ['edited', 1],
        ['deleted', 4],
      ],
    );
    // show still lists what is there (five entries and the head line); judging it is verify's job.
    const shown = await cli(['audit', 'show'], { home });
    assertOk(shown);
    assert.equal(shown.stdout.trim().split('\n').length, 6);
  });

  test('a head saved with `audit head` catches the log cut short with its heads', async () => {
    const home = copy();
    const saved = await cli(['audit', 'head'], { home });
    assertOk(saved);
    const headFile = ws.p('saved-head.json');
    writeFileSync(headFile, saved.stdout);
    assertOk(await cli(['audit', 'verify', '--head', headFile], { home }), 'verify against a current saved head');
    tamper(home, (db) => {
      db.prepare('DELETE FROM entries WHERE seq >= 4').run();
      db.prepare('DELETE FROM heads WHERE size > 4').run();
    });
    assertOk(await cli(['audit', 'verify'], { home }), 'on its own, a shortened log cannot tell');
    const r = await cli(['audit', 'verify', '--head', headFile, '--json'], { home });
    assertError(r, 'E_TAMPERED', { json: true });
    assert.equal(r.json.error.findings[0].kind, 'truncated');
    assert.equal(r.json.error.findings[0].seq, 4);
  });

  test('missing, foreign and malformed files give typed errors', async () => {
    const empty = ws.p('empty-home');
    assertError(await cli(['audit', 'show'], { home: empty }), 'E_IO', { message: /there is no audit log/ });
    assertError(await cli(['audit', 'verify', '--json'], { home: empty }), 'E_IO', { json: true });
    const garbage = ws.p('garbage.db');
    writeFileSync(garbage, 'this is not a database'.repeat(200));
    assertError(await cli(['audit', 'verify', '--file', garbage]), 'E_FORMAT', { message: /not an SQLite database/ });
    assertError(await cli(['audit', 'verify', '--head', ws.p('no-such-head.json')]), 'E_IO');
    const badHead = ws.p('bad-head.json');
    writeFileSync(badHead, '{"format":"bioseal-audit-head-1"}');
    assertError(await cli(['audit', 'verify', '--head', badHead]), 'E_FORMAT', { message: /saved tree head/ });
  });
});
