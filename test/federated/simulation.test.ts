import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateFederated, type SimulationOptions } from '../../src/federated/simulation.js';
import { federatedDataFromEmbeddings } from '../../src/federated/face-data.js';
import { syntheticEmbeddings } from '../../src/federated/synthetic.js';
import { partitionByPerson } from '../../src/federated/partition.js';
import { seededRandom } from '../../src/eval/metrics.js';
import { UsageError } from '../../src/errors.js';

// 10 people x 10 synthetic embeddings of 64 values; 20 clients holding 3 people each, 2 of them attacking.
const data = federatedDataFromEmbeddings(syntheticEmbeddings({ people: 10, perPerson: 10, dimensions: 64, seed: 3 }), { testPerPerson: 3, random: seededRandom(1) });
const base: SimulationOptions = {
  clients: 20,
  maliciousFraction: 0.1,
  attack: 'backdoor',
  rule: 'fedavg',
  rounds: 10,
  seed: 1,
  personsPerClient: 3,
  participation: 1,
  local: { epochs: 5, learningRate: 1, batchSize: 8, weightDecay: 0.01 },
  serverLearningRate: 1,
  delta: 1e-5,
  trimFraction: 0.1,
  maxNorm: 1e6,
  target: 0,
  triggerNorm: 0.5,
  attackFrom: 1,
};

test('plain averaging lets two boosted backdoor clients in twenty take over the model', () => {
  const r = evaluateFederated(data, base);
  assert.equal(r.malicious_clients, 2);
  assert.ok(r.attack_success > 0.9, `attack success ${r.attack_success}`);
  assert.equal(r.clean_accuracy_unattacked, 1);
  assert.ok(r.attack_success_unattacked < 0.05);
  assert.equal(r.per_round.attack_success.length, 10);
  assert.ok(r.per_round.malicious_used.every((n) => n === 2));
});

test('median and Multi-Krum keep the backdoor out at the clean accuracy of the unattacked run', () => {
  for (const rule of ['median', 'multi-krum'] as const) {
    const r = evaluateFederated(data, { ...base, rule });
    assert.ok(r.attack_success < 0.05, `${rule}: attack success ${r.attack_success}`);
    assert.ok(Math.abs(r.clean_accuracy - r.clean_accuracy_unattacked) <= 0.01, `${rule}: ${r.clean_accuracy} vs ${r.clean_accuracy_unattacked}`);
    if (rule === 'multi-krum') assert.ok(r.per_round.malicious_used.every((n) => n === 0), 'Multi-Krum never selects an attacker');
  }
});

test('model replacement is stopped by the median; clipping under averaging only weakens it', () => {
  const plain = evaluateFederated(data, { ...base, attack: 'replacement', rounds: 4 });
  assert.ok(plain.attack_success > 0.9 && plain.clean_accuracy < 0.2, `${plain.attack_success} ${plain.clean_accuracy}`);
  const median = evaluateFederated(data, { ...base, attack: 'replacement', rounds: 4, rule: 'median' });
  assert.ok(median.attack_success < 0.05);
  const clipped = evaluateFederated(data, { ...base, attack: 'replacement', rounds: 4, clip: 1 });
  assert.ok(clipped.attack_success < plain.attack_success && clipped.clean_accuracy > plain.clean_accuracy, `clipped: ${clipped.attack_success}`);
  assert.ok(clipped.per_round.clipped.every((n) => n >= 2));
});

test('Multi-Krum over random buckets of two stops the backdoor that plain averaging lets through, at the unattacked accuracy', () => {
  const plain = evaluateFederated(data, { ...base, personsPerClient: 2 });
  assert.ok(plain.attack_success > 0.9, `plain averaging: attack success ${plain.attack_success}`);
  const r = evaluateFederated(data, { ...base, personsPerClient: 2, rule: 'multi-krum', bucket: 2 });
  assert.ok(r.attack_success < 0.05, `attack success ${r.attack_success}`);
  assert.ok(r.clean_accuracy >= r.clean_accuracy_unattacked - 0.01 && r.clean_accuracy >= r.clean_accuracy_fedavg_unattacked - 0.01, `${r.clean_accuracy} vs ${r.clean_accuracy_unattacked}`);
  assert.ok(r.per_round.malicious_used.every((n) => n === 0), 'no bucket holding an attacker is ever selected');
  assert.equal(r.parameters.bucket, 2);
  // The Krum filter in front of the median: the boosted updates never reach it.
  const m = evaluateFederated(data, { ...base, personsPerClient: 2, rule: 'median', krumFilter: true });
  assert.ok(m.attack_success < 0.05 && m.clean_accuracy >= m.clean_accuracy_unattacked - 0.01, `${m.attack_success} ${m.clean_accuracy}`);
  assert.ok(m.per_round.malicious_used.every((n) => n === 0));
  assert.throws(() => evaluateFederated(data, { ...base, rule: 'multi-krum', krumFilter: true }), UsageError);
});

test('bucketing alone hands the median to a boosted attacker, and norm bounding first does not undo it (the median ignores magnitudes)', () => {
  const o = { ...base, personsPerClient: 2, rule: 'median' as const };
  assert.ok(evaluateFederated(data, o).attack_success < 0.05, 'the median alone holds here');
  const bucketed = evaluateFederated(data, { ...o, bucket: 2 });
  assert.ok(bucketed.attack_success > 0.5, `median over buckets of two: ${bucketed.attack_success}`);
  // Norm bounding scales the boosted updates down (reported as clipped) but leaves their signs, which is all the median sees.
  const bounded = evaluateFederated(data, { ...o, bucket: 2, normBound: 'median' });
  assert.ok(bounded.per_round.clipped.every((n) => n >= 2));
  assert.ok(bounded.attack_success > 0.5, `median over bounded buckets: ${bounded.attack_success}`);
  // Under plain averaging the same bound takes most of the attack away.
  const averaged = evaluateFederated(data, { ...base, personsPerClient: 2, normBound: 'median' });
  assert.ok(averaged.attack_success < 0.5, `averaging of bounded updates: ${averaged.attack_success}`);
});

test('a Krum or Bulyan configuration with too few updates or buckets for f is refused before training', () => {
  assert.throws(() => evaluateFederated(data, { ...base, rule: 'bulyan', bucket: 4 }), (e: unknown) => e instanceof UsageError && /needs at least 11 buckets/.test(e.message));
  assert.throws(() => evaluateFederated(data, { ...base, rule: 'multi-krum', bucket: 4 }), (e: unknown) => e instanceof UsageError && /needs at least 7 buckets/.test(e.message));
  assert.throws(() => evaluateFederated(data, { ...base, bucket: 0 }), UsageError);
});

test('the same seed gives the same figures; another seed other ones', () => {
  const o = { ...base, rounds: 3, clip: 2, noiseMultiplier: 0.5 };
  const a = evaluateFederated(data, o);
  assert.deepEqual(evaluateFederated(data, o), a);
  assert.notDeepEqual(evaluateFederated(data, { ...o, seed: 2 }).per_round, a.per_round);
  assert.ok(a.privacy && a.privacy.epsilon > 0 && a.privacy.delta === 1e-5);
  assert.match(a.privacy.accountant, /RDP/);
});

test('data split by person: every client holds only its few people, every example goes to one client', () => {
  const parts = partitionByPerson(data.train, { clients: 20, personsPerClient: 3, random: seededRandom(5) });
  assert.equal(parts.length, 20);
  for (const p of parts) assert.ok(new Set(p.map((e) => e.label)).size <= 3 && p.length > 0);
  assert.equal(parts.reduce((s, p) => s + p.length, 0), data.train.length);
  assert.throws(() => partitionByPerson(data.train, { clients: 200, personsPerClient: 1, random: seededRandom(5) }), UsageError);
  assert.throws(() => partitionByPerson(data.train, { clients: 2, personsPerClient: 11, random: seededRandom(5) }), UsageError);
});

test('options out of range are refused with E_USAGE before any training', () => {
  for (const bad of [{ maliciousFraction: 0.5 }, { rounds: 0 }, { participation: 0 }, { target: 10 }, { attackFrom: 0 }, { clients: 1.5 }, { noiseMultiplier: -1 }]) {
    assert.throws(() => evaluateFederated(data, { ...base, ...bad }), UsageError, JSON.stringify(bad));
  }
  assert.throws(() => evaluateFederated(data, { ...base, noiseMultiplier: 1 }), UsageError); // noise without clipping
  assert.throws(() => federatedDataFromEmbeddings([{ person: 'a', embedding: new Float32Array(4) }], { testPerPerson: 1, random: seededRandom(1) }), UsageError);
});
