/**
 * One round of server-side aggregation: screen the updates (refusals never
 * reach the rule), optionally clip each accepted update to norm C, optionally
 * bound every norm by the round's median norm, optionally average random
 * buckets of s updates, apply the chosen rule, and optionally add Gaussian
 * noise for differential privacy
 * (DP-FedAvg: McMahan et al., "Learning Differentially Private Recurrent
 * Language Models", ICLR 2018, Algorithm 1 with equal client weights and the
 * fixed-denominator estimator).
 */
import { UsageError } from '../errors.js';
import { bucketMeans } from './bucketing.js';
import { bulyan } from './bulyan.js';
import { centeredClip } from './centered-clip.js';
import { clipToNorm } from './clip.js';
import { fedAvg } from './fedavg.js';
import { addGaussianNoise, cryptoUniform, type UniformSource } from './gaussian-noise.js';
import { boundToMedianNorm, NORM_BOUNDS, type NormBound } from './norm-bound.js';
import { krum, multiKrum } from './krum.js';
import { coordinateMedian } from './median.js';
import { trimmedMean } from './trimmed-mean.js';
import { screenUpdates, type ClientUpdate, type UpdateLimits, type UpdateRefusedError } from './update.js';
import { weightedSum, type Vector } from './_vector.js';

/** The aggregation rules on offer. */
export const AGGREGATION_RULES = ['fedavg', 'median', 'trimmed-mean', 'krum', 'multi-krum', 'centered-clip', 'bulyan'] as const;
export type AggregationRule = (typeof AGGREGATION_RULES)[number];

/** Differential-privacy noise on the aggregate (needs `rule: 'fedavg'` and `clip`). */
export interface DpNoise {
  /** z: the noise standard deviation is z * C on the sum of clipped updates. */
  readonly multiplier: number;
  /** The denominator: the expected number of clients per round (q * N), fixed so it leaks nothing. */
  readonly expectedClients: number;
  /** Uniform source for the noise (default: node:crypto). */
  readonly random?: UniformSource;
}

export interface AggregationOptions extends UpdateLimits {
  readonly rule: AggregationRule;
  /** Clip every accepted update to this L2 norm before the rule sees it. */
  readonly clip?: number;
  /** Trimmed mean: share trimmed at each end of every coordinate (default 0.1). */
  readonly trimFraction?: number;
  /** Krum, Multi-Krum and Bulyan: the assumed number of Byzantine clients f (default 1). */
  readonly byzantine?: number;
  /** Multi-Krum: how many updates (bucket means, with buckets) to average (default n - f). */
  readonly select?: number;
  /** Centered clipping: the radius tau (default: the median distance to the current point, each iteration). */
  readonly centeredClipRadius?: number;
  /** Centered clipping: the number of iterations L (default 3). */
  readonly centeredClipIterations?: number;
  /** Scale every accepted (and clipped) update down to the median of the round's update norms. */
  readonly normBound?: NormBound;
  /** Average random buckets of this many updates and give the bucket means to the rule (after clipping and norm bounding). */
  readonly bucket?: number;
  /** Uniform source of the bucket assignment (default: node:crypto). */
  readonly bucketRandom?: UniformSource;
  /**
   * Before the rule, keep only the n - f updates (bucket means, with buckets)
   * with the best Krum scores, f = `byzantine` (Multi-Krum's selection, Blanchard
   * et al. 2017, as a filter; Bulyan, El Mhamdi et al. 2018, uses the same
   * two-stage structure). Not with the Krum rules themselves, which select already.
   */
  readonly krumFilter?: boolean;
  readonly noise?: DpNoise;
}

export interface AggregationResult {
  /** The aggregate update; all zeros when nothing was accepted and no noise was asked for. */
  readonly aggregate: Float64Array;
  /** Clients whose updates passed screening. */
  readonly accepted: readonly string[];
  /** Clients whose updates the rule used (the Krum, Bulyan or Krum-filter selection, with buckets every client of a selected bucket; all accepted ones otherwise). */
  readonly used: readonly string[];
  /** One typed error per refused update. */
  readonly refused: readonly UpdateRefusedError[];
  /** Clients whose updates were scaled down by clipping or norm bounding. */
  readonly clipped: readonly string[];
  /** The median norm every update was bounded to, with `normBound`. */
  readonly normBound?: number;
  /** Client ids in each bucket, with `bucket`. */
  readonly buckets?: readonly (readonly string[])[];
}

/**
 * Aggregates one round of client updates.
 *
 * @throws {UsageError} options that do not fit (noise without clipping, with a robust rule or with buckets; Krum with fewer than 2f + 3, Bulyan with fewer than 4f + 3 accepted updates or buckets)
 * @example aggregateUpdates(updates, { rule: 'median', dimensions: 4100, clip: 5 })
 */
export function aggregateUpdates(updates: readonly ClientUpdate[], options: AggregationOptions): AggregationResult {
  const { rule, noise } = options;
  if (!AGGREGATION_RULES.includes(rule)) throw new UsageError(`unknown aggregation rule "${rule}" (rules: ${AGGREGATION_RULES.join(', ')})`);
  if (noise && (rule !== 'fedavg' || options.clip === undefined)) {
    throw new UsageError('differential-privacy noise needs the fedavg rule and a clipping norm (its sensitivity)');
  }
  if (noise && !(noise.expectedClients > 0)) throw new UsageError('the expected number of clients per round must be positive');
  if (options.normBound !== undefined && !NORM_BOUNDS.includes(options.normBound)) throw new UsageError(`unknown norm bound "${options.normBound}" (bounds: ${NORM_BOUNDS.join(', ')})`);
  if (options.bucket !== undefined && !(Number.isInteger(options.bucket) && options.bucket >= 1)) throw new UsageError(`the bucket size must be a positive integer, not ${options.bucket}`);
  if (noise && options.bucket !== undefined) throw new UsageError('differential-privacy noise is calibrated to the sum of single updates, not to bucket means: leave buckets out');
  if (options.krumFilter && (rule === 'krum' || rule === 'multi-krum' || rule === 'bulyan')) throw new UsageError(`${rule} selects by Krum scores already: the Krum filter is for the other rules`);
  if (options.krumFilter && noise) throw new UsageError('differential-privacy noise is calibrated to the sum of every clipped update: leave the Krum filter out');
  const { accepted, refused } = screenUpdates(updates, options);
  const ids = accepted.map((u) => u.client);
  const clipped = new Set<string>();
  let vectors: Vector[] = accepted.map((u) => {
    if (options.clip === undefined) return u.delta;
    const c = clipToNorm(u.delta, options.clip);
    if (c.clipped) clipped.add(u.client);
    return c.vector;
  });
  let bound: number | undefined;
  if (options.normBound && vectors.length > 0) {
    const b = boundToMedianNorm(vectors);
    vectors = b.vectors;
    bound = b.bound;
    for (const k of b.scaled) clipped.add(ids[k]!);
  }
  // With buckets the rule sees one vector per bucket; `members` maps them back to clients.
  let members: number[][] = vectors.map((_, k) => [k]);
  let weights = accepted.map((u) => u.samples);
  if (options.bucket !== undefined && vectors.length > 0) {
    const b = bucketMeans(vectors, options.bucket, options.bucketRandom ?? cryptoUniform);
    vectors = b.means;
    members = b.members.map((m) => m.slice());
    weights = members.map((m) => m.reduce((s, k) => s + accepted[k]!.samples, 0));
  }
  const buckets = options.bucket !== undefined ? members.map((m) => m.map((k) => ids[k]!)) : undefined;
  let used = ids;
  if (options.krumFilter && vectors.length > 0) {
    const keep = multiKrum(vectors, options.byzantine ?? 1).selected;
    vectors = keep.map((i) => vectors[i]!);
    members = keep.map((i) => members[i]!);
    weights = keep.map((i) => weights[i]!);
    used = members.flatMap((m) => m.map((k) => ids[k]!));
  }
  let aggregate: Float64Array;
  if (noise) {
    aggregate = weightedSum(vectors, vectors.map(() => 1), 1);
    if (aggregate.length === 0) aggregate = new Float64Array(options.dimensions);
    addGaussianNoise(aggregate, noise.multiplier * options.clip!, noise.random);
    for (let i = 0; i < aggregate.length; i++) aggregate[i]! /= noise.expectedClients;
  } else if (vectors.length === 0) {
    aggregate = new Float64Array(options.dimensions);
  } else if (rule === 'fedavg') {
    aggregate = fedAvg(vectors, weights);
  } else if (rule === 'median') {
    aggregate = coordinateMedian(vectors);
  } else if (rule === 'trimmed-mean') {
    aggregate = trimmedMean(vectors, options.trimFraction ?? 0.1);
  } else if (rule === 'centered-clip') {
    aggregate = centeredClip(vectors, { radius: options.centeredClipRadius, iterations: options.centeredClipIterations }).aggregate;
  } else if (rule === 'bulyan') {
    const r = bulyan(vectors, options.byzantine ?? 1);
    aggregate = r.aggregate;
    used = r.selected.flatMap((i) => members[i]!.map((k) => ids[k]!));
  } else {
    const f = options.byzantine ?? 1;
    const r = rule === 'krum' ? krum(vectors, f) : multiKrum(vectors, f, options.select);
    aggregate = r.aggregate;
    used = r.selected.flatMap((i) => members[i]!.map((k) => ids[k]!));
  }
  return { aggregate, accepted: ids, used, refused, clipped: ids.filter((id) => clipped.has(id)), ...(bound !== undefined ? { normBound: bound } : {}), ...(buckets ? { buckets } : {}) };
}
