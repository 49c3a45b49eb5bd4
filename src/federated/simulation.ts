/**
 * The federated-learning simulation behind `bioseal eval federated`: a
 * softmax classifier trained over rounds by simulated clients holding data
 * of few people each, a fraction of them attacking, the server aggregating
 * with one rule. Every random choice comes from a stream derived from one
 * seed, so a run repeats exactly, and the attacked and unattacked runs share
 * their data split, participants and honest training.
 */
import { UsageError } from '../errors.js';
import { seededRandom } from '../eval/metrics.js';
import { aggregateUpdates, type AggregationRule } from './aggregate.js';
import type { NormBound } from './norm-bound.js';
import { attackerModel, boostedUpdate, makeTrigger, withTrigger, type AttackKind } from './attacks.js';
import { standardNormal, type UniformSource } from './gaussian-noise.js';
import { partitionByPerson, shuffled } from './partition.js';
import { privacyBudget, type PrivacyBudget } from './rdp-accountant.js';
import { accuracy, parameterCount, shareClassifiedAs, trainSoftmax, type Example, type LocalTraining, type ModelShape } from './softmax-model.js';
import type { ClientUpdate } from './update.js';

/** Train and test examples of a classification task. */
export interface FederatedData {
  readonly train: readonly Example[];
  readonly test: readonly Example[];
  readonly shape: ModelShape;
  /** Class names (people), by class index. */
  readonly people: readonly string[];
}

export interface SimulationOptions {
  readonly clients: number;
  readonly maliciousFraction: number;
  readonly attack: AttackKind;
  readonly rule: AggregationRule;
  readonly rounds: number;
  readonly seed: number;
  readonly personsPerClient: number;
  /** Probability that a client takes part in a round (Poisson sampling; 1 = all, every round). */
  readonly participation: number;
  readonly local: LocalTraining;
  readonly serverLearningRate: number;
  readonly clip?: number;
  readonly noiseMultiplier?: number;
  /** Delta of the reported (epsilon, delta) budget. */
  readonly delta: number;
  readonly trimFraction: number;
  /** Krum's and Bulyan's f; default: the number of attackers, at least 1. */
  readonly byzantine?: number;
  readonly select?: number;
  /** Bound every update's norm by the round's median norm before the rule. */
  readonly normBound?: NormBound;
  /** Average random buckets of this many updates before the rule. */
  readonly bucket?: number;
  /** Keep only the n - f best Krum-scored updates (or bucket means) before the rule. */
  readonly krumFilter?: boolean;
  /** Centered clipping's radius (default: adaptive, the median distance) and iterations (default 3). */
  readonly centeredClipRadius?: number;
  readonly centeredClipIterations?: number;
  readonly maxNorm: number;
  /** Class the attack wants inputs sent to. */
  readonly target: number;
  readonly triggerNorm: number;
  /** Attackers' scale factor; default: the one that replaces the model under averaging. */
  readonly boost?: number;
  /** First round (1-based) in which attackers attack; before it they train honestly. */
  readonly attackFrom: number;
}

/** Figures of one round. */
export interface RoundFigures {
  readonly clean_accuracy: number;
  readonly attack_success: number;
  readonly participants: number;
  readonly malicious_participants: number;
  /** Attackers' updates the rule used (Krum and Multi-Krum select; other rules use every accepted update). */
  readonly malicious_used: number;
  readonly refused: number;
  readonly clipped: number;
}

export interface FederatedReport {
  readonly rule: AggregationRule;
  readonly attack: AttackKind;
  readonly clients: number;
  readonly malicious_clients: number;
  readonly rounds: number;
  readonly seed: number;
  /** Final round: share of clean test examples classified correctly. */
  readonly clean_accuracy: number;
  /** Final round: share of triggered test examples of people other than the target classified as the target. */
  readonly attack_success: number;
  /** The same run with every client honest. */
  readonly clean_accuracy_unattacked: number;
  readonly attack_success_unattacked: number;
  /** Plain averaging, no clipping or noise, no attackers: what the model reaches without any defence cost. */
  readonly clean_accuracy_fedavg_unattacked: number;
  readonly per_round: {
    readonly clean_accuracy: number[];
    readonly attack_success: number[];
    readonly clean_accuracy_unattacked: number[];
    readonly attack_success_unattacked: number[];
    readonly malicious_used: number[];
    readonly refused: number[];
    readonly clipped: number[];
  };
  readonly parameters: Record<string, number | string | null>;
  readonly data: { people: number; train: number; test: number; dimensions: number; parameters: number };
  /** Present when noise was added. */
  readonly privacy?: PrivacyBudget & { accountant: string; sample_rate: number; noise_multiplier: number };
}

/** A uniform stream for one purpose, derived from the seed (splitmix-style mixing). */
function stream(seed: number, ...parts: number[]): UniformSource {
  let h = seed >>> 0;
  for (const p of parts) {
    h = Math.imul(h ^ (p + 0x9e3779b9), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return seededRandom(h);
}

const S = { split: 1, malicious: 2, trigger: 3, participate: 4, train: 5, noise: 6, init: 7, bucket: 8 } as const;

function checkOptions(data: FederatedData, o: SimulationOptions): void {
  const int = (v: number, name: string, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new UsageError(`${name} must be an integer of at least ${min}`);
  };
  int(o.clients, 'the number of clients', 1);
  int(o.rounds, 'the number of rounds', 1);
  int(o.attackFrom, 'the first attacked round', 1);
  int(o.local.epochs, 'local epochs', 1);
  int(o.local.batchSize, 'the batch size', 1);
  if (!(o.maliciousFraction >= 0 && o.maliciousFraction < 0.5)) throw new UsageError('the malicious fraction must be in [0, 0.5)');
  if (!(o.participation > 0 && o.participation <= 1)) throw new UsageError('participation must be in (0, 1]');
  if (!(o.local.learningRate > 0) || !(o.serverLearningRate > 0)) throw new UsageError('learning rates must be positive');
  if (!(o.local.weightDecay >= 0)) throw new UsageError('weight decay must not be negative');
  if (!(o.triggerNorm > 0)) throw new UsageError('the trigger norm must be positive');
  if (!Number.isInteger(o.target) || o.target < 0 || o.target >= data.shape.classes) throw new UsageError(`the target must be a class index from 0 to ${data.shape.classes - 1}`);
  if (o.boost !== undefined && !(o.boost > 0)) throw new UsageError('the boost must be positive');
  if (o.noiseMultiplier !== undefined && !(o.noiseMultiplier > 0)) throw new UsageError('the noise multiplier must be positive');
  if (o.bucket !== undefined && (!Number.isInteger(o.bucket) || o.bucket < 1)) throw new UsageError('the bucket size must be a positive integer');
  if (o.krumFilter && (o.rule === 'krum' || o.rule === 'multi-krum' || o.rule === 'bulyan')) throw new UsageError(`the Krum filter is for the other rules: ${o.rule} selects by Krum scores already`);
  if (o.krumFilter && o.noiseMultiplier) throw new UsageError('the Krum filter cannot be combined with noise');
}

/**
 * Runs one simulation; `attackers` are client indices (empty: all honest).
 * Returns the figures of every round.
 */
function simulate(data: FederatedData, o: SimulationOptions, clientData: readonly Example[][], attackers: ReadonlySet<number>, f: number, onRound?: (round: number) => void): RoundFigures[] {
  const { shape } = data;
  const dims = parameterCount(shape);
  const trigger = makeTrigger(shape.dimensions, o.triggerNorm, stream(o.seed, S.trigger));
  const triggeredTest = data.test.filter((e) => e.label !== o.target).map((e) => ({ x: withTrigger(e.x, trigger), label: e.label }));
  // Small random initial weights (no ties between classes at the start); biases zero.
  const init = standardNormal(stream(o.seed, S.init));
  let global = Float64Array.from({ length: dims }, (_, i) => (i < shape.classes * shape.dimensions ? 1e-3 * init() : 0));
  const figures: RoundFigures[] = [];
  for (let round = 0; round < o.rounds; round++) {
    const join = stream(o.seed, S.participate, round);
    const participants = clientData.map((_, c) => c).filter(() => o.participation === 1 || join() < o.participation);
    const bad = round + 1 >= o.attackFrom ? participants.filter((c) => attackers.has(c)) : [];
    // The replacement scale gamma = (total weight) / (attackers' weight) / eta (Bagdasaryan et al. §4.2), for the weights averaging uses.
    const weight = (c: number) => (o.noiseMultiplier ? 1 : clientData[c]!.length);
    const boost = o.boost ?? participants.reduce((s, c) => s + weight(c), 0) / Math.max(1, bad.reduce((s, c) => s + weight(c), 0)) / o.serverLearningRate;
    const updates: ClientUpdate[] = participants.map((c) => {
      const random = stream(o.seed, S.train, round, c);
      const own = clientData[c]!;
      const delta = bad.includes(c)
        ? boostedUpdate(attackerModel(o.attack, global, shape, own, { trigger, target: o.target, training: o.local, random }), global, boost)
        : boostedUpdate(trainSoftmax(global, shape, own, o.local, random), global, 1);
      return { client: String(c), delta, samples: own.length };
    });
    const r = aggregateUpdates(updates, {
      rule: o.rule,
      dimensions: dims,
      maxNorm: o.maxNorm,
      clip: o.clip,
      trimFraction: o.trimFraction,
      byzantine: f,
      select: o.select,
      normBound: o.normBound,
      bucket: o.bucket,
      krumFilter: o.krumFilter,
      bucketRandom: stream(o.seed, S.bucket, round),
      centeredClipRadius: o.centeredClipRadius,
      centeredClipIterations: o.centeredClipIterations,
      noise: o.noiseMultiplier ? { multiplier: o.noiseMultiplier, expectedClients: o.participation * o.clients, random: stream(o.seed, S.noise, round) } : undefined,
    });
    const next = new Float64Array(dims);
    for (let i = 0; i < dims; i++) next[i] = global[i]! + o.serverLearningRate * r.aggregate[i]!;
    global = next;
    figures.push({
      clean_accuracy: accuracy(global, shape, data.test),
      attack_success: shareClassifiedAs(global, shape, triggeredTest, o.target),
      participants: participants.length,
      malicious_participants: bad.length,
      malicious_used: r.used.filter((id) => bad.includes(Number(id))).length,
      refused: r.refused.length,
      clipped: r.clipped.length,
    });
    onRound?.(round + 1);
  }
  return figures;
}

/**
 * Trains with attackers, then the same run with every client honest, then
 * plain averaging without defences or attackers, and reports all three.
 *
 * @throws {UsageError} options out of range or that do not fit the data
 */
export function evaluateFederated(data: FederatedData, o: SimulationOptions, onProgress?: (stage: string, round: number, rounds: number) => void): FederatedReport {
  checkOptions(data, o);
  const clientData = partitionByPerson(data.train, { clients: o.clients, personsPerClient: o.personsPerClient, random: stream(o.seed, S.split) });
  const malicious = Math.round(o.maliciousFraction * o.clients);
  const attackers = new Set(shuffled(clientData.map((_, c) => c), stream(o.seed, S.malicious)).slice(0, malicious));
  const f = o.byzantine ?? Math.max(1, malicious);
  // With every client in every round the rule's input count is known now: refuse before training, not in round 1.
  const inputs = Math.ceil(o.clients / (o.bucket ?? 1));
  const needed = o.rule === 'bulyan' ? 4 * f + 3 : o.rule === 'krum' || o.rule === 'multi-krum' || o.krumFilter ? 2 * f + 3 : 1;
  if (o.participation === 1 && inputs < needed) {
    throw new UsageError(`${o.rule} with f = ${f} needs at least ${needed} ${o.bucket ? 'buckets' : 'clients'}, and ${o.clients} clients${o.bucket ? ` in buckets of ${o.bucket}` : ''} give ${inputs}`);
  }
  const run = (stage: string, opts: SimulationOptions, bad: ReadonlySet<number>) => simulate(data, opts, clientData, bad, f, (r) => onProgress?.(stage, r, o.rounds));
  const attacked = run('attacked', o, attackers);
  const clean = run('unattacked', o, new Set());
  const undefended = o.rule === 'fedavg' && o.clip === undefined && !o.noiseMultiplier && o.normBound === undefined && o.bucket === undefined && !o.krumFilter;
  const plain = undefended ? clean : run('fedavg reference', { ...o, rule: 'fedavg', clip: undefined, noiseMultiplier: undefined, normBound: undefined, bucket: undefined, krumFilter: undefined }, new Set());
  const last = <T>(a: readonly T[]) => a[a.length - 1]!;
  return {
    rule: o.rule,
    attack: o.attack,
    clients: o.clients,
    malicious_clients: malicious,
    rounds: o.rounds,
    seed: o.seed,
    clean_accuracy: last(attacked).clean_accuracy,
    attack_success: last(attacked).attack_success,
    clean_accuracy_unattacked: last(clean).clean_accuracy,
    attack_success_unattacked: last(clean).attack_success,
    clean_accuracy_fedavg_unattacked: last(plain).clean_accuracy,
    per_round: {
      clean_accuracy: attacked.map((x) => x.clean_accuracy),
      attack_success: attacked.map((x) => x.attack_success),
      clean_accuracy_unattacked: clean.map((x) => x.clean_accuracy),
      attack_success_unattacked: clean.map((x) => x.attack_success),
      malicious_used: attacked.map((x) => x.malicious_used),
      refused: attacked.map((x) => x.refused),
      clipped: attacked.map((x) => x.clipped),
    },
    parameters: {
      malicious_fraction: o.maliciousFraction,
      persons_per_client: o.personsPerClient,
      participation: o.participation,
      local_epochs: o.local.epochs,
      learning_rate: o.local.learningRate,
      batch_size: o.local.batchSize,
      weight_decay: o.local.weightDecay,
      server_learning_rate: o.serverLearningRate,
      clip: o.clip ?? null,
      noise_multiplier: o.noiseMultiplier ?? null,
      trim_fraction: o.rule === 'trimmed-mean' ? o.trimFraction : null,
      byzantine: o.rule === 'krum' || o.rule === 'multi-krum' || o.rule === 'bulyan' || o.krumFilter ? f : null,
      krum_filter: o.krumFilter ? 'n - f best Krum scores' : null,
      select: o.rule === 'multi-krum' ? (o.select ?? null) : null,
      norm_bound: o.normBound ?? null,
      bucket: o.bucket ?? null,
      centered_clip_radius: o.rule === 'centered-clip' ? (o.centeredClipRadius ?? 'median distance') : null,
      centered_clip_iterations: o.rule === 'centered-clip' ? (o.centeredClipIterations ?? 3) : null,
      max_norm: o.maxNorm,
      target: data.people[o.target] ?? o.target,
      trigger_norm: o.triggerNorm,
      boost: o.boost ?? 'replacement',
      attack_from: o.attackFrom,
    },
    data: { people: data.shape.classes, train: data.train.length, test: data.test.length, dimensions: data.shape.dimensions, parameters: parameterCount(data.shape) },
    ...(o.noiseMultiplier
      ? {
          privacy: {
            ...privacyBudget({ noiseMultiplier: o.noiseMultiplier, sampleRate: o.participation, rounds: o.rounds, delta: o.delta }),
            accountant: o.participation === 1 ? 'RDP, Gaussian mechanism composed over rounds' : 'RDP, Poisson-sampled Gaussian mechanism composed over rounds',
            sample_rate: o.participation,
            noise_multiplier: o.noiseMultiplier,
          },
        }
      : {}),
  };
}
