/**
 * Token buckets, one per key, in bounded memory. A key's bucket holds up to
 * `burst` tokens and refills at `ratePerSecond`; an action takes a token or
 * is told how long to wait. A bucket that has refilled to full is the same
 * as no bucket, so idle buckets are dropped once they are full again. A
 * bucket that is not full is never dropped (dropping it would refill it):
 * when `maxKeys` keys already have one, further keys share a single
 * overflow bucket with the same policy, so no number of keys gets more than
 * `maxKeys + 1` bursts. Time comes from an injectable clock, so callers and
 * tests control it.
 *
 * Unlike the factors' failed-attempt limiter (src/factors/rate-limit.ts),
 * which persists exponential delays on disk, this is for request rates in
 * one process's memory.
 *
 * @example
 * const buckets = new TokenBuckets({ ratePerSecond: 10, burst: 100 });
 * const wait = buckets.take(deviceId);
 * if (wait > 0) throw new RateLimitError(`try again in ${Math.ceil(wait / 1000)} s`, wait);
 */

/** How fast a bucket refills and how many tokens it holds. */
export interface TokenBucketPolicy {
  /** Tokens added per second (> 0). */
  readonly ratePerSecond: number;
  /** The bucket's capacity: how many actions may come at once (>= 1). */
  readonly burst: number;
}

export interface TokenBucketsOptions {
  /** The most keys tracked at once; default 65,536. */
  readonly maxKeys?: number;
  /** Milliseconds; default Date.now. */
  readonly now?: () => number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was computed. */
  at: number;
}

/** Buckets looked at (dropped when full, moved to the back otherwise) per call: the work is amortised. */
const SWEEP_PER_CALL = 2;

export class TokenBuckets {
  readonly policy: TokenBucketPolicy;
  private readonly maxKeys: number;
  private readonly now: () => number;
  /** One bucket per key; sweeping looks at the front and moves what it keeps to the back. */
  private readonly buckets = new Map<string, Bucket>();
  /** Shared by every key that finds the map full (absent while full). */
  private overflow: Bucket | undefined;

  /** @throws RangeError for a rate that is not positive, a burst below 1 or a maxKeys below 1. */
  constructor(policy: TokenBucketPolicy, options: TokenBucketsOptions = {}) {
    if (!(Number.isFinite(policy.ratePerSecond) && policy.ratePerSecond > 0)) throw new RangeError('a token bucket rate must be a positive number');
    if (!(Number.isFinite(policy.burst) && policy.burst >= 1)) throw new RangeError('a token bucket burst must be at least 1');
    const maxKeys = options.maxKeys ?? 65_536;
    if (!(Number.isSafeInteger(maxKeys) && maxKeys >= 1)) throw new RangeError('maxKeys must be a positive integer');
    this.policy = { ratePerSecond: policy.ratePerSecond, burst: policy.burst };
    this.maxKeys = maxKeys;
    this.now = options.now ?? Date.now;
  }

  /** Milliseconds until `key` has `cost` tokens (0: it has them now). Takes nothing. */
  waitMs(key: string, cost = 1): number {
    this.checkCost(cost);
    const now = this.now();
    this.sweep(now);
    const tokens = this.level(this.buckets.get(key) ?? (this.buckets.size < this.maxKeys ? undefined : this.overflow), now);
    return tokens >= cost ? 0 : this.msFor(cost - tokens);
  }

  /**
   * Takes `cost` tokens from `key`'s bucket (the overflow bucket when every
   * tracked key's bucket is in use) when it has them.
   * @returns 0 when taken; otherwise the milliseconds to wait, and nothing is taken.
   */
  take(key: string, cost = 1): number {
    this.checkCost(cost);
    const now = this.now();
    this.sweep(now);
    const own = this.buckets.get(key);
    const shared = own === undefined && this.buckets.size >= this.maxKeys;
    const tokens = this.level(shared ? this.overflow : own, now);
    if (tokens < cost) return this.msFor(cost - tokens);
    const bucket = { tokens: tokens - cost, at: now };
    if (shared) this.overflow = bucket;
    else {
      this.buckets.delete(key);
      this.buckets.set(key, bucket);
    }
    return 0;
  }

  /**
   * Gives back `cost` tokens taken from `key` (an action that turned out not
   * to count), to the bucket that holds the key now: its own, or the
   * overflow bucket. A bucket never holds more than the burst.
   */
  refund(key: string, cost = 1): void {
    this.checkCost(cost);
    const now = this.now();
    const own = this.buckets.get(key);
    const bucket = own ?? this.overflow;
    if (!bucket) return;
    const tokens = Math.min(this.policy.burst, this.level(bucket, now) + cost);
    if (tokens >= this.policy.burst) {
      if (own) this.buckets.delete(key);
      else this.overflow = undefined;
      return;
    }
    bucket.tokens = tokens;
    bucket.at = Math.max(bucket.at, now);
  }

  /** How many keys have a bucket of their own that is not full. */
  get size(): number {
    return this.buckets.size;
  }

  /** Tokens in `bucket` now (a missing bucket is full). */
  private level(bucket: Bucket | undefined, now: number): number {
    if (!bucket) return this.policy.burst;
    // A clock that steps back refills nothing (and takes nothing back).
    const elapsed = Math.max(0, now - bucket.at);
    return Math.min(this.policy.burst, bucket.tokens + (elapsed * this.policy.ratePerSecond) / 1000);
  }

  private msFor(missing: number): number {
    // The small allowance absorbs floating-point dust (0.002 tokens at 2/s is 1 ms, not 1.0000000000000009).
    return Math.max(1, Math.ceil((missing * 1000) / this.policy.ratePerSecond - 1e-6));
  }

  private checkCost(cost: number): void {
    if (!(cost > 0 && cost <= this.policy.burst)) throw new RangeError(`a cost must be above 0 and at most the burst (${this.policy.burst})`);
  }

  /** Drops buckets at the front that are full again, and moves the others to the back, so each is looked at in turn. */
  private sweep(now: number): void {
    for (let i = 0; i < SWEEP_PER_CALL; i++) {
      const oldest = this.buckets.entries().next();
      if (oldest.done) break;
      const [key, bucket] = oldest.value;
      this.buckets.delete(key);
      if (this.level(bucket, now) < this.policy.burst) this.buckets.set(key, bucket);
    }
    if (this.overflow && this.level(this.overflow, now) >= this.policy.burst) this.overflow = undefined;
  }
}
