import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseKeystrokeCsv, readKeystrokeCsv, evaluateKeystroke, MEU_TIMING_COUNT } from '../../../src/eval/keystroke-eval.js';
import { equalErrorRate } from '../../../src/eval/metrics.js';
import { FormatError, IOError } from '../../../src/errors.js';
import { meuCsv } from './synthetic.js';

test('EER of a constructed case: FMR and FNMR cross at 1/4', () => {
  // Threshold 0.6 accepts 0.6, 0.8, 0.9 of the genuine (FNMR 1/4) and 0.7 of the impostors (FMR 1/4).
  assert.equal(equalErrorRate({ genuine: [0.3, 0.6, 0.8, 0.9], impostor: [0.1, 0.2, 0.4, 0.7] }).eer, 0.25);
});

test('the protocol: enrol on 25, genuine = the rest, impostors = first 5 of every other subject; mean of per-subject EERs', () => {
  const data = parseKeystrokeCsv(meuCsv(4, 30));
  const r = evaluateKeystroke(data);
  assert.equal(r.subjects, 4);
  assert.equal(r.feature_count, 71);
  assert.equal(r.genuine_comparisons, 4 * 5);
  assert.equal(r.impostor_comparisons, 4 * 3 * 5);
  assert.deepEqual(r.per_subject.map((p) => [p.genuine, p.impostor]), Array(4).fill([5, 15]));
  const mean = r.per_subject.reduce((s, p) => s + p.eer, 0) / 4;
  assert.equal(r.eer, mean);
  assert.ok(r.eer < 0.05 && r.baseline.eer >= 0, JSON.stringify(r.per_subject));
  const timing = evaluateKeystroke(data, { features: 'timing' });
  assert.equal(timing.feature_count, MEU_TIMING_COUNT);
  // Typists who are one and the same person cannot be told apart.
  const clones = parseKeystrokeCsv(meuCsv(1, 60).split('\n').map((l, i) => (i > 30 ? l.replace(/^1,/, '2,') : l)).join('\n'));
  assert.ok(evaluateKeystroke(clones).eer > 0.2);
});

test('CSV parsing: strict header, numbers, row length; too few repetitions', () => {
  const good = meuCsv(2, 26);
  const lines = good.trimEnd().split('\n');
  const bad = (text: string, message: RegExp) => assert.throws(() => evaluateKeystroke(parseKeystrokeCsv(text)), (e: unknown) => e instanceof FormatError && message.test(e.message), message.source);
  bad('', /empty/);
  bad(lines[0]! + '\n', /no rows/);
  bad([lines[0]!.replace('Hold t', 'Hold T'), ...lines.slice(1)].join('\n'), /header.*column 3 is "Hold T"/);
  bad([lines[0]! + ',Extra', ...lines.slice(1)].join('\n'), /header.*73 columns/);
  bad([lines[0]!, lines[1]!.replace(/,[^,]+$/, ',abc'), ...lines.slice(2)].join('\n'), /line 2 .*"AvA" is "abc"/);
  bad([lines[0]!, lines[1]!.replace(/,[^,]+$/, ',0x10'), ...lines.slice(2)].join('\n'), /not a number/);
  bad([lines[0]!, lines[1]!.replace(/,[^,]+$/, ','), ...lines.slice(2)].join('\n'), /not a number/);
  bad([lines[0]!, lines[1]!, lines[2]!.replace(/,[^,]+$/, ''), ...lines.slice(3)].join('\n'), /line 3 .*71 cells, expected 72/);
  bad([lines[0]!, ',' + lines[1]!.split(',').slice(1).join(','), ...lines.slice(2)].join('\n'), /no subject/);
  bad(lines.slice(0, 27).join('\n'), /at least two subjects/);
  bad(lines.slice(0, 52).join('\n'), /subject 2 has 25 repetitions; the protocol needs at least 26/);
  // A timing-only file (Subject + 40 columns) parses, but only for timing features.
  const timingOnly = lines.map((l) => l.split(',').slice(0, 41).join(',')).join('\n');
  assert.equal(parseKeystrokeCsv(timingOnly).columns.length, 40);
  assert.equal(evaluateKeystroke(parseKeystrokeCsv(timingOnly), { features: 'timing' }).feature_count, 40);
  bad(timingOnly, /only the 40 timing columns/);
  // CRLF line ends and a byte-order mark are accepted.
  assert.equal(parseKeystrokeCsv('\uFEFF' + good.replace(/\n/g, '\r\n')).subjects.length, 2);
});

test('reading a CSV file: missing file and directories are IOErrors', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-ksd-'));
  try {
    assert.throws(() => readKeystrokeCsv(path.join(dir, 'none.csv')), (e: unknown) => e instanceof IOError && /does not exist/.test(e.message));
    assert.throws(() => readKeystrokeCsv(dir), IOError);
    writeFileSync(path.join(dir, 'k.csv'), meuCsv(2, 26));
    assert.equal(readKeystrokeCsv(path.join(dir, 'k.csv')).subjects.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
