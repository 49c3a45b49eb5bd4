/**
 * Decay: without evidence, trust halves every half-life, towards 0:
 * trust(t) = trust(t0) x 2^(-(t - t0) / halfLife). Belief in "the owner is
 * still at the machine" fades with the time since anything showed it.
 */

/** Trust after `seconds` without evidence. */
export function decayedTrust(trust: number, seconds: number, halfLifeSeconds: number): number {
  return trust * 2 ** (-seconds / halfLifeSeconds);
}

/**
 * Seconds until decay takes `trust` below `threshold`: halfLife x log2(trust / threshold);
 * 0 when it is already below, Infinity when the threshold is 0.
 */
export function secondsUntilBelow(trust: number, threshold: number, halfLifeSeconds: number): number {
  if (trust < threshold) return 0;
  if (threshold <= 0) return Infinity;
  return halfLifeSeconds * Math.log2(trust / threshold);
}
