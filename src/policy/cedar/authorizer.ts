/**
 * Policy decisions. A {@link PolicyAuthorizer} holds one validated policy
 * set, pre-parsed inside Cedar (`preparsePolicySet`) so a decision does not
 * parse text again, and answers allow or deny with the determining policies,
 * Cedar's diagnostics and, on a denial, the step-up that would allow it.
 *
 * Decisions are memoised: Cedar's answer is a pure function of the request,
 * and the request holds only whole numbers (trust per-mille, ages and time
 * in seconds), so repeated calls within the same second and trust per-mille
 * hit a bounded cache. A failed evaluation denies (fail closed).
 */
import { PolicyError } from '../../errors.js';
import { decisionBreakpoints, type DecisionBreakpoints } from './breakpoints.js';
import { cedar } from './cedar.js';
import { loadPolicyFile, type CedarPolicySet } from './policy-set.js';
import { cedarRequestOf, checkRequest, requestKey, type AuthorizationRequest, type CedarRequest } from './request.js';
import { deriveStepUp, type StepUp } from './step-up.js';

/** The answer to one request. */
export interface PolicyDecision {
  readonly allowed: boolean;
  readonly decision: 'allow' | 'deny';
  /** The policies that determined it: the permits that allowed, or the forbids that denied (none: nothing permitted it). */
  readonly policies: readonly string[];
  /** Cedar's evaluation errors: a policy whose condition failed to evaluate is skipped. */
  readonly errors: readonly { readonly policyId: string; readonly message: string }[];
  /** On a denial that a step-up can lift. */
  readonly stepUp?: StepUp;
  /** In words, for the audit log and the user. */
  readonly reason: string;
}

export interface PolicyAuthorizerOptions {
  /** Decisions kept for reuse; 0 turns the cache off. Default 4096. */
  readonly cacheSize?: number;
}

let nextSetId = 0;

/**
 * Decides requests against one policy set.
 * @example
 *   const policy = await PolicyAuthorizer.load();            // policies/default.cedar, or a user's file
 *   const d = policy.authorize({ principal: { id: 'alice' }, action: 'model:infer',
 *     resource: { type: 'Model', id: 'm1', name: 'm1', sensitivity: 'internal' },
 *     trust: 0.42, factorAge: { face: 12 }, client: { transport: 'socket', uid: 1000 }, now: Date.now() });
 *   d.allowed // false; d.stepUp?.description: "trust 0.5 needed (now 0.42); present face or passkey or keystroke"
 */
export class PolicyAuthorizer {
  readonly policySet: CedarPolicySet;
  /** Where the set's decisions can change as trust decays and factors age (breakpoints.ts). */
  readonly breakpoints: DecisionBreakpoints;
  private readonly cedarSetId: string;
  private readonly cacheSize: number;
  private readonly cache = new Map<string, PolicyDecision>();
  /** Each policy's place in the set: Cedar names determining policies in no fixed order. */
  private readonly order: ReadonlyMap<string, number>;
  /** Decisions Cedar was asked for (cache misses), and the time they took: for benchmarks and diagnostics. */
  readonly evaluations = { count: 0, ms: 0 };

  /**
   * @throws {PolicyError} when Cedar refuses the set
   */
  constructor(policySet: CedarPolicySet, options: PolicyAuthorizerOptions = {}) {
    this.policySet = policySet;
    this.cacheSize = Math.max(0, Math.floor(options.cacheSize ?? 4096));
    this.cedarSetId = `bioseal-${++nextSetId}`;
    const staticPolicies = Object.fromEntries(policySet.policies.map((p) => [p.id, p.text]));
    const answer = cedar.preparsePolicySet(this.cedarSetId, { staticPolicies });
    if (answer.type === 'failure') throw new PolicyError(`${policySet.source}: ${answer.errors.map((e) => e.message).join('; ')}`);
    this.breakpoints = decisionBreakpoints(policySet.policies);
    this.order = new Map(policySet.policies.map((p, i) => [p.id, i]));
  }

  /**
   * Loads a policy file (the shipped default when `file` is undefined).
   * @throws {PolicyError} when it fails to parse or validate; {IOError} when unreadable
   */
  static async load(file?: string, options?: PolicyAuthorizerOptions): Promise<PolicyAuthorizer> {
    return new PolicyAuthorizer(await loadPolicyFile(file), options);
  }

  /**
   * Allow or deny, with the reasons.
   * @throws {UsageError} when the request is malformed
   */
  authorize(request: AuthorizationRequest): PolicyDecision {
    const checked = checkRequest(request);
    if (this.cacheSize === 0) return this.decide(cedarRequestOf(checked));
    const key = requestKey(checked);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const decision = this.decide(cedarRequestOf(checked));
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, decision);
    return decision;
  }

  /** One Cedar evaluation of a prepared request, without the cache: what the benchmark measures. */
  evaluate(call: CedarRequest): { decision: 'allow' | 'deny'; reason: readonly string[]; errors: readonly { policyId: string; message: string }[] } {
    const answer = cedar.statefulIsAuthorized({ ...call, preparsedPolicySetId: this.cedarSetId });
    if (answer.type === 'failure') return { decision: 'deny', reason: [], errors: answer.errors.map((e) => ({ policyId: '', message: e.message })) };
    const d = answer.response.diagnostics;
    // In the set's order, so that one decision always reads the same (audit reasons, tallies).
    const place = (id: string) => this.order.get(id) ?? Number.MAX_SAFE_INTEGER;
    const reason = [...d.reason].sort((a, b) => place(a) - place(b) || (a < b ? -1 : a > b ? 1 : 0));
    const errors = d.errors.map((e) => ({ policyId: e.policyId, message: e.error.message })).sort((a, b) => place(a.policyId) - place(b.policyId));
    return { decision: answer.response.decision, reason, errors };
  }

  private decide(call: CedarRequest): PolicyDecision {
    const started = performance.now();
    try {
      return this.decideNow(call);
    } finally {
      this.evaluations.count++;
      this.evaluations.ms += performance.now() - started;
    }
  }

  private decideNow(call: CedarRequest): PolicyDecision {
    const r = this.evaluate(call);
    const action = call.action.id;
    if (r.decision === 'allow') {
      return Object.freeze({ allowed: true, decision: 'allow', policies: r.reason, errors: r.errors, reason: `${action} allowed by ${r.reason.map((id) => `"${id}"`).join(', ')}` });
    }
    const forbids = this.policySet.policies.filter((p) => r.reason.includes(p.id));
    const { stepUp, reason } = deriveStepUp(this.policySet, call, forbids, (c) => this.evaluate(c).decision === 'allow');
    const why = forbids.length ? `forbidden by ${forbids.map((p) => `"${p.id}"`).join(', ')}` : 'no policy permits it';
    return Object.freeze({ allowed: false, decision: 'deny', policies: r.reason, errors: r.errors, ...(stepUp && { stepUp }), reason: `${action} denied: ${why}; ${reason}` });
  }
}
