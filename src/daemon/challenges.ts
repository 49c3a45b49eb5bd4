/**
 * One-time challenges the daemon hands to its pages: a liveness challenge
 * for a face enrolment, a WebAuthn challenge for a passkey registration or
 * touch. Each has an unguessable id, lives for a short time, is bound to the
 * session epoch it was issued in (a lock voids every open challenge) and is
 * used up by the first answer, right or wrong: a replayed answer finds
 * nothing.
 */
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';
import type { FaceChallenge } from './face-enrolment.js';
import type { PasskeyChallenge } from './passkey.js';

/** How long a challenge may be answered. */
export const CHALLENGE_TTL_MS = 120_000;
/** Open challenges kept per kind; the oldest is dropped beyond this. */
const MAX_OPEN = 16;
const ID = /^[A-Za-z0-9_-]{43}$/;

interface Open<T> {
  readonly value: T;
  readonly epoch: number;
  readonly expires: number;
}

export class ChallengeStore<T> {
  readonly #open = new Map<string, Open<T>>();

  constructor(private readonly kind: string) {}

  /** Opens a challenge carrying `value`; returns its id and when it expires. */
  issue(value: T, epoch: number, now = Date.now()): { id: string; expiresAt: string } {
    this.prune(now);
    while (this.#open.size >= MAX_OPEN) this.#open.delete(this.#open.keys().next().value!);
    const id = randomBytes(32).toString('base64url');
    const expires = now + CHALLENGE_TTL_MS;
    this.#open.set(id, { value, epoch, expires });
    return { id, expiresAt: new Date(expires).toISOString() };
  }

  /**
   * Uses up the challenge `id` issued in `epoch`.
   * @throws UsageError when there is no such open challenge (unknown, used, expired or from before a lock).
   */
  take(id: unknown, epoch: number, now = Date.now()): T {
    if (typeof id !== 'string' || !ID.test(id)) throw new UsageError(`"challenge" must be the id of a ${this.kind} challenge`);
    const open = this.#open.get(id);
    this.#open.delete(id);
    if (!open || open.expires <= now || open.epoch !== epoch) {
      throw new UsageError(`no open ${this.kind} challenge with this id: it was used, expired, or issued before a lock; ask for a new one`);
    }
    return open.value;
  }

  private prune(now: number): void {
    for (const [id, c] of this.#open) if (c.expires <= now) this.#open.delete(id);
  }
}

/** The open challenges of the daemon's pages, one store per kind. */
export interface PageChallenges {
  readonly face: ChallengeStore<FaceChallenge>;
  readonly passkey: ChallengeStore<PasskeyChallenge>;
}

export function createPageChallenges(): PageChallenges {
  return { face: new ChallengeStore<FaceChallenge>('face liveness'), passkey: new ChallengeStore<PasskeyChallenge>('passkey') };
}
