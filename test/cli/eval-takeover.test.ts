import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { runCli, assertOk, assertError, makeWorkspace } from '../helpers/cli.js';
import { meuCsv } from '../biometrics/keystroke/synthetic.js';

test('bioseal eval takeover --keystroke --json: time to lock and false locks for the asked and the dense schedule', async () => {
  const ws = makeWorkspace();
  try {
    const csv = ws.p('ksd.csv');
    writeFileSync(csv, meuCsv(4, 30));
    const r = await runCli(['eval', 'takeover', '--keystroke', csv, '--days', '1', '--keystroke-every', '20', '--json'], { home: ws.home });
    assertOk(r, 'eval takeover');
    const j = r.json;
    assert.equal(j.owners, 4);
    assert.equal(j.face, null);
    assert.equal(j.keystroke.subjects, 4);
    assert.equal(j.keystroke.keysPerSample, 14);
    for (const s of [j.schedule, j.dense]) {
      for (const half of ['all', 'even', 'odd']) {
        const t = s[half].timeToLockSeconds;
        for (const key of ['trials', 'median', 'p95', 'max', 'notLocked']) assert.ok(key in t, `${half}: missing ${key}`);
        assert.equal(typeof s[half].falseLocksPerDay, 'number');
      }
      assert.equal(s.all.timeToLockSeconds.trials, 12, 'every owner against every other');
      assert.equal(s.all.genuineDays, 4);
      assert.equal(typeof s.goals.timeToLockUnder5s, 'boolean');
      assert.equal(typeof s.goals.falseLocksUnder1PerDay, 'boolean');
    }
    assert.equal(j.schedule.all.schedule.keystrokeEverySeconds, 20);
    assert.equal(j.schedule.all.schedule.faceEverySeconds, 30);

    const text = await runCli(['eval', 'takeover', '--keystroke', csv, '--days', '1'], { home: ws.home });
    assertOk(text);
    assert.match(text.stdout, /time to lock median/);
  } finally {
    ws.cleanup();
  }
});

test('bioseal eval takeover: clear typed errors for bad input', async () => {
  const ws = makeWorkspace();
  try {
    const opts = { home: ws.home };
    assertError(await runCli(['eval', 'takeover', '--json'], opts), 'E_USAGE', { json: true, message: /--keystroke/ });
    assertError(await runCli(['eval', 'takeover', '--keystroke', ws.p('missing.csv'), '--json'], opts), 'E_IO', { json: true });
    writeFileSync(ws.p('header.csv'), 'Subject,a,b\n1,2,3\n');
    assertError(await runCli(['eval', 'takeover', '--keystroke', ws.p('header.csv')], opts), 'E_FORMAT');
    writeFileSync(ws.p('one.csv'), meuCsv(1, 30));
    assertError(await runCli(['eval', 'takeover', '--keystroke', ws.p('one.csv')], opts), 'E_USAGE', { message: /two/ });
    writeFileSync(ws.p('ok.csv'), meuCsv(2, 30));
    assertError(await runCli(['eval', 'takeover', '--keystroke', ws.p('ok.csv'), '--keystroke-every', '0'], opts), 'E_USAGE');
    assertError(await runCli(['eval', 'takeover', '--keystroke', ws.p('ok.csv'), '--days', 'many'], opts), 'E_USAGE');
    assertError(await runCli(['eval', 'takeover', 'extra', '--keystroke', ws.p('ok.csv')], opts), 'E_USAGE');
    assertError(await runCli(['eval', 'takeover', '--faces', ws.p('nowhere')], opts), 'E_IO');
  } finally {
    ws.cleanup();
  }
});
