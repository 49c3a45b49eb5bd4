/**
 * The session's gate: trust (src/trust) and policy (src/policy/cedar)
 * together. It keeps the session's trust state, turns evidence into trust
 * changes with their explanations, and asks the policy about every action
 * with the trust and factor ages of that moment. It never reads a clock:
 * callers pass `now`.
 */
import os from 'node:os';
import type { PolicyAuthorizer, PolicyDecision, PolicyResource } from '../policy/cedar/index.js';
import type { PolicyAction } from '../policy/cedar/vocabulary.js';
import type { TrustEngine, TrustEvidence, TrustExplanation, TrustState } from '../trust/index.js';
import { PolicyError } from '../errors.js';
import type { AuditEvent } from '../audit/index.js';
import type { AuditTrail } from './audit-trail.js';
import { DecisionMemo, sameDecisionUntil, type DecisionInputs } from './decision-memo.js';

export type Transport = 'socket' | 'http';

/** A policy denial, with the step-up that would lift it. HTTP 403. */
export class DeniedError extends PolicyError {
  readonly decision: PolicyDecision;
  constructor(decision: PolicyDecision) {
    super(decision.stepUp ? `${decision.reason}` : decision.reason);
    this.decision = decision;
  }
}

/** One point of the trust history (for the live graph). */
export interface TrustPoint {
  readonly at: number;
  readonly trust: number;
  readonly event: string;
  readonly summary: string;
}

const HISTORY = 500;
/** Trust changes at least this large go to the audit log. */
const TRUST_AUDIT_STEP = 0.1;

const round = (x: number) => Math.round(x * 1e4) / 1e4;

/**
 * An allowed inference decision that holds, unchanged, for the same trust
 * state (and the resource object and transport it is kept under) from `from`
 * until `until` (ms, exclusive): within that window Cedar would decide
 * alike (sameDecisionUntil), though the whole numbers it sees may move.
 */
interface StandingInference {
  readonly state: TrustState;
  readonly from: number;
  readonly until: number;
  readonly decision: PolicyDecision;
  readonly tallyKey: string;
  readonly event: () => AuditEvent;
}

export class Gate {
  #state: TrustState | undefined;
  readonly #history: TrustPoint[] = [];
  #last: TrustExplanation | undefined;
  readonly #principal = { id: os.userInfo().username, uid: process.getuid?.() };
  readonly #memo = new DecisionMemo();
  /** Per resource object and transport: clients of several models and transports do not displace each other. */
  #standing = new WeakMap<PolicyResource, Partial<Record<Transport, StandingInference>>>();

  constructor(
    readonly engine: TrustEngine,
    readonly policy: PolicyAuthorizer,
    readonly audit: AuditTrail,
  ) {}

  get principal(): string {
    return this.#principal.id;
  }

  /** Trust at `now` (0 with no session). */
  trustAt(now: number): number {
    return this.#state ? this.engine.trustAt(this.#state, Math.max(now, this.#state.at)) : 0;
  }

  /** When decay alone takes trust below the lock threshold (undefined with no session). */
  lockDeadline(): number | undefined {
    return this.#state ? this.engine.lockDeadline(this.#state) : undefined;
  }

  belowLockThreshold(now: number): boolean {
    return this.#state !== undefined && this.engine.isBelowLockThreshold(this.#state, Math.max(now, this.#state.at));
  }

  /** The trust state after `evidence`, without committing it (a new session when there is none). */
  preview(evidence: readonly TrustEvidence[], now: number): { state: TrustState; explanation: TrustExplanation } {
    return this.#state ? this.engine.update(this.#state, evidence, Math.max(now, this.#state.at)) : this.engine.start(now, evidence);
  }

  commit(update: { state: TrustState; explanation: TrustExplanation }, event: string): void {
    this.#state = update.state;
    this.#last = update.explanation;
    this.#history.push({ at: update.state.at, trust: update.state.trust, event, summary: update.explanation.summary });
    if (this.#history.length > HISTORY) this.#history.shift();
    const e = update.explanation;
    const threshold = this.engine.config.lockThreshold;
    // Trust changes worth keeping: large ones, and any that cross the lock threshold.
    if (Math.abs(e.change) >= TRUST_AUDIT_STEP || (e.before >= threshold) !== (e.after >= threshold)) {
      this.audit.record({
        type: 'trust',
        actor: this.#principal.id,
        decision: e.change >= 0 ? 'raised' : 'lowered',
        reasons: [e.summary],
        details: { event, before: round(e.before), after: round(e.after), signals: e.signals.map((s) => ({ factor: s.factor, contribution: round(s.contribution), reason: s.reason })) },
      });
    }
  }

  /** Ends the session's trust (on lock). */
  reset(now: number, why: string): void {
    this.#state = undefined;
    this.#standing = new WeakMap();
    this.#history.push({ at: now, trust: 0, event: 'lock', summary: why });
    if (this.#history.length > HISTORY) this.#history.shift();
  }

  /**
   * Asks the policy; `state` defaults to the committed one.
   * @throws DeniedError when denied
   */
  require(action: PolicyAction, resource: PolicyResource, transport: Transport, now: number, state: TrustState | undefined = this.#state): PolicyDecision {
    // Inference comes with every call: while nothing Cedar sees has changed, its decision stands.
    const s = action === 'model:infer' ? this.#standing.get(resource)?.[transport] : undefined;
    if (s !== undefined && s.state === state && now >= s.from && now < s.until) {
      this.audit.tally(s.tallyKey, now, s.event);
      return s.decision;
    }
    const at = state ? Math.max(now, state.at) : now;
    const inputs = { action, resource, transport, trust: state ? this.engine.trustAt(state, at) : 0, factorAge: state ? this.engine.factorAges(state, at) : {}, now: at };
    const decision = this.#memo.get(inputs) ?? this.decide(inputs);
    const subject = 'name' in resource ? resource.name : resource.id;
    const event = () => ({
      type: 'decision',
      actor: this.#principal.id,
      subject,
      decision: decision.decision,
      reasons: [decision.reason],
      details: { action, transport, policies: [...decision.policies], ...(decision.stepUp && { stepUp: decision.stepUp.description }) },
    });
    // Allowed inference comes with every call: counted, one entry per model, transport and reason. Everything else now.
    if (decision.allowed && action === 'model:infer') {
      const tallyKey = `${subject}\u0000${transport}\u0000${decision.reason}`;
      this.audit.tally(tallyKey, at, event);
      if (state) {
        const until = sameDecisionUntil(at, inputs.trust, state.seen, (level) => this.engine.belowAt(state, level), this.policy.breakpoints);
        const standing = this.#standing.get(resource) ?? {};
        standing[transport] = { state, from: at, until, decision, tallyKey, event };
        this.#standing.set(resource, standing);
      }
    } else this.audit.record(event());
    if (!decision.allowed) throw new DeniedError(decision);
    return decision;
  }

  /** The policy's decision (remembered for the next identical request). */
  private decide(inputs: DecisionInputs): PolicyDecision {
    const { transport } = inputs;
    const decision = this.policy.authorize({ ...inputs, principal: this.#principal, client: { transport, uid: transport === 'socket' ? this.#principal.uid : undefined } });
    this.#memo.set(inputs, decision);
    return decision;
  }

  lastExplanation(): TrustExplanation | undefined {
    return this.#last;
  }

  history(): readonly TrustPoint[] {
    return this.#history;
  }
}
