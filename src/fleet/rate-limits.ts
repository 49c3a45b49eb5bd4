/**
 * The fleet service's rate limits, token buckets in memory
 * (src/util/token-bucket.ts):
 *
 * - per device: every authenticated device request takes a token from the
 *   device's bucket, and encrypted matching (verify and search, the
 *   expensive calls) also takes one from a second, slower bucket;
 * - per peer address (only where the address means something: under TLS,
 *   see `admitPeer`): every request takes a failure token when it arrives
 *   and gets it back once it authenticates (or ends without an
 *   authentication failure), so the bucket counts both failed
 *   authentications and requests still unauthenticated. While the address
 *   has no token left its requests are refused before their body is read,
 *   except a few at a time that name an active device (their signature can
 *   only be checked once the body is read): a device whose signature
 *   verifies is never refused for its address's failures. IPv6 peers count
 *   per /64, the block one subscriber usually holds.
 *
 * A refusal is RateLimitError (429 E_RATE_LIMIT, with Retry-After). The
 * buckets live in one process: several processes behind a load balancer
 * each apply the limits on their own.
 */
import { isIPv6 } from 'node:net';
import { RateLimitError, UsageError } from '../errors.js';
import { TokenBuckets, type TokenBucketPolicy } from '../util/token-bucket.js';

export type { TokenBucketPolicy } from '../util/token-bucket.js';

export interface FleetRateLimitOptions {
  /** Every authenticated request of one device. */
  readonly device?: TokenBucketPolicy;
  /** Encrypted matching (POST /v1/verify, POST /v1/gallery/search) of one device, on top of `device`. */
  readonly matching?: TokenBucketPolicy;
  /** Failed authentications from one peer address. */
  readonly authFailures?: TokenBucketPolicy;
  /** The most devices, and the most addresses, tracked at once (each); default 65,536. */
  readonly maxTrackedKeys?: number;
  /**
   * The most requests from one address that has no failure token left which
   * are read before their signature can be checked (they name an active
   * device); default 4.
   */
  readonly unverifiedOnCredit?: number;
}

/** One admitted request's account with its address's failure bucket. */
export interface PeerAdmission {
  /** The request authenticated (a device signature, the operator token): its token comes back. */
  authenticated(): void;
  /** The request ended; `authFailed` when it ended in an authentication failure, which keeps (or takes) a token. */
  finished(authFailed: boolean): void;
}

/** For peers whose address is not limited. */
const UNLIMITED: PeerAdmission = { authenticated() {}, finished() {} };

/**
 * Defaults that a device in normal use does not reach: an unlock is one
 * verify, an enrolment station uploads a gallery of 1,000 templates in 8
 * requests. Matching is capped lower because a search over 1,000 templates
 * costs about a second of CPU.
 */
export const DEFAULT_FLEET_RATE_LIMITS = {
  device: { ratePerSecond: 10, burst: 100 },
  matching: { ratePerSecond: 2, burst: 20 },
  authFailures: { ratePerSecond: 1, burst: 30 },
  maxTrackedKeys: 65_536,
  unverifiedOnCredit: 4,
} as const satisfies Required<FleetRateLimitOptions>;

const UNITS: Readonly<Record<string, number>> = { s: 1, min: 60, h: 3600 };

/**
 * Parses a rate such as `10/s`, `0.5/s`, `30/min` or `100/h` into tokens per second.
 * @throws UsageError
 * @example parseRate('30/min', '--rate') // 0.5
 */
export function parseRate(text: string, what: string): number {
  const m = /^(\d{1,9}(?:\.\d{1,6})?)\/(s|min|h)$/.exec(text);
  const rate = m ? Number(m[1]) / UNITS[m[2]!]! : NaN;
  if (!(rate > 0)) throw new UsageError(`${what} must be a positive rate such as 10/s, 30/min or 100/h`);
  return rate;
}

/**
 * Parses a burst: a whole number of requests from 1 to 1,000,000.
 * @throws UsageError
 */
export function parseBurst(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d{1,7}$/.test(text) || n < 1 || n > 1_000_000) throw new UsageError(`${what} must be a whole number from 1 to 1000000`);
  return n;
}

/** The key a peer address counts under: IPv4 (also IPv4-mapped) as is, IPv6 by its /64. */
export function peerKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head, tail = ''] = address.split('::') as [string, string?];
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  // An embedded IPv4 address (::ffff:0:1.2.3.4, 64:ff9b::1.2.3.4) fills two groups.
  const rightGroups = right.length + (right.at(-1)?.includes('.') ? 1 : 0);
  const groups: string[] = address.includes('::') ? [...left, ...Array<string>(8 - left.length - rightGroups).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}

const refused = (what: string, wait: number) => new RateLimitError(`${what}: try again in ${Math.ceil(wait / 1000)} s`, wait);

export class FleetRateLimits {
  private readonly device: TokenBuckets;
  private readonly matching: TokenBuckets;
  private readonly failures: TokenBuckets;
  private readonly unverifiedOnCredit: number;
  /** Per address: requests admitted without a failure token, not yet authenticated. */
  private readonly onCredit = new Map<string, number>();

  /** @throws UsageError for a rate that is not positive or a burst below 1. */
  constructor(options: FleetRateLimitOptions = {}, now: () => number = Date.now) {
    const maxKeys = options.maxTrackedKeys ?? DEFAULT_FLEET_RATE_LIMITS.maxTrackedKeys;
    const buckets = (policy: TokenBucketPolicy, what: string) => {
      try {
        return new TokenBuckets(policy, { maxKeys, now });
      } catch (error) {
        throw new UsageError(`the ${what} rate limit is not usable: ${(error as Error).message}`);
      }
    };
    this.device = buckets(options.device ?? DEFAULT_FLEET_RATE_LIMITS.device, 'device');
    this.matching = buckets(options.matching ?? DEFAULT_FLEET_RATE_LIMITS.matching, 'matching');
    this.failures = buckets(options.authFailures ?? DEFAULT_FLEET_RATE_LIMITS.authFailures, 'failed-authentication');
    this.unverifiedOnCredit = options.unverifiedOnCredit ?? DEFAULT_FLEET_RATE_LIMITS.unverifiedOnCredit;
    if (!(Number.isSafeInteger(this.unverifiedOnCredit) && this.unverifiedOnCredit >= 0)) throw new UsageError('the number of unverified requests on credit must be a whole number');
  }

  /**
   * Admits a request from `address`, charging its failure bucket one token
   * until the request authenticates. When the bucket is empty, the request
   * is still admitted if `namesActiveDevice` says its signed headers name an
   * active device and fewer than `unverifiedOnCredit` such requests from the
   * address are in progress; otherwise it is refused.
   * @throws RateLimitError
   */
  async admitPeer(address: string, namesActiveDevice: () => Promise<boolean>): Promise<PeerAdmission> {
    const key = peerKey(address);
    const wait = this.failures.take(key);
    if (wait === 0) return this.admission(key, true);
    if ((this.onCredit.get(key) ?? 0) < this.unverifiedOnCredit && (await namesActiveDevice())) {
      // Counted after the lookup: the count cannot be passed while lookups are pending.
      const n = this.onCredit.get(key) ?? 0;
      if (n < this.unverifiedOnCredit) {
        this.onCredit.set(key, n + 1);
        return this.admission(key, false);
      }
    }
    throw refused('too many failed authentications from this address', wait);
  }

  /** Admission for a peer whose address says nothing (loopback behind a proxy): no failure limit. */
  static readonly unlimited: PeerAdmission = UNLIMITED;

  private admission(key: string, charged: boolean): PeerAdmission {
    let holdsToken = charged;
    let onCredit = !charged;
    let done = false;
    const releaseCredit = () => {
      if (!onCredit) return;
      onCredit = false;
      const n = (this.onCredit.get(key) ?? 1) - 1;
      if (n > 0) this.onCredit.set(key, n);
      else this.onCredit.delete(key);
    };
    return {
      authenticated: () => {
        if (holdsToken) this.failures.refund(key);
        holdsToken = false;
        releaseCredit();
      },
      finished: (authFailed) => {
        if (done) return;
        done = true;
        releaseCredit();
        if (authFailed) {
          if (!holdsToken) this.failures.take(key);
        } else if (holdsToken) this.failures.refund(key);
        holdsToken = false;
      },
    };
  }

  /** Counts a failed authentication against `address` (for callers outside a request). */
  recordAuthFailure(address: string): void {
    this.failures.take(peerKey(address));
  }

  /**
   * Charges an authenticated request to its device: one token of the device's
   * bucket, and one of its matching bucket when `matching`. Nothing is taken
   * when either is empty.
   * @throws RateLimitError
   */
  chargeDevice(deviceId: string, matching: boolean): void {
    if (matching) {
      const wait = this.matching.waitMs(deviceId);
      if (wait > 0) throw refused('too many encrypted matching requests from this device', wait);
    }
    const wait = this.device.take(deviceId);
    if (wait > 0) throw refused('too many requests from this device', wait);
    if (matching) this.matching.take(deviceId);
  }

  /** How many devices and addresses have a bucket that is not full (memory in use). */
  get trackedKeys(): { devices: number; matching: number; addresses: number; onCredit: number } {
    return { devices: this.device.size, matching: this.matching.size, addresses: this.failures.size, onCredit: this.onCredit.size };
  }
}
