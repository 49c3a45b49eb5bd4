/**
 * `bioseal eval takeover`: how long an impostor who takes over an unlocked
 * session (typing and face no longer the owner's) keeps it before the
 * daemon locks, and how often the owner is locked out by mistake, by
 * replaying dataset samples through the daemon's trust engine on a
 * simulated clock.
 *
 * Each owner has two pools of evidence, scored against the owner's own
 * enrolment exactly as the daemon scores what clients send
 * (src/daemon/evidence.ts): keystroke samples as P(owner) from the
 * keystroke detector's LLR, with their key count; face re-checks as match
 * and liveness outcomes of `verifyFace`. The genuine pool holds the owner's
 * samples that were not used to enrol; the impostor pool another person's.
 *
 * A replay: the session opens with an unlock, then a typing sample arrives
 * every `keystrokeEverySeconds` and a face re-check every
 * `faceEverySeconds`, drawn at random (seeded) from the genuine pool until
 * the takeover, from the impostor pool after it. The session locks when an
 * update leaves trust below the lock threshold, or when decay alone takes
 * it there (the daemon's lock timer). Time to lock is counted from the
 * takeover, which falls at a random phase of the schedule. A genuine day
 * replays the owner's own pool for 8 hours; each lock is a false lock,
 * after which the owner unlocks again.
 */
import { TrustEngine, type TrustConfigInput, type TrustEvidence, type TrustState } from '../trust/index.js';
import { seededRandom } from './metrics.js';

/** One face re-check outcome, as the daemon turns it into evidence. */
export interface FaceOutcome {
  readonly match: boolean;
  readonly live: boolean;
}

/** Evidence one person produces, as scored against one owner's enrolment. */
export interface EvidencePool {
  /** Keystroke samples: the detector's P(owner), each over `keys` keystrokes. */
  readonly keystroke: readonly number[];
  readonly face: readonly FaceOutcome[];
}

export interface Schedule {
  /** Seconds between typing samples (Infinity or absent pool: none). */
  readonly keystrokeEverySeconds: number;
  /** Seconds between face re-checks. */
  readonly faceEverySeconds: number;
}

export interface ReplayOptions {
  readonly schedule: Schedule;
  /** Keystrokes per typing sample (the phrase length). */
  readonly keys: number;
  /** Factors of the unlock that opens the session. Default face and key file. */
  readonly unlockFactors?: readonly string[];
  readonly trust?: TrustConfigInput;
}

/** Default unlock: a face and a key file, as a sealed model's "face & keyfile" slot gives. */
export const TAKEOVER_UNLOCK_FACTORS: readonly string[] = ['face', 'keyfile'];
/** Genuine use before the takeover, seconds: trust has settled by then. */
export const TAKEOVER_WARMUP_SECONDS = 600;
/** A takeover not locked within this long counts as never locked. */
export const TAKEOVER_MAX_SECONDS = 3600;

interface Event {
  readonly at: number;
  readonly modality: 'keystroke' | 'face';
}

/** Evidence times of the schedule in (from, to], seconds, in order (typing first on a tie). */
function events(schedule: Schedule, pools: readonly EvidencePool[], from: number, to: number): Event[] {
  const out: Event[] = [];
  const add = (every: number, modality: Event['modality']) => {
    if (!Number.isFinite(every) || every <= 0) return;
    for (let t = Math.floor(from / every) * every + every; t <= to; t += every) out.push({ at: t, modality });
  };
  if (pools.every((p) => p.keystroke.length)) add(schedule.keystrokeEverySeconds, 'keystroke');
  if (pools.every((p) => p.face.length)) add(schedule.faceEverySeconds, 'face');
  return out.sort((a, b) => a.at - b.at || (a.modality === b.modality ? 0 : a.modality === 'keystroke' ? -1 : 1));
}

/**
 * Replays evidence on a simulated clock (seconds from 0). `poolAt(t)` picks
 * whose evidence arrives at t. Returns every lock time (after a lock the
 * session is unlocked again at once).
 */
class Replay {
  readonly engine: TrustEngine;
  readonly #rnd: () => number;

  constructor(
    private readonly o: ReplayOptions,
    seed: number,
  ) {
    this.engine = new TrustEngine({ config: o.trust });
    this.#rnd = seededRandom(seed);
  }

  unlock(atSeconds: number): TrustState {
    const now = atSeconds * 1000;
    return this.engine.start(now, [{ modality: 'unlock', observedAt: now, factors: this.o.unlockFactors ?? TAKEOVER_UNLOCK_FACTORS }]).state;
  }

  evidence(e: Event, pool: EvidencePool): TrustEvidence {
    const observedAt = e.at * 1000;
    const pick = <T>(a: readonly T[]) => a[Math.floor(this.#rnd() * a.length)]!;
    if (e.modality === 'keystroke') return { modality: 'keystroke', observedAt, score: pick(pool.keystroke), keys: this.o.keys };
    const f = pick(pool.face);
    return { modality: 'face', observedAt, score: f.match ? 1 : 0, quality: 1, liveness: f.live ? 'passed' : 'failed' };
  }

  /**
   * Runs from `state` over the events; stops at the first lock when `stopAtLock`.
   * @returns the lock times (seconds) and the state at the end
   */
  run(state: TrustState, list: readonly Event[], poolAt: (t: number) => EvidencePool, stopAtLock: boolean): { locks: number[]; state: TrustState } {
    const locks: number[] = [];
    const threshold = this.engine.config.lockThreshold;
    for (const e of list) {
      // The daemon's lock timer: decay alone crossing the threshold before this evidence.
      const deadline = this.engine.lockDeadline(state);
      if (deadline < e.at * 1000) {
        locks.push(deadline / 1000);
        if (stopAtLock) return { locks, state };
        state = this.unlock(e.at);
        continue;
      }
      state = this.engine.update(state, [this.evidence(e, poolAt(e.at))], e.at * 1000).state;
      if (state.trust < threshold) {
        locks.push(e.at);
        if (stopAtLock) return { locks, state };
        state = this.unlock(e.at);
      }
    }
    return { locks, state };
  }
}

export interface TakeoverTrial {
  /** When the impostor took over, seconds from the unlock. */
  readonly takeoverAt: number;
  /** Seconds from the takeover to the lock; null when not locked within TAKEOVER_MAX_SECONDS. */
  readonly secondsToLock: number | null;
  /** Locks of the owner during the genuine warm-up (each followed by a new unlock). */
  readonly warmupFalseLocks: number;
}

/**
 * One takeover: genuine use for TAKEOVER_WARMUP_SECONDS plus a random phase,
 * then the impostor's evidence until the lock.
 */
export function simulateTakeover(owner: EvidencePool, impostor: EvidencePool, o: ReplayOptions, seed: number): TakeoverTrial {
  const replay = new Replay(o, seed);
  const period = Math.max(...[o.schedule.keystrokeEverySeconds, o.schedule.faceEverySeconds].filter(Number.isFinite));
  const takeover = TAKEOVER_WARMUP_SECONDS + seededRandom(seed ^ 0x5bd1e995)() * period;
  const before = replay.run(replay.unlock(0), events(o.schedule, [owner, impostor], 0, takeover), () => owner, false);
  const after = replay.run(before.state, events(o.schedule, [owner, impostor], takeover, takeover + TAKEOVER_MAX_SECONDS), () => impostor, true);
  // Decay alone may lock after the last event of the window: the lock timer would fire.
  const lockAt = after.locks[0] ?? replay.engine.lockDeadline(after.state) / 1000;
  const seconds = lockAt - takeover;
  return { takeoverAt: takeover, secondsToLock: seconds <= TAKEOVER_MAX_SECONDS ? seconds : null, warmupFalseLocks: before.locks.length };
}

/** Locks during `hours` of the owner's own evidence from an unlock (each a false lock). */
export function simulateGenuineDay(owner: EvidencePool, o: ReplayOptions, seed: number, hours = 8): number {
  const replay = new Replay(o, seed);
  const end = hours * 3600;
  const r = replay.run(replay.unlock(0), events(o.schedule, [owner], 0, end), () => owner, false);
  const tail = replay.engine.lockDeadline(r.state) / 1000 <= end ? 1 : 0;
  return r.locks.length + tail;
}

/** One owner's pools and the impostors replayed against them. */
export interface TakeoverOwner {
  readonly id: string;
  readonly genuine: EvidencePool;
  /** Other people's evidence against this owner's enrolment, by their id. */
  readonly impostors: readonly { readonly id: string; readonly pool: EvidencePool }[];
}

export interface Distribution {
  readonly trials: number;
  readonly median: number | null;
  readonly p95: number | null;
  readonly max: number | null;
  /** Trials never locked within TAKEOVER_MAX_SECONDS (counted as infinite in the percentiles). */
  readonly notLocked: number;
}

export interface ScheduleResult {
  readonly schedule: Schedule;
  readonly timeToLockSeconds: Distribution;
  /** Mean false locks per simulated 8-hour day of genuine use, over every owner's days. */
  readonly falseLocksPerDay: number;
  readonly genuineDays: number;
  /** Share of days with at least one false lock. */
  readonly daysWithFalseLock: number;
}

function percentile(sorted: readonly number[], p: number): number | null {
  if (!sorted.length) return null;
  const v = sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
  return Number.isFinite(v) ? Math.round(v * 100) / 100 : null;
}

/** Median, 95th percentile and maximum of times to lock (null entries: never locked). */
export function distribution(times: readonly (number | null)[]): Distribution {
  const sorted = times.map((t) => t ?? Infinity).sort((a, b) => a - b);
  return {
    trials: times.length,
    median: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    max: percentile(sorted, 1),
    notLocked: times.filter((t) => t === null).length,
  };
}

/** Every owner against every impostor, and `days` genuine days per owner, on one schedule. */
export function evaluateSchedule(owners: readonly TakeoverOwner[], o: ReplayOptions, days: number, seed = 1): ScheduleResult {
  const times: (number | null)[] = [];
  const perDay: number[] = [];
  owners.forEach((owner, i) => {
    owner.impostors.forEach((imp, j) => times.push(simulateTakeover(owner.genuine, imp.pool, o, seed + 7919 * i + 104_729 * j).secondsToLock));
    for (let d = 0; d < days; d++) perDay.push(simulateGenuineDay(owner.genuine, o, seed + 7919 * i + 31 * d + 1));
  });
  return {
    schedule: o.schedule,
    timeToLockSeconds: distribution(times),
    falseLocksPerDay: perDay.length ? perDay.reduce((a, b) => a + b, 0) / perDay.length : 0,
    genuineDays: perDay.length,
    daysWithFalseLock: perDay.length ? perDay.filter((n) => n > 0).length / perDay.length : 0,
  };
}
