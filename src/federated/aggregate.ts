/**
 * One round of server-side aggregation: screen the updates (refusals never
 * reach the rule), optionally clip each accepted update to norm C, apply the
 * chosen rule, and optionally add Gaussian noise for differential privacy
 * (DP-FedAvg: McMahan et al., "Learning Differentially Private Recurrent
 * Language Models", ICLR 2018, Algorithm 1 with equal client weights and the
 * fixed-denominator estimator).
 */
import { UsageError } from '../errors.js';
import { clipToNorm } from './clip.js';
import { fedAvg } from './fedavg.js';
import { addGaussianNoise, type UniformSource } from './gaussian-noise.js';
import { krum, multiKrum } from './krum.js';
import { coordinateMedian } from './median.js';
import { trimmedMean } from './trimmed-mean.js';
import { screenUpdates, type ClientUpdate, type UpdateLimits, type UpdateRefusedError } from './update.js';
import { weightedSum, type Vector } from './_vector.js';

/** The aggregation rules on offer. */
export const AGGREGATION_RULES = ['fedavg', 'median', 'trimmed-mean', 'krum', 'multi-krum'] as const;
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
  /** Krum and Multi-Krum: the assumed number of Byzantine clients f (default 1). */
  readonly byzantine?: number;
  /** Multi-Krum: how many updates to average (default n - f). */
  readonly select?: number;
  readonly noise?: DpNoise;
}

export interface AggregationResult {
  /** The aggregate update; all zeros when nothing was accepted and no noise was asked for. */
  readonly aggregate: Float64Array;
  /** Clients whose updates passed screening. */
  readonly accepted: readonly string[];
  /** Clients whose updates the rule used (the Krum selection; all accepted ones otherwise). */
  readonly used: readonly string[];
  /** One typed error per refused update. */
  readonly refused: readonly UpdateRefusedError[];
  /** Clients whose updates were scaled down by clipping. */
  readonly clipped: readonly string[];
}

/**
 * Aggregates one round of client updates.
 *
 * @throws {UsageError} options that do not fit (noise without clipping or with a robust rule; Krum with fewer than 2f + 3 accepted updates)
 * @example aggregateUpdates(updates, { rule: 'median', dimensions: 4100, clip: 5 })
 */
export function aggregateUpdates(updates: readonly ClientUpdate[], options: AggregationOptions): AggregationResult {
  const { rule, noise } = options;
  if (!AGGREGATION_RULES.includes(rule)) throw new UsageError(`unknown aggregation rule "${rule}" (rules: ${AGGREGATION_RULES.join(', ')})`);
  if (noise && (rule !== 'fedavg' || options.clip === undefined)) {
    throw new UsageError('differential-privacy noise needs the fedavg rule and a clipping norm (its sensitivity)');
  }
  if (noise && !(noise.expectedClients > 0)) throw new UsageError('the expected number of clients per round must be positive');
  const { accepted, refused } = screenUpdates(updates, options);
  const clipped: string[] = [];
  const vectors: Vector[] = accepted.map((u) => {
    if (options.clip === undefined) return u.delta;
    const c = clipToNorm(u.delta, options.clip);
    if (c.clipped) clipped.push(u.client);
    return c.vector;
  });
  const ids = accepted.map((u) => u.client);
  let aggregate: Float64Array;
  let used = ids;
  if (noise) {
    aggregate = weightedSum(vectors, vectors.map(() => 1), 1);
    if (aggregate.length === 0) aggregate = new Float64Array(options.dimensions);
    addGaussianNoise(aggregate, noise.multiplier * options.clip!, noise.random);
    for (let i = 0; i < aggregate.length; i++) aggregate[i]! /= noise.expectedClients;
  } else if (vectors.length === 0) {
    aggregate = new Float64Array(options.dimensions);
  } else if (rule === 'fedavg') {
    aggregate = fedAvg(vectors, accepted.map((u) => u.samples));
  } else if (rule === 'median') {
    aggregate = coordinateMedian(vectors);
  } else if (rule === 'trimmed-mean') {
    aggregate = trimmedMean(vectors, options.trimFraction ?? 0.1);
  } else {
    const f = options.byzantine ?? 1;
    const r = rule === 'krum' ? krum(vectors, f) : multiKrum(vectors, f, options.select);
    aggregate = r.aggregate;
    used = r.selected.map((i) => ids[i]!);
  }
  return { aggregate, accepted: ids, used, refused, clipped };
}
