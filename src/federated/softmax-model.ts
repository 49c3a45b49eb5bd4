/**
 * The model the federated simulation trains: multinomial logistic (softmax)
 * regression over face embeddings. Parameters are one flat Float64Array,
 * `classes` rows of `dimensions` weights followed by `classes` biases, so
 * that a model, a client's update and an aggregate are all the same kind of
 * vector.
 */
import type { UniformSource } from './gaussian-noise.js';

/** A labelled example: a feature vector and its class index. */
export interface Example {
  readonly x: Float64Array;
  readonly label: number;
}

/** The shape of a softmax model. */
export interface ModelShape {
  readonly dimensions: number;
  readonly classes: number;
}

/** Local training settings of one client. */
export interface LocalTraining {
  /** Passes over the client's data. */
  readonly epochs: number;
  readonly learningRate: number;
  readonly batchSize: number;
  /** L2 weight decay. */
  readonly weightDecay: number;
}

/** Number of parameters of a model of this shape. */
export function parameterCount(shape: ModelShape): number {
  return shape.classes * (shape.dimensions + 1);
}

/** Class scores (logits) of `x`. */
export function logits(params: Float64Array, shape: ModelShape, x: Float64Array): Float64Array {
  const { dimensions: d, classes: c } = shape;
  const z = new Float64Array(c);
  for (let k = 0; k < c; k++) {
    let s = params[c * d + k]!;
    const row = k * d;
    for (let i = 0; i < d; i++) s += params[row + i]! * x[i]!;
    z[k] = s;
  }
  return z;
}

/** The predicted class of `x` (lowest index on ties). */
export function predict(params: Float64Array, shape: ModelShape, x: Float64Array): number {
  const z = logits(params, shape, x);
  let best = 0;
  for (let k = 1; k < z.length; k++) if (z[k]! > z[best]!) best = k;
  return best;
}

/** Share of `examples` predicted as their label. */
export function accuracy(params: Float64Array, shape: ModelShape, examples: readonly Example[]): number {
  if (examples.length === 0) return 0;
  return examples.filter((e) => predict(params, shape, e.x) === e.label).length / examples.length;
}

/** Share of `examples` predicted as `target` (whatever their label). */
export function shareClassifiedAs(params: Float64Array, shape: ModelShape, examples: readonly Example[], target: number): number {
  if (examples.length === 0) return 0;
  return examples.filter((e) => predict(params, shape, e.x) === target).length / examples.length;
}

/**
 * Mini-batch SGD on cross-entropy from `start`; returns the trained copy.
 * Batches are drawn in an order shuffled by `random`.
 */
export function trainSoftmax(start: Float64Array, shape: ModelShape, examples: readonly Example[], t: LocalTraining, random: UniformSource): Float64Array {
  const { dimensions: d, classes: c } = shape;
  const w = Float64Array.from(start);
  const grad = new Float64Array(w.length);
  const order = examples.map((_, i) => i);
  for (let epoch = 0; epoch < t.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let b = 0; b < order.length; b += t.batchSize) {
      const batch = order.slice(b, b + t.batchSize);
      grad.fill(0);
      for (const idx of batch) {
        const e = examples[idx]!;
        const p = softmax(logits(w, shape, e.x));
        for (let k = 0; k < c; k++) {
          const g = p[k]! - (k === e.label ? 1 : 0);
          if (g === 0) continue;
          const row = k * d;
          for (let i = 0; i < d; i++) grad[row + i]! += g * e.x[i]!;
          grad[c * d + k]! += g;
        }
      }
      const step = t.learningRate / batch.length;
      const decay = 1 - t.learningRate * t.weightDecay;
      for (let i = 0; i < w.length; i++) w[i] = w[i]! * (i < c * d ? decay : 1) - step * grad[i]!;
    }
  }
  return w;
}

function softmax(z: Float64Array): Float64Array {
  let m = -Infinity;
  for (const v of z) m = Math.max(m, v);
  let s = 0;
  const p = new Float64Array(z.length);
  for (let k = 0; k < z.length; k++) s += p[k] = Math.exp(z[k]! - m);
  for (let k = 0; k < z.length; k++) p[k]! /= s;
  return p;
}
