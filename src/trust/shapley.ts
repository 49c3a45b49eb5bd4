/**
 * Shapley values: how much of a change each signal caused, when the effect
 * of several signals is not additive (here: log-odds add, but the result is
 * read as a probability and capped at the ceiling). Each signal gets its
 * average marginal effect over every order in which the signals could have
 * arrived, so the shares do not depend on the order and add up exactly to the
 * whole change (the efficiency property; Shapley, 1953).
 */
import { UsageError } from '../errors.js';

/** At most this many players: the exact computation visits 2^n coalitions. */
export const MAX_SHAPLEY_PLAYERS = 12;

/**
 * Shapley value of each player for `value`, a function of the coalition
 * given as a bit mask (bit i set = player i present).
 * @throws {UsageError} with more than {@link MAX_SHAPLEY_PLAYERS} players
 */
export function shapleyValues(n: number, value: (mask: number) => number): number[] {
  if (n > MAX_SHAPLEY_PLAYERS) throw new UsageError(`trust: at most ${MAX_SHAPLEY_PLAYERS} signals per update, got ${n}`);
  const size = 1 << n;
  const v = new Float64Array(size);
  for (let mask = 0; mask < size; mask++) v[mask] = value(mask);
  // weight[k] = k! (n - k - 1)! / n!: the share of orders in which exactly k others come first.
  const weight: number[] = [];
  for (let k = 0; k < n; k++) weight.push(1 / (n * binomial(n - 1, k)));
  const phi = new Array<number>(n).fill(0);
  for (let mask = 0; mask < size; mask++) {
    const k = popcount(mask);
    for (let i = 0; i < n; i++) {
      if (mask & (1 << i)) continue;
      phi[i]! += weight[k]! * (v[mask | (1 << i)]! - v[mask]!);
    }
  }
  return phi;
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

function popcount(x: number): number {
  let c = 0;
  for (; x; x &= x - 1) c++;
  return c;
}
