import { test } from 'node:test';
import assert from 'node:assert/strict';
import { phraseFeatures, freeTextTimings, checkKeyEvents, MAX_EVENTS, type KeyEvent } from '../../../src/biometrics/keystroke/index.js';
import { MEU_FEATURE_COLUMNS } from '../../../src/eval/keystroke-eval.js';
import { FormatError } from '../../../src/errors.js';
import { MEU_KEYS, makeTypist } from './synthetic.js';

test('fixed phrase: hold, down-down and up-down times of a hand-built typing', () => {
  const events: KeyEvent[] = [
    { key: 'a', down: 100, up: 190 },
    { key: 'b', down: 300, up: 380 },
    { key: 'c', down: 360, up: 500 }, // goes down before b comes up: negative up-down
  ];
  const f = phraseFeatures(events);
  assert.deepEqual(f.names, ['Hold a', 'Hold b', 'Hold c', 'DD a.b', 'DD b.c', 'UD a.b', 'UD b.c']);
  assert.deepEqual(f.values, [90, 80, 140, 200, 60, 110, -20]);
});

test('fixed phrase on a touch screen adds pressure, size and the three averages', () => {
  const events: KeyEvent[] = [
    { key: 'x', down: 0, up: 100, pressure: 0.2, size: 0.3 },
    { key: 'y', down: 250, up: 300, pressure: 0.4, size: 0.5 },
  ];
  const f = phraseFeatures(events);
  assert.deepEqual(f.names, ['Hold x', 'Hold y', 'DD x.y', 'UD x.y', 'Pressure x', 'Pressure y', 'Size x', 'Size y', 'AvH', 'AvP', 'AvA']);
  const expected = [100, 50, 250, 150, 0.2, 0.4, 0.3, 0.5, 75, 0.3, 0.4];
  f.values.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-12, `${f.names[i]}: ${v}`));
  // Touch features only when every event has them.
  assert.equal(phraseFeatures([events[0]!, { key: 'y', down: 250, up: 300 }]).values.length, 4);
});

test('the MEU phrase gives the 71 features of MEU-Mobile KSD, in its column order', () => {
  const f = phraseFeatures(makeTypist(1, { touch: true }).type(MEU_KEYS));
  assert.deepEqual(f.names, MEU_FEATURE_COLUMNS);
  // MEU's own rows satisfy UD = DD - hold of the first key; so do ours.
  for (let i = 0; i < 13; i++) assert.ok(Math.abs(f.values[27 + i]! - (f.values[14 + i]! - f.values[i]!)) < 1e-9);
});

test('malformed key events are refused with a FormatError naming the event', () => {
  const bad: [unknown, RegExp][] = [
    [[{ key: 'a', down: 0, up: 10 }], /at least 2/],
    [[{ key: 'a', down: 0, up: 10 }, { key: 'b', down: 5, up: 2 }], /event 2 .*comes up before/],
    [[{ key: 'a', down: 50, up: 60 }, { key: 'b', down: 10, up: 20 }], /order/],
    [[{ key: 'a', down: 0, up: NaN }, { key: 'b', down: 5, up: 9 }], /finite/],
    [[{ key: '', down: 0, up: 1 }, { key: 'b', down: 5, up: 9 }], /key name/],
    [[{ key: 'a', down: 0, up: 1, pressure: -1 }, { key: 'b', down: 5, up: 9 }], /pressure/],
    ['not a list', /list/],
  ];
  for (const [events, message] of bad) assert.throws(() => phraseFeatures(events as KeyEvent[]), (e: unknown) => e instanceof FormatError && message.test(e.message));
  const many = Array.from({ length: MAX_EVENTS + 1 }, (_, i) => ({ key: 'a', down: i, up: i }));
  assert.throws(() => checkKeyEvents(many), FormatError);
});

test('free typing: hold times and digraph latencies, pauses left out, keys case-folded', () => {
  const events: KeyEvent[] = [
    { key: 'H', down: 0, up: 80 },
    { key: 'i', down: 150, up: 230 },
    { key: ' ', down: 2000, up: 2050 }, // after a pause: no digraph i> 
    { key: 'h', down: 2200, up: 2290 },
  ];
  assert.deepEqual(freeTextTimings(events), [
    { feature: 'hold h', ms: 80 },
    { feature: 'hold i', ms: 80 },
    { feature: 'hold  ', ms: 50 },
    { feature: 'hold h', ms: 90 },
    { feature: 'dd h>i', ms: 150 },
    { feature: 'dd  >h', ms: 200 },
  ]);
  assert.equal(freeTextTimings(events, { maxLatencyMs: 5000 }).filter((o) => o.feature.startsWith('dd')).length, 3);
});
