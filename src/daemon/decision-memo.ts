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
import type { PolicyDecision, PolicyResource } from '../policy/cedar/index.js';
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

/**
 * Until when (milliseconds, exclusive) the request made at `at` stays the
 * same Cedar request while time passes and no evidence arrives: the same
 * second, every factor's age in the same whole second (rounded up), trust,
 * decaying, in the same per-mille. `belowAt(level)` is when decay takes trust
 * below `level`; one millisecond is kept as margin against rounding there.
 */
export function sameRequestUntil(at: number, trust: number, seen: Readonly<Record<string, number>>, belowAt: (level: number) => number): number {
  let until = (second(at) + 1) * 1000;
  for (const factor in seen) until = Math.min(until, seen[factor]! + 1000 * Math.ceil((at - seen[factor]!) / 1000));
  const level = perMille(trust) / 1000;
  if (level > 0) until = Math.min(until, Math.floor(belowAt(level)) - 1);
  return until;
}
