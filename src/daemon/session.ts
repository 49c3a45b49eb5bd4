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
import type { Gate } from './gate.js';
import type { TrustExplanation, TrustState } from '../trust/index.js';

export type LockReason = 'command' | 'idle' | 'signal' | 'trust' | 'shutdown';

export interface SessionChange {
  readonly at: string;
  readonly event: 'unlock' | 'lock' | 'start' | 'evidence';
  readonly explanation: string;
  /** Which signals moved trust and by how much (absent for a lock or the start). */
  readonly trust?: TrustExplanation;
}

export interface SessionView {
  readonly state: 'locked' | 'unlocked';
  readonly trust: number;
  /** The daemon locks when trust falls below this. */
  readonly lockThreshold: number;
  /** When decay alone takes trust below the lock threshold (ISO time), while unlocked. */
  readonly lockDeadline: string | null;
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
  #trustTimer: NodeJS.Timeout | undefined;
  /** When decay alone takes trust below the lock threshold. */
  #lockAt = Infinity;
  /** The token each client connection proved since the last lock. */
  #proven = new WeakMap<object, string>();

  constructor(
    readonly gate: Gate,
    private readonly idleTimeoutMs: number | undefined,
  ) {}

  /** Bumped by every lock; requests compare it before answering. */
  get epoch(): number {
    return this.#epoch;
  }

  get locked(): boolean {
    return this.#locked;
  }

  /** After a successful unlock, with the trust it gives: the session is open (again); returns a token for the client. */
  unlocked(update: { state: TrustState; explanation: TrustExplanation }, explanation: string): string {
    if (this.#locked) {
      this.#locked = false;
      this.#lockReason = null;
      this.#unlockedAt = new Date().toISOString();
    }
    this.trustChanged(update, 'unlock', explanation);
    this.touch();
    return this.#tokens.issue();
  }

  /** Commits a trust change (unlock or evidence) and re-arms the trust lock timer. */
  trustChanged(update: { state: TrustState; explanation: TrustExplanation }, event: 'unlock' | 'evidence', explanation: string): void {
    this.gate.commit(update, event);
    this.#lastChange = { at: new Date(update.state.at).toISOString(), event, explanation: `${explanation}; ${update.explanation.summary}`, trust: update.explanation };
    this.armTrustTimer();
    if (this.gate.belowLockThreshold(update.state.at)) void this.lock('trust', `trust fell below the lock threshold: ${update.explanation.summary}`);
  }

  /**
   * Checks a request's token against the current session. `connection` (the
   * client's socket) remembers the token it proved: later requests on it that
   * send the same token skip hashing it. Only the client holding that
   * connection can compare against what it stores, and a lock forgets it.
   * @throws LockedError when the session is locked; AuthError for a missing, forged or expired token.
   */
  authorize(token: string | undefined, now = Date.now(), connection?: object): number {
    if (!this.#locked && now >= this.#lockAt && this.gate.belowLockThreshold(now)) void this.lock('trust', 'trust decayed below the lock threshold');
    if (this.#locked) throw new LockedError(this.#lockReason ?? 'not unlocked yet');
    if (connection === undefined || token === undefined || this.#proven.get(connection) !== token) {
      if (!this.#tokens.has(token)) throw new AuthError('a valid session token is required (Authorization: Bearer TOKEN from POST /v1/models)');
      if (connection !== undefined) this.#proven.set(connection, token!);
    }
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
    this.#proven = new WeakMap();
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#trustTimer);
    this.#idleTimer = undefined;
    this.#trustTimer = undefined;
    if (!wasLocked) {
      this.#lastChange = { at: new Date().toISOString(), event: 'lock', explanation };
      this.gate.reset(Date.now(), explanation);
      this.gate.audit.record({ type: 'lock', actor: this.gate.principal, decision: reason, reasons: [explanation] });
    }
    const released = await this.models.releaseAll();
    return { released, wasLocked };
  }

  view(now = Date.now()): SessionView {
    const deadline = this.#locked ? undefined : this.gate.lockDeadline();
    return {
      state: this.#locked ? 'locked' : 'unlocked',
      trust: this.#locked ? 0 : this.gate.trustAt(now),
      lockThreshold: this.gate.engine.config.lockThreshold,
      lockDeadline: deadline === undefined || !Number.isFinite(deadline) ? null : new Date(deadline).toISOString(),
      lockReason: this.#lockReason,
      unlockedAt: this.#locked ? null : this.#unlockedAt,
      models: this.models.list().length,
      lastChange: this.#lastChange,
    };
  }

  /** Locks when decay alone takes trust below the threshold. */
  private armTrustTimer(): void {
    clearTimeout(this.#trustTimer);
    const deadline = this.gate.lockDeadline();
    // Before it, authorize need not compute trust (a millisecond of margin for rounding).
    this.#lockAt = deadline === undefined ? Infinity : deadline - 1;
    if (deadline === undefined || !Number.isFinite(deadline)) return;
    // setTimeout holds at most 2^31-1 ms; a later deadline is re-armed when reached.
    const delay = Math.min(Math.max(0, deadline - Date.now()), 2 ** 31 - 1);
    this.#trustTimer = setTimeout(() => {
      if (this.gate.belowLockThreshold(Date.now())) void this.lock('trust', 'trust decayed below the lock threshold');
      else this.armTrustTimer();
    }, delay + 1);
    this.#trustTimer.unref();
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
