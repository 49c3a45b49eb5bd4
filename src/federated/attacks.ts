/**
 * The poisoning attacks the simulation runs, both boosted so that under
 * plain averaging they replace the global model (Bagdasaryan et al., "How To
 * Backdoor Federated Learning", AISTATS 2020, §4.2: submit
 * gamma * (X - G) with gamma = n / eta, so the average becomes X):
 *
 * - `backdoor`: X is trained from the global model on the attacker's own
 *   examples plus copies of them carrying a trigger (a fixed perturbation in
 *   embedding space) relabelled as the target person. Attacking a trained
 *   global model (`attackFrom` after the first rounds, as Bagdasaryan et al.
 *   do), X keeps most of its clean accuracy, so the backdoor is hard to see.
 * - `replacement`: X is a model of the attacker's choosing that labels every
 *   face as the target person (plain model replacement, not stealthy).
 */
import { trainSoftmax, type Example, type LocalTraining, type ModelShape } from './softmax-model.js';
import type { UniformSource } from './gaussian-noise.js';

export const ATTACKS = ['backdoor', 'replacement'] as const;
export type AttackKind = (typeof ATTACKS)[number];

/**
 * A trigger: `norm` spread evenly, with random signs, over a random 1/32 of
 * the coordinates (a fixed pattern, as a pixel patch is in image space).
 */
export function makeTrigger(dimensions: number, norm: number, random: UniformSource): Float64Array {
  const t = new Float64Array(dimensions);
  const count = Math.max(1, Math.round(dimensions / 32));
  const picked = new Set<number>();
  while (picked.size < count) picked.add(Math.floor(random() * dimensions));
  const v = norm / Math.sqrt(count);
  for (const i of picked) t[i] = random() < 0.5 ? -v : v;
  return t;
}

/** `x + trigger`. */
export function withTrigger(x: Float64Array, trigger: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! + trigger[i]!;
  return out;
}

/** The model X an attacker wants the server to adopt this round. */
export function attackerModel(
  kind: AttackKind,
  global: Float64Array,
  shape: ModelShape,
  own: readonly Example[],
  o: { trigger: Float64Array; target: number; training: LocalTraining; random: UniformSource },
): Float64Array {
  if (kind === 'replacement') {
    // Weights zero, a bias that only the target class has: every input goes to the target.
    const x = new Float64Array(global.length);
    x[shape.classes * shape.dimensions + o.target] = 10;
    return x;
  }
  const poisoned = own.map((e) => ({ x: withTrigger(e.x, o.trigger), label: o.target }));
  return trainSoftmax(global, shape, [...own, ...poisoned], o.training, o.random);
}

/** `boost * (model - global)`: the update that moves an average of `1 / boost` weight onto `model`. */
export function boostedUpdate(model: Float64Array, global: Float64Array, boost: number): Float64Array {
  const out = new Float64Array(model.length);
  for (let i = 0; i < out.length; i++) out[i] = boost * (model[i]! - global[i]!);
  return out;
}
