/**
 * Gaussian noise for the DP-FedAvg aggregate. Samples come from a uniform
 * source through the Box-Muller transform; the default source is the
 * operating system's CSPRNG (node:crypto), a seeded one is for simulations
 * that must repeat exactly.
 *
 * Floating-point Gaussian samples do not give the exact guarantee of the
 * ideal mechanism (Mironov, "On Significance of the Least Significant Bits
 * for Differential Privacy", CCS 2012); this is the usual practice of
 * DP-FedAvg implementations, not a discrete Gaussian.
 */
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';

/** A source of uniform numbers in [0, 1). */
export type UniformSource = () => number;

/** Uniform [0, 1) doubles with 53 random bits each, from node:crypto. */
export const cryptoUniform: UniformSource = () => {
  const b = randomBytes(8);
  return (b.readUInt32BE(0) * 2 ** 21 + (b.readUInt32BE(4) >>> 11)) / 2 ** 53;
};

/** A standard normal sampler over `random` (Box-Muller, both outputs used). */
export function standardNormal(random: UniformSource = cryptoUniform): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = 1 - random(); // (0, 1]: the logarithm stays finite
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * random();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
}

/**
 * Adds N(0, sigma^2) independently to every coordinate of `v`, in place.
 *
 * @throws {UsageError} sigma negative or not finite
 */
export function addGaussianNoise(v: Float64Array, sigma: number, random: UniformSource = cryptoUniform): Float64Array {
  if (!(sigma >= 0 && Number.isFinite(sigma))) throw new UsageError(`noise standard deviation ${sigma} is not a non-negative number`);
  const normal = standardNormal(random);
  for (let i = 0; i < v.length; i++) v[i]! += sigma * normal();
  return v;
}
