/**
 * Update-norm clipping: scale an update down to L2 norm at most C, leaving
 * shorter ones as they are. Bounds what any one client can move the
 * aggregate by (a defence against boosted, model-replacing updates; Sun et
 * al., "Can You Really Backdoor Federated Learning?", 2019) and sets the
 * sensitivity that differential-privacy noise is calibrated to (McMahan et
 * al., "Learning Differentially Private Recurrent Language Models", ICLR 2018).
 */
import { UsageError } from '../errors.js';
import { l2Norm, type Vector } from './_vector.js';

/**
 * `v * min(1, C / ||v||)`.
 *
 * @returns the clipped copy, the norm before clipping and whether it was scaled
 * @throws {UsageError} C not a positive finite number
 * @example clipToNorm(Float64Array.of(3, 4), 1).vector // [0.6, 0.8]
 */
export function clipToNorm(v: Vector, clip: number): { vector: Float64Array; norm: number; clipped: boolean } {
  if (!(clip > 0 && Number.isFinite(clip))) throw new UsageError(`clipping norm ${clip} is not a positive number`);
  const norm = l2Norm(v);
  const scale = norm > clip ? clip / norm : 1;
  const vector = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) vector[i] = v[i]! * scale;
  return { vector, norm, clipped: scale < 1 };
}
