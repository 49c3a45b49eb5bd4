/**
 * The gate's memo of its last policy decision, for the request that repeats
 * itself many times a second: inference on the same model. Cedar's answer
 * is a function of the request in the whole numbers Cedar sees
 * (src/policy/cedar/request.ts): trust in per-mille (rounded down), factor
 * ages in seconds (rounded up), the time in seconds (rounded down), with the
 * action, the resource and the client. The memo answers only when every one
 * of these equals the remembered request, which the policy checked and
 * decided, so it never answers otherwise than the policy would; anything
 * else goes to the policy (and its own cache).
 */
import type { DecisionBreakpoints, PolicyDecision, PolicyResource } from '../policy/cedar/index.js';
import type { PolicyAction } from '../policy/cedar/vocabulary.js';

/** What the gate asks the policy, before Cedar's rounding. */
export interface DecisionInputs {
  readonly action: PolicyAction;
  readonly resource: PolicyResource;
  readonly transport: 'socket' | 'http';
  /** Trust in [0, 1]. */
  readonly trust: number;
  /** Seconds since each factor last spoke for the owner. */
  readonly factorAge: Readonly<Record<string, number>>;
  /** Milliseconds since the epoch. */
  readonly now: number;
}

interface Remembered {
  readonly action: PolicyAction;
  readonly resource: PolicyResource;
  readonly labels: readonly string[];
  readonly transport: 'socket' | 'http';
  readonly trustPerMille: number;
  readonly ages: ReadonlyMap<string, number>;
  readonly second: number;
  readonly decision: PolicyDecision;
}

/** As request.ts rounds them: a value that would round into a permission never matches one that did not. */
export const perMille = (trust: number) => Math.floor(trust * 1000);
const second = (now: number) => Math.floor(now / 1000);

function sameResource(a: PolicyResource, b: PolicyResource, labels: readonly string[]): boolean {
  if (a.type !== b.type || a.id !== b.id) return false;
  if (a.type === 'Model' && b.type === 'Model') {
    const l = b.labels ?? [];
    return a.name === b.name && a.sensitivity === b.sensitivity && l.length === labels.length && l.every((x, i) => x === labels[i]);
  }
  if (a.type === 'Enrolment' && b.type === 'Enrolment') return a.factor === b.factor;
  return a.type === 'Session';
}

export class DecisionMemo {
  #last: Remembered | undefined;

  /** The remembered decision when `inputs` is the same Cedar request, else undefined. */
  get(inputs: DecisionInputs): PolicyDecision | undefined {
    const m = this.#last;
    if (!m || m.action !== inputs.action || m.transport !== inputs.transport || m.second !== second(inputs.now) || m.trustPerMille !== perMille(inputs.trust)) return undefined;
    if (!sameResource(m.resource, inputs.resource, m.labels)) return undefined;
    let count = 0;
    for (const factor in inputs.factorAge) {
      if (m.ages.get(factor) !== Math.ceil(inputs.factorAge[factor]!)) return undefined;
      count++;
    }
    return count === m.ages.size ? m.decision : undefined;
  }

  /** Remembers the policy's `decision` for `inputs` (which the policy accepted). */
  set(inputs: DecisionInputs, decision: PolicyDecision): void {
    const r = inputs.resource;
    this.#last = {
      action: inputs.action,
      resource: { ...r },
      labels: r.type === 'Model' ? [...(r.labels ?? [])] : [],
      transport: inputs.transport,
      trustPerMille: perMille(inputs.trust),
      ages: new Map(Object.entries(inputs.factorAge).map(([f, age]) => [f, Math.ceil(age)])),
      second: second(inputs.now),
      decision,
    };
  }
}

/** The longest a standing decision is kept, even where the policy reads nothing that moves. */
export const MAX_STANDING_MS = 60_000;

/**
 * Until when (milliseconds, exclusive) the decision on the request made at
 * `at` stays the same while time passes and no evidence arrives, for a
 * policy set with these `breakpoints` (src/policy/cedar/breakpoints.ts):
 * trust, decaying, stays at or above the highest cut at or below its
 * per-mille; each factor's age, in whole seconds rounded up, stays below
 * the next cut above it; and, if the policy reads the time, the same
 * second. Where a value may matter at every change (no cuts known) its next
 * whole number ends the window. `belowAt(level)` is when decay takes trust
 * below `level`; one millisecond is kept as margin against rounding there.
 * Never more than MAX_STANDING_MS.
 */
export function sameDecisionUntil(at: number, trust: number, seen: Readonly<Record<string, number>>, belowAt: (level: number) => number, breakpoints: DecisionBreakpoints): number {
  let until = at + MAX_STANDING_MS;
  if (breakpoints.readsNow) until = Math.min(until, (second(at) + 1) * 1000);
  for (const factor in seen) {
    const since = seen[factor]!;
    const age = Math.ceil((at - since) / 1000);
    const cuts = breakpoints.factorAge === undefined ? undefined : (breakpoints.factorAge.get(factor) ?? []);
    const next = cuts === undefined ? age + 1 : cuts.find((c) => c > age);
    // The age is below `next` while (t - since) <= 1000 (next - 1).
    if (next !== undefined) until = Math.min(until, since + 1000 * (next - 1));
  }
  const now = perMille(trust);
  let floor: number | undefined = now;
  if (breakpoints.trust !== undefined) {
    floor = undefined;
    for (const c of breakpoints.trust) if (c <= now) floor = c;
  }
  if (floor !== undefined && floor > 0) until = Math.min(until, Math.floor(belowAt(floor / 1000)) - 1);
  return until;
}
