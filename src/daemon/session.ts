/**
 * The daemon's session: the person at the machine, once unlocked. It holds
 * the loaded models and the tokens issued to local clients, and it locks on
 * command, on idle timeout, on a signal or when trust falls too low.
 *
 * Locking is one synchronous step that bumps the epoch, forgets every token
 * and marks the session locked; releasing the models follows. Every request
 * checks the epoch when it is done, so an answer computed across a lock is
 * never sent: no request is served after the lock took effect.
 */
import { LockedError } from './errors.js';
import { ModelTable } from './models.js';
import { TokenSet } from './tokens.js';
import { AuthError } from '../errors.js';

export type LockReason = 'command' | 'idle' | 'signal' | 'trust' | 'shutdown';

export interface SessionChange {
  readonly at: string;
  readonly event: 'unlock' | 'lock' | 'start';
  readonly explanation: string;
}

export interface SessionView {
  readonly state: 'locked' | 'unlocked';
  readonly trust: number;
  readonly lockReason: LockReason | null;
  readonly unlockedAt: string | null;
  readonly models: number;
  readonly lastChange: SessionChange;
}

export class DaemonSession {
  readonly models = new ModelTable();
  readonly #tokens = new TokenSet();
  #epoch = 0;
  #locked = true;
  #lockReason: LockReason | null = null;
  #unlockedAt: string | null = null;
  #lastChange: SessionChange = { at: new Date().toISOString(), event: 'start', explanation: 'daemon started; nothing unlocked yet' };
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly idleTimeoutMs: number | undefined) {}

  /** Bumped by every lock; requests compare it before answering. */
  get epoch(): number {
    return this.#epoch;
  }

  get locked(): boolean {
    return this.#locked;
  }

  /** After a successful unlock: the session is open (again); returns a token for the client. */
  unlocked(explanation: string): string {
    if (this.#locked) {
      this.#locked = false;
      this.#lockReason = null;
      this.#unlockedAt = new Date().toISOString();
    }
    this.#lastChange = { at: new Date().toISOString(), event: 'unlock', explanation };
    this.touch();
    return this.#tokens.issue();
  }

  /**
   * Checks a request's token against the current session.
   * @throws LockedError when the session is locked; AuthError for a missing, forged or expired token.
   */
  authorize(token: string | undefined): number {
    if (this.#locked) throw new LockedError(this.#lockReason ?? 'not unlocked yet');
    if (!this.#tokens.has(token)) throw new AuthError('a valid session token is required (Authorization: Bearer TOKEN from POST /v1/models)');
    this.touch();
    return this.#epoch;
  }

  /** @throws LockedError when a lock happened since `epoch` was taken. */
  assertStill(epoch: number): void {
    if (epoch !== this.#epoch || this.#locked) throw new LockedError(this.#lockReason ?? 'locked');
  }

  /** Locks now: tokens are forgotten at once; models are released (awaited). Idempotent. */
  async lock(reason: LockReason, explanation: string): Promise<{ released: number; wasLocked: boolean }> {
    const wasLocked = this.#locked;
    this.#epoch++;
    this.#locked = true;
    this.#lockReason = wasLocked ? (this.#lockReason ?? reason) : reason;
    this.#tokens.revokeAll();
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    if (!wasLocked) this.#lastChange = { at: new Date().toISOString(), event: 'lock', explanation };
    const released = await this.models.releaseAll();
    return { released, wasLocked };
  }

  view(): SessionView {
    return {
      state: this.#locked ? 'locked' : 'unlocked',
      trust: this.#locked ? 0 : 1,
      lockReason: this.#lockReason,
      unlockedAt: this.#locked ? null : this.#unlockedAt,
      models: this.models.list().length,
      lastChange: this.#lastChange,
    };
  }

  private touch(): void {
    if (this.idleTimeoutMs === undefined) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      void this.lock('idle', `no request for ${Math.round(this.idleTimeoutMs! / 1000)} s`);
    }, this.idleTimeoutMs);
    this.#idleTimer.unref();
  }
}
