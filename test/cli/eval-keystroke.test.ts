import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { runCli, assertOk, assertError, makeWorkspace } from '../helpers/cli.js';
import { meuCsv } from '../biometrics/keystroke/synthetic.js';

test('bioseal eval keystroke --json: mean EER, subjects, per-subject EERs, pooled EER and the baseline side by side', async () => {
  const ws = makeWorkspace();
  try {
    const csv = ws.p('ksd.csv');
    writeFileSync(csv, meuCsv(4, 30));
    const r = await runCli(['eval', 'keystroke', csv, '--json', '--plot', ws.p('det.svg')], { home: ws.home });
    assertOk(r, 'eval keystroke');
    const j = r.json;
    for (const key of ['eer', 'subjects', 'per_subject', 'pooled_eer', 'detector', 'features', 'feature_count', 'baseline', 'calibration']) assert.ok(key in j, `missing ${key}`);
    assert.equal(j.subjects, 4);
    assert.equal(j.features, 'all');
    assert.equal(j.feature_count, 71);
    assert.equal(j.per_subject.length, 4);
    assert.equal(typeof j.per_subject[0].eer, 'number');
    assert.ok(j.eer >= 0 && j.eer <= 1 && j.pooled_eer >= 0 && j.pooled_eer <= 1);
    assert.equal(typeof j.baseline.eer, 'number');
    assert.equal(j.baseline_detector, 'scaled Manhattan');
    assert.ok(!('scores' in j), 'raw scores stay out of the JSON');
    assert.match(readFileSync(ws.p('det.svg'), 'utf8'), /^<svg[\s\S]*scaled Manhattan[\s\S]*<\/svg>$/);

    const t = await runCli(['eval', 'keystroke', csv, '--features', 'timing'], { home: ws.home });
    assertOk(t);
    assert.match(t.stdout, /40 timing features/);
    assert.match(t.stdout, /mean EER over subjects: [\d.]+% .*baseline scaled Manhattan: [\d.]+%/);
  } finally {
    ws.cleanup();
  }
});

test('bioseal eval keystroke: clear typed errors for bad input', async () => {
  const ws = makeWorkspace();
  try {
    const opts = { home: ws.home };
    assertError(await runCli(['eval', 'keystroke', ws.p('missing.csv'), '--json'], opts), 'E_IO', { json: true, message: /does not exist/ });
    writeFileSync(ws.p('header.csv'), 'Subject,a,b\n1,2,3\n');
    assertError(await runCli(['eval', 'keystroke', ws.p('header.csv')], opts), 'E_FORMAT', { message: /header/ });
    const lines = meuCsv(2, 26).trimEnd().split('\n');
    writeFileSync(ws.p('cell.csv'), [lines[0], lines[1]!.replace(/,[^,]+$/, ',fast'), ...lines.slice(2)].join('\n'));
    assertError(await runCli(['eval', 'keystroke', ws.p('cell.csv'), '--json'], opts), 'E_FORMAT', { json: true, message: /not a number/ });
    writeFileSync(ws.p('ragged.csv'), [lines[0], lines[1] + ',1', ...lines.slice(2)].join('\n'));
    assertError(await runCli(['eval', 'keystroke', ws.p('ragged.csv')], opts), 'E_FORMAT', { message: /73 cells/ });
    writeFileSync(ws.p('short.csv'), lines.slice(0, 45).join('\n'));
    assertError(await runCli(['eval', 'keystroke', ws.p('short.csv')], opts), 'E_FORMAT', { message: /repetitions/ });
    writeFileSync(ws.p('ok.csv'), lines.join('\n'));
    assertError(await runCli(['eval', 'keystroke', ws.p('ok.csv'), '--features', 'pressure'], opts), 'E_USAGE');
    assertError(await runCli(['eval', 'keystroke'], opts), 'E_USAGE');
  } finally {
    ws.cleanup();
  }
});
