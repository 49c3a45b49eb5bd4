/**
 * Failed-attempt limiting for unlock factors, persisted under $BIOSEAL_HOME
 * so that it survives restarts: after `freeAttempts` consecutive failures
 * (NIST SP 800-63B §5.2.3: 5 for biometrics), each further attempt must wait
 * a delay that starts at 30 s and doubles, capped at an hour, like a TPM's
 * dictionary-attack lockout. A success clears the count.
 *
 * Several processes may share the state file: updates are read-modify-write
 * under an exclusive lock file, and each write is atomic (rename).
 */
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, constants as fsc, statSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { RateLimitError } from '../errors.js';
import { ensureBiosealHome } from '../home.js';

export interface RateLimitPolicy {
  readonly freeAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitPolicy = { freeAttempts: 5, baseDelayMs: 30_000, maxDelayMs: 3_600_000 };

interface Entry {
  failures: number;
  lastFailure: number;
}

type State = Record<string, Entry>;

const STALE_LOCK_MS = 10_000;

export class AttemptLimiter {
  private readonly file: string;
  private readonly lockFile: string;

  constructor(
    home: string,
    private readonly policy: RateLimitPolicy = DEFAULT_RATE_LIMIT,
    private readonly now: () => number = Date.now,
  ) {
    this.file = path.join(ensureBiosealHome(home), 'attempts.json');
    this.lockFile = `${this.file}.lock`;
  }

  /** Milliseconds the caller must still wait before an attempt on `key` (0 when allowed). */
  waitMs(key: string): number {
    return this.waitFor(this.read()[key]);
  }

  private waitFor(e: Entry | undefined): number {
    if (!e || e.failures < this.policy.freeAttempts) return 0;
    const over = e.failures - this.policy.freeAttempts;
    const delay = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** Math.min(over, 30));
    return Math.max(0, e.lastFailure + delay - this.now());
  }

  /** @throws RateLimitError when an attempt on `key` is not allowed yet. */
  assertAllowed(key: string, what: string): void {
    const wait = this.waitMs(key);
    if (wait > 0) {
      throw new RateLimitError(`too many failed ${what} attempts: try again in ${Math.ceil(wait / 1000)} s`, wait);
    }
  }

  /**
   * Checks and counts an attempt in one locked step, so concurrent attempts
   * cannot all slip through before any failure is recorded. The attempt counts
   * as a failure until `recordSuccess` clears it.
   * @throws RateLimitError when an attempt on `key` is not allowed yet.
   */
  beginAttempt(key: string, what: string): void {
    let wait = 0;
    this.update((s) => {
      wait = this.waitFor(s[key]);
      if (wait > 0) return false;
      const e = s[key] ?? { failures: 0, lastFailure: 0 };
      s[key] = { failures: e.failures + 1, lastFailure: this.now() };
      return true;
    });
    if (wait > 0) throw new RateLimitError(`too many failed ${what} attempts: try again in ${Math.ceil(wait / 1000)} s`, wait);
  }

  recordFailure(key: string): void {
    this.update((s) => {
      const e = s[key] ?? { failures: 0, lastFailure: 0 };
      s[key] = { failures: e.failures + 1, lastFailure: this.now() };
    });
  }

  recordSuccess(key: string): void {
    this.update((s) => {
      delete s[key];
    });
  }

  /** Consecutive failures recorded for `key`. */
  failures(key: string): number {
    return this.read()[key]?.failures ?? 0;
  }

  private read(): State {
    try {
      const parsed: unknown = JSON.parse(readFileSync(this.file, 'utf8'));
      if (!parsed || typeof parsed !== 'object') return {};
      const out: State = {};
      for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
        const e = v as Partial<Entry>;
        if (Number.isFinite(e?.failures) && Number.isFinite(e?.lastFailure)) out[k] = { failures: e.failures!, lastFailure: e.lastFailure! };
      }
      return out;
    } catch {
      // A missing state file means no failures yet. A damaged one is treated as
      // empty but never lowers the bar below a fresh start.
      return {};
    }
  }

  private update(change: (s: State) => void | boolean): void {
    this.lock();
    try {
      const state = this.read();
      if (change(state) === false) return;
      const temp = `${this.file}.${randomBytes(4).toString('hex')}.tmp`;
      writeFileSync(temp, JSON.stringify(state), { mode: 0o600 });
      renameSync(temp, this.file);
    } finally {
      this.unlock();
    }
  }

  private lock(): void {
    const deadline = Date.now() + 5_000;
    for (;;) {
      try {
        closeSync(openSync(this.lockFile, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY, 0o600));
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        try {
          if (Date.now() - statSync(this.lockFile).mtimeMs > STALE_LOCK_MS) unlinkSync(this.lockFile);
        } catch {
          // raced with another process releasing it
        }
        if (Date.now() > deadline) throw new RateLimitError('the attempt counter is locked by another bioseal process', 1000);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
  }

  private unlock(): void {
    try {
      unlinkSync(this.lockFile);
    } catch {
      // already gone
    }
  }
}
