/**
 * The per-session trust score. A {@link TrustState} is an immutable value
 * (trust, the time it was computed, when each factor last spoke for the
 * owner); {@link TrustEngine} computes new states from old ones, the time and
 * fresh evidence, and explains every change. Nothing here reads a clock:
 * the caller passes `now` (milliseconds), so the same inputs always give the
 * same answer.
 *
 * An update: decay from the last update to `now`, then the evidence, fused in
 * log-odds: L = logit(decayed) + sum(weight_i x LLR_i), trust = sigmoid(L)
 * capped at the ceiling. The explanation splits the change into the decay
 * and one Shapley share per signal; the shares sum to the change.
 */
import { UsageError } from '../errors.js';
import { DEFAULT_FACE_CALIBRATION, DEFAULT_KEYSTROKE_CALIBRATION, type ScoreCalibration } from './calibration.js';
import { checkNumber, checkTime } from './check.js';
import { resolveTrustConfig, type TrustConfig, type TrustConfigInput } from './config.js';
import { decayedTrust, secondsUntilBelow } from './decay.js';
import { evidenceSignals, fmt, type TrustCalibrations, type TrustEvidence, type TrustSignal } from './evidence.js';
import { logit, sigmoid } from './log-odds.js';
import { MAX_SHAPLEY_PLAYERS, shapleyValues } from './shapley.js';

/** A session's trust at one moment. */
export interface TrustState {
  /** In [0, ceiling]. */
  readonly trust: number;
  /** When it was computed (milliseconds). */
  readonly at: number;
  /** For each factor, when it last spoke for the owner (positive, counted evidence), milliseconds. */
  readonly seen: Readonly<Record<string, number>>;
}

/** A signal and its share of the change. */
export interface SignalContribution extends TrustSignal {
  /** Its Shapley share of the change in trust (probability units). */
  readonly contribution: number;
}

/** Why trust moved from `before` to `after`. */
export interface TrustExplanation {
  readonly at: number;
  /** Trust at the previous update (time `since`). */
  readonly before: number;
  readonly since: number;
  readonly after: number;
  /** after - before = decay.change + the sum of the signals' contributions. */
  readonly change: number;
  readonly decay: { readonly seconds: number; readonly halfLifeSeconds: number; readonly from: number; readonly to: number; readonly change: number };
  readonly signals: readonly SignalContribution[];
  /** True when the ceiling capped the result. */
  readonly capped: boolean;
  /** One line for people, e.g. "trust 0.62 -> 0.91: decay over 30 s -0.031; face match score 0.9 ... +0.321". */
  readonly summary: string;
}

export interface TrustUpdate {
  readonly state: TrustState;
  readonly explanation: TrustExplanation;
}

export interface TrustEngineOptions {
  readonly config?: TrustConfigInput;
  /** Calibrations the face and keystroke modules provide; defaults in calibration.ts. */
  readonly calibrations?: Partial<TrustCalibrations>;
}

/**
 * Computes trust states. Pure: no clock, no I/O.
 * @throws {UsageError} from the constructor on a bad configuration
 * @example
 *   const engine = new TrustEngine({ config: { halfLifeSeconds: 300 } });
 *   let { state } = engine.start(Date.now(), [{ modality: 'unlock', observedAt: Date.now(), factors: ['face', 'keyfile'] }]);
 *   ({ state } = engine.update(state, [{ modality: 'keystroke', observedAt: t, score: 0.93, keys: 40 }], t));
 *   engine.trustAt(state, later); engine.isBelowLockThreshold(state, later);
 */
export class TrustEngine {
  readonly config: TrustConfig;
  readonly calibrations: TrustCalibrations;

  constructor(options: TrustEngineOptions = {}) {
    this.config = resolveTrustConfig(options.config);
    this.calibrations = {
      face: checkCalibration('face', options.calibrations?.face ?? DEFAULT_FACE_CALIBRATION),
      keystroke: checkCalibration('keystroke', options.calibrations?.keystroke ?? DEFAULT_KEYSTROKE_CALIBRATION),
    };
  }

  /**
   * A new session's state at `now`: the prior, then `evidence` (usually the unlock).
   * @throws {UsageError} on a bad time or bad evidence
   */
  start(now: number, evidence: readonly TrustEvidence[] = []): TrustUpdate {
    checkTime('now', now);
    return this.update({ trust: this.config.prior, at: now, seen: {} }, evidence, now);
  }

  /**
   * The state at `now`: `state` decayed, then `evidence` fused in.
   * @throws {UsageError} when `now` is before `state.at`, or on bad state or evidence
   */
  update(state: TrustState, evidence: readonly TrustEvidence[], now: number): TrustUpdate {
    this.checkState(state, now);
    if (!Array.isArray(evidence)) throw new UsageError('trust: evidence must be a list');
    const seconds = (now - state.at) / 1000;
    const decayed = decayedTrust(state.trust, seconds, this.config.halfLifeSeconds);
    const signals = evidence.flatMap((e) => evidenceSignals(e, now, this.config, this.calibrations));
    const counted = signals.filter((s) => s.logOdds !== 0);
    if (counted.length > MAX_SHAPLEY_PLAYERS) throw new UsageError(`trust: at most ${MAX_SHAPLEY_PLAYERS} counted signals per update, got ${counted.length}`);
    const base = logit(decayed);
    const ceiling = this.config.ceiling;
    const fused = (mask: number) => {
      let l = base;
      for (let i = 0; i < counted.length; i++) if (mask & (1 << i)) l += counted[i]!.logOdds;
      return Math.min(sigmoid(l), ceiling);
    };
    const all = (1 << counted.length) - 1;
    const after = fused(all);
    const shares = shapleyValues(counted.length, fused);
    const contributions: SignalContribution[] = signals.map((s) => ({ ...s, contribution: s.logOdds === 0 ? 0 : shares[counted.indexOf(s)]! }));
    const seen = { ...state.seen };
    for (const s of counted) if (s.logOdds > 0 && (seen[s.factor] ?? -Infinity) < s.observedAt) seen[s.factor] = s.observedAt;
    const decay = { seconds, halfLifeSeconds: this.config.halfLifeSeconds, from: state.trust, to: decayed, change: decayed - state.trust };
    const uncapped = sigmoid(base + counted.reduce((sum, s) => sum + s.logOdds, 0));
    const explanation: TrustExplanation = {
      at: now,
      before: state.trust,
      since: state.at,
      after,
      change: after - state.trust,
      decay,
      signals: contributions,
      capped: uncapped > after,
      summary: summarise(state.trust, after, decay, contributions),
    };
    return { state: Object.freeze({ trust: after, at: now, seen: Object.freeze(seen) }), explanation: Object.freeze(explanation) };
  }

  /**
   * Trust at `now` with no new evidence (decay only).
   * @throws {UsageError} when `now` is before `state.at`
   */
  trustAt(state: TrustState, now: number): number {
    this.checkState(state, now);
    return decayedTrust(state.trust, (now - state.at) / 1000, this.config.halfLifeSeconds);
  }

  /** Whether trust at `now` is below the lock threshold. */
  isBelowLockThreshold(state: TrustState, now: number): boolean {
    return this.trustAt(state, now) < this.config.lockThreshold;
  }

  /**
   * When (milliseconds) decay alone takes trust below the lock threshold; `state.at`
   * when it already is, Infinity when the threshold is 0. A daemon sets its lock timer to it.
   */
  lockDeadline(state: TrustState): number {
    return this.belowAt(state, this.config.lockThreshold);
  }

  /**
   * When (milliseconds) decay alone takes trust below `level`; `state.at` when
   * it already is, Infinity when `level` is 0.
   */
  belowAt(state: TrustState, level: number): number {
    this.checkState(state, state.at);
    return state.at + 1000 * secondsUntilBelow(state.trust, level, this.config.halfLifeSeconds);
  }

  /**
   * Seconds since each factor last spoke for the owner, rounded up (for the
   * policy context: a factor seen 300.2 s ago is not "within 300 s").
   */
  factorAges(state: TrustState, now: number): Record<string, number> {
    this.checkState(state, now);
    const ages: Record<string, number> = {};
    for (const [factor, at] of Object.entries(state.seen)) ages[factor] = Math.ceil((now - at) / 1000);
    return ages;
  }

  private checkState(state: TrustState, now: number): void {
    if (typeof state !== 'object' || state === null) throw new UsageError('trust: state must be an object');
    checkNumber('state.trust', state.trust, 0, this.config.ceiling);
    checkTime('state.at', state.at);
    checkTime('now', now);
    if (now < state.at) throw new UsageError(`trust: now (${now}) is before the state's time (${state.at}); the clock must not go backwards`);
    if (typeof state.seen !== 'object' || state.seen === null) throw new UsageError('trust: state.seen must be an object');
    for (const [f, at] of Object.entries(state.seen)) {
      checkTime(`state.seen.${f}`, at);
      if (at > state.at) throw new UsageError(`trust: state.seen.${f} is after the state's time`);
    }
  }
}

function checkCalibration(name: string, c: ScoreCalibration): ScoreCalibration {
  if (typeof c?.llr !== 'function' || !Array.isArray(c.range) || typeof c.name !== 'string') throw new UsageError(`trust: ${name} calibration must have name, range and llr()`);
  return c;
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : ''}${fmt(x)}`;
}

function summarise(before: number, after: number, decay: TrustExplanation['decay'], signals: readonly SignalContribution[]): string {
  const parts: string[] = [];
  if (decay.seconds > 0) parts.push(`decay over ${fmt(decay.seconds)} s (half-life ${decay.halfLifeSeconds} s) ${signed(decay.change)}`);
  for (const s of signals) parts.push(s.ignored ? `${s.factor} ignored: ${s.ignored}` : `${s.factor} ${signed(s.contribution)} (${s.reason})`);
  return `trust ${fmt(before)} -> ${fmt(after)}${parts.length ? `: ${parts.join('; ')}` : ''}`;
}
