/**
 * One keystroke feature (a hold time, a latency, a touch pressure) of one
 * person, modelled by a Gaussian kernel density estimate of its enrolled
 * values (Silverman, "Density Estimation", 1986, §3.4.2: bandwidth
 * h = 1.06·σ·n^(-1/5)).
 *
 * Values are compared in log space when every enrolled value is positive:
 * timings, pressures and contact sizes are positive and right-skewed, and a
 * log makes their spread proportional to their size. A feature that can be
 * zero or negative (an up-down latency when keys overlap) stays linear.
 *
 * A density says how typical a value is *for this person*; dividing by the
 * person's own spread σ makes it free of units, so features of every kind add
 * up on one scale. The log-density is floored: one wild value (a slip, a
 * pause) costs at most {@link DENSITY_FLOOR} and cannot outweigh every other
 * feature. That floor plays the part of the clipping in robust distances.
 */

/**
 * Lowest log-density one feature contributes, in nats relative to the
 * person's spread. log φ(z) = -4 at z ≈ 2.5: a value further out than about
 * 2.5 standard deviations counts as "far" however far it is. Chosen on the
 * odd-numbered subjects of MEU-Mobile KSD (see docs/KEYSTROKE.md).
 */
export const DENSITY_FLOOR = -4;

/** Smallest spread used, relative to the feature's scale, so constant features do not give zero bandwidth. */
const MIN_SPREAD_LOG = 0.01;
const MIN_SPREAD_RELATIVE = 0.01;

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** A fitted density of one feature. */
export interface FeatureDensity {
  /** Whether values are compared as logarithms. */
  readonly log: boolean;
  /** Enrolled values, transformed. */
  readonly centres: Float64Array;
  /** Sample standard deviation of the transformed values (floored). */
  readonly spread: number;
  /** Kernel bandwidth. */
  readonly bandwidth: number;
}

/**
 * Fits the density of one feature from its enrolled values (at least two).
 *
 * @throws RangeError when fewer than two values or a value is not finite
 */
export function fitFeatureDensity(values: readonly number[]): FeatureDensity {
  if (values.length < 2) throw new RangeError('a feature density needs at least two values');
  if (!values.every(Number.isFinite)) throw new RangeError('feature values must be finite');
  const log = values.every((v) => v > 0);
  const centres = Float64Array.from(values, (v) => (log ? Math.log(v) : v));
  const n = centres.length;
  const mean = centres.reduce((s, v) => s + v, 0) / n;
  const sd = Math.sqrt(centres.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  const minSpread = log ? MIN_SPREAD_LOG : MIN_SPREAD_RELATIVE * Math.max(1e-9, centres.reduce((s, v) => s + Math.abs(v), 0) / n);
  const spread = Math.max(sd, minSpread);
  return { log, centres, spread, bandwidth: 1.06 * spread * n ** -0.2 };
}

/**
 * log(σ · f̂(x)), floored at {@link DENSITY_FLOOR}: how typical the value is
 * for the person, in nats. A value that cannot be transformed (not finite,
 * or not positive for a log feature) gets the floor.
 */
export function featureLogDensity(d: FeatureDensity, value: number): number {
  if (!Number.isFinite(value) || (d.log && value <= 0)) return DENSITY_FLOOR;
  const x = d.log ? Math.log(value) : value;
  // log-sum-exp over the kernels, for values far in the tails.
  let max = -Infinity;
  const e = new Float64Array(d.centres.length);
  for (let i = 0; i < d.centres.length; i++) {
    const z = (x - d.centres[i]!) / d.bandwidth;
    e[i] = -0.5 * z * z;
    if (e[i]! > max) max = e[i]!;
  }
  let sum = 0;
  for (const v of e) sum += Math.exp(v - max);
  const logDensity = max + Math.log(sum / d.centres.length) - LOG_SQRT_2PI - Math.log(d.bandwidth);
  return Math.max(DENSITY_FLOOR, logDensity + Math.log(d.spread));
}
