/**
 * Centered clipping (Karimireddy, He, Jaggi, "Learning from History for
 * Byzantine Robust Optimization", ICML 2021, §4, equation CClip): starting
 * from a point v, repeat L times
 *
 *     v <- v + (1/n) * sum_i (x_i - v) * min(1, tau / ||x_i - v||)
 *
 * Each update can move the result by at most tau / n per iteration, however
 * far away it is, while updates within tau of v count in full (the plain
 * mean when all are). The paper starts from the previous round's aggregate
 * (its momentum); a server that keeps no history starts from zero, the
 * update that leaves the model as it is. With no fixed tau given, each
 * iteration uses the median distance of the updates to v, so that at least
 * half of them count in full (the same adaptive choice as median norm
 * bounding).
 */
import { UsageError } from '../errors.js';
import { l2Norm, type Vector } from './_vector.js';
import { medianOf } from './norm-bound.js';

export interface CenteredClipOptions {
  /** The clipping radius tau; default: the median distance of the updates to the current point, each iteration. */
  readonly radius?: number;
  /** L, the number of iterations (default 3). */
  readonly iterations?: number;
  /** v0 (default: zero). */
  readonly start?: Vector;
}

/** The result and the radius used in each iteration. */
export interface CenteredClipResult {
  readonly aggregate: Float64Array;
  readonly radii: readonly number[];
}

/** Default {@link CenteredClipOptions.iterations}. */
export const DEFAULT_CENTERED_CLIP_ITERATIONS = 3;

/**
 * Centered clipping of `vectors`.
 *
 * @throws {UsageError} no vectors, a radius that is not a positive number, an iteration count that is not a positive integer, a start point of the wrong length
 * @example centeredClip([[0], [1], [100]], { radius: 1, iterations: 1 }).aggregate // [(0 + 1 + 1) / 3]
 */
export function centeredClip(vectors: readonly Vector[], o: CenteredClipOptions = {}): CenteredClipResult {
  const n = vectors.length;
  if (n === 0) throw new UsageError('centered clipping needs at least one update');
  const iterations = o.iterations ?? DEFAULT_CENTERED_CLIP_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1) throw new UsageError(`centered clipping needs a positive whole number of iterations, not ${iterations}`);
  if (o.radius !== undefined && !(o.radius > 0 && Number.isFinite(o.radius))) throw new UsageError(`centered clipping radius ${o.radius} is not a positive number`);
  const d = vectors[0]!.length;
  if (o.start && o.start.length !== d) throw new UsageError(`the start point has ${o.start.length} values where the updates have ${d}`);
  let v = o.start ? Float64Array.from(o.start) : new Float64Array(d);
  const radii: number[] = [];
  const diff = new Float64Array(d);
  for (let l = 0; l < iterations; l++) {
    const distances = vectors.map((x) => {
      for (let i = 0; i < d; i++) diff[i] = x[i]! - v[i]!;
      return l2Norm(diff);
    });
    const tau = o.radius ?? medianOf(distances);
    radii.push(tau);
    const next = Float64Array.from(v);
    vectors.forEach((x, k) => {
      const dist = distances[k]!;
      // A zero radius (half the updates at v) moves nothing; neither does an update at v.
      const w = dist === 0 ? 0 : Math.min(1, tau / dist) / n;
      for (let i = 0; i < d; i++) next[i]! += w * (x[i]! - v[i]!);
    });
    v = next;
  }
  return { aggregate: v, radii };
}
