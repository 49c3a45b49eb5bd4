import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { runCli, assertOk, assertError, makeWorkspace } from '../helpers/cli.js';
import { meuCsv } from '../biometrics/keystroke/synthetic.js';

test('bioseal eval takeover --keystroke --json: time to lock and false locks for the asked, the sparse and the dense schedule', async () => {
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
    for (const s of [j.schedule, j.sparse, j.dense]) {
      for (const half of ['all', 'even', 'odd']) {
        const t = s[half].timeToLockSeconds;
        for (const key of ['trials', 'median', 'p95', 'max', 'notLocked']) assert.ok(key in t, `${half}: missing ${key}`);
        assert.equal(typeof s[half].falseLocksPerDay, 'number');
      }
      assert.equal(s.all.timeToLockSeconds.trials, 12, 'every owner against every other');
      assert.equal(s.all.genuineDays, 4);
      assert.equal(typeof s.goals.medianTimeToLockUnder5s, 'boolean');
      assert.equal(typeof s.goals.p95TimeToLockUnder5s, 'boolean');
      assert.equal(typeof s.goals.falseLocksUnder1PerDay, 'boolean');
    }
    assert.equal(j.schedule.all.schedule.keystrokeEverySeconds, 20);
    assert.equal(j.schedule.all.schedule.faceEverySeconds, 10);
    assert.deepEqual(j.sparse.all.schedule, { keystrokeEverySeconds: 10, faceEverySeconds: 30 });
    assert.deepEqual(j.dense.all.schedule, { keystrokeEverySeconds: 5, faceEverySeconds: 2 });
    assert.equal(j.trust.file, null);
    assert.equal(j.trust.lockThreshold, 0.05);

    // Trust settings from a file: a lock threshold just under the ceiling locks at the first doubt.
    writeFileSync(ws.p('eager.json'), JSON.stringify({ lockThreshold: 0.99 }));
    const eager = await runCli(['eval', 'takeover', '--keystroke', csv, '--days', '1', '--keystroke-every', '20', '--trust', ws.p('eager.json'), '--json'], { home: ws.home });
    assertOk(eager, 'eval takeover --trust');
    assert.equal(eager.json.trust.file, ws.p('eager.json'));
    assert.equal(eager.json.trust.lockThreshold, 0.99);
    assert.ok(eager.json.schedule.all.falseLocksPerDay > j.schedule.all.falseLocksPerDay, 'a higher lock threshold locks the owner out more often');

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
    const trust = (name: string, text: string) => {
      writeFileSync(ws.p(name), text);
      return ['eval', 'takeover', '--keystroke', ws.p('ok.csv'), '--trust', ws.p(name)];
    };
    assertError(await runCli(trust('t1.json', '{"lockThreshold": 0.05'), opts), 'E_USAGE', { message: /not JSON/ });
    assertError(await runCli(trust('t2.json', '[1]'), opts), 'E_USAGE', { message: /JSON object/ });
    assertError(await runCli(trust('t3.json', '{"lockTreshold": 0.1}'), opts), 'E_USAGE', { message: /unknown configuration key "lockTreshold"/ });
    assertError(await runCli(trust('t4.json', '{"lockThreshold": 0.9999}'), opts), 'E_USAGE', { message: /lockThreshold/ });
    assertError(await runCli(['eval', 'takeover', '--keystroke', ws.p('ok.csv'), '--trust', ws.p('absent.json')], opts), 'E_USAGE', { message: /cannot read/ });
  } finally {
    ws.cleanup();
  }
});
