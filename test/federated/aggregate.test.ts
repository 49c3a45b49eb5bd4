import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateUpdates, AGGREGATION_RULES } from '../../src/federated/aggregate.js';
import { UpdateRefusedError, checkUpdate, screenUpdates, type ClientUpdate } from '../../src/federated/update.js';
import { seededRandom } from '../../src/eval/metrics.js';
import { FormatError, UsageError } from '../../src/errors.js';

const D = 4;
const upd = (client: string, xs: number[], samples = 10): ClientUpdate => ({ client, delta: Float64Array.from(xs), samples });
const honest = [upd('a', [1, 2, 3, 4]), upd('b', [1.1, 2, 2.9, 4]), upd('c', [0.9, 2.1, 3, 4.1]), upd('d', [1, 1.9, 3.1, 3.9]), upd('e', [1.05, 2, 3, 4]), upd('f', [0.95, 2, 3, 4])];
const poisoned = [
  upd('nan', [1, NaN, 3, 4]),
  upd('inf', [Infinity, 2, 3, 4]),
  upd('short', [1, 2, 3]),
  upd('long', [1, 2, 3, 4, 5]),
  upd('huge', [1e7, 0, 0, 0]),
  upd('f32-overflow', [0, 0, 0, 0]),
  upd('zero-samples', [1, 2, 3, 4], 0),
  upd('a', [1e5, 1e5, 1e5, 1e5]), // a second update from client a
];
// Finite float32 values whose norm overflows.
(poisoned[5] as { delta: Float64Array | Float32Array }).delta = new Float32Array([3e38, 3e38, 0, 0]);

test('each malformed update is refused with its own typed error (E_FORMAT) naming the client and the reason', () => {
  const { accepted, refused } = screenUpdates([...honest, ...poisoned], { dimensions: D });
  assert.deepEqual(accepted.map((u) => u.client), ['a', 'b', 'c', 'd', 'e', 'f']);
  assert.deepEqual(refused.map((e) => [e.client, e.reason]), [
    ['nan', 'non-finite'],
    ['inf', 'non-finite'],
    ['short', 'wrong-length'],
    ['long', 'wrong-length'],
    ['huge', 'norm-too-large'],
    ['f32-overflow', 'norm-too-large'],
    ['zero-samples', 'bad-sample-count'],
    ['a', 'duplicate-client'],
  ]);
  for (const e of refused) {
    assert.ok(e instanceof UpdateRefusedError && e instanceof FormatError);
    assert.equal(e.code, 'E_FORMAT');
    assert.match(e.message, new RegExp(`client ${e.client}`));
  }
  assert.throws(() => checkUpdate(upd('x', [1, 2, 3, 4]), { dimensions: D, maxNorm: 1 }), (e: unknown) => e instanceof UpdateRefusedError && e.reason === 'norm-too-large');
  assert.doesNotThrow(() => checkUpdate(upd('x', [1, 2, 3, 4]), { dimensions: D }));
});

test('for every rule, the aggregate is exactly what the accepted updates alone give: refused ones never touch it', () => {
  for (const rule of AGGREGATION_RULES) {
    // Bulyan needs 4f + 3 updates: with six, f = 0.
    const opts = { rule, dimensions: D, byzantine: rule === 'bulyan' ? 0 : 1, clip: rule === 'median' ? 3 : undefined };
    const clean = aggregateUpdates(honest, opts);
    const mixed = aggregateUpdates([...poisoned.slice(0, 4), ...honest, ...poisoned.slice(4)], opts);
    assert.deepEqual(mixed.aggregate, clean.aggregate, rule);
    assert.equal(mixed.refused.length, poisoned.length);
    assert.deepEqual(mixed.accepted, ['a', 'b', 'c', 'd', 'e', 'f']);
    assert.ok(Array.from(mixed.aggregate).every(Number.isFinite), rule);
  }
});

test('nothing accepted leaves the model where it was (a zero aggregate)', () => {
  const r = aggregateUpdates(poisoned.slice(0, 3), { rule: 'krum', dimensions: D });
  assert.deepEqual(Array.from(r.aggregate), [0, 0, 0, 0]);
  assert.equal(r.refused.length, 3);
});

test('clipping bounds a boosted update before the rule sees it', () => {
  const boosted = upd('x', [1000, 0, 0, 0]);
  const plain = aggregateUpdates([...honest, boosted], { rule: 'fedavg', dimensions: D });
  const clipped = aggregateUpdates([...honest, boosted], { rule: 'fedavg', dimensions: D, clip: 6 });
  assert.ok(plain.aggregate[0]! > 100);
  assert.ok(clipped.aggregate[0]! < 2, `clipped ${clipped.aggregate[0]}`);
  assert.deepEqual(clipped.clipped, ['x']);
  const k = aggregateUpdates([...honest, boosted], { rule: 'krum', dimensions: D, byzantine: 1 });
  assert.ok(!k.used.includes('x'));
});

test('DP noise: sum of clipped updates plus N(0, (zC)^2) over the expected client count, seeded', () => {
  const r = aggregateUpdates([upd('z', [0, 0, 0, 0])], { rule: 'fedavg', dimensions: D, clip: 2, noise: { multiplier: 1.5, expectedClients: 10, random: seededRandom(7) } });
  const again = aggregateUpdates([upd('z', [0, 0, 0, 0])], { rule: 'fedavg', dimensions: D, clip: 2, noise: { multiplier: 1.5, expectedClients: 10, random: seededRandom(7) } });
  assert.deepEqual(r.aggregate, again.aggregate);
  // Standard deviation of each coordinate: z * C / expectedClients = 0.3; measure it over many rounds.
  const samples: number[] = [];
  for (let round = 0; round < 5000; round++) {
    const a = aggregateUpdates([upd('z', [0, 0, 0, 0])], { rule: 'fedavg', dimensions: D, clip: 2, noise: { multiplier: 1.5, expectedClients: 10, random: seededRandom(round + 1) } });
    samples.push(...a.aggregate);
  }
  const sd = Math.sqrt(samples.reduce((s, x) => s + x * x, 0) / samples.length);
  assert.ok(Math.abs(sd - 0.3) < 0.01, `sd ${sd}`);
  // Noise needs a clipping norm (its sensitivity) and plain averaging.
  assert.throws(() => aggregateUpdates(honest, { rule: 'fedavg', dimensions: D, noise: { multiplier: 1, expectedClients: 6 } }), UsageError);
  assert.throws(() => aggregateUpdates(honest, { rule: 'median', dimensions: D, clip: 1, noise: { multiplier: 1, expectedClients: 6 } }), UsageError);
  assert.throws(() => aggregateUpdates(honest, { rule: 'nope' as never, dimensions: D }), UsageError);
});
