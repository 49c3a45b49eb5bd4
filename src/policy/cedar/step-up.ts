/**
 * The step-up that would turn a denial into an allow: from the step-up
 * annotations (annotations.ts) of the permits that cover the action and of
 * the forbids that denied, the trust needed and the factors (and how fresh),
 * then checked by asking Cedar again as if the step-up had happened. Only a
 * step-up that Cedar confirms is offered.
 */
import type { StepUpRequirement } from './annotations.js';
import type { CedarPolicySet, LoadedPolicy } from './policy-set.js';
import type { CedarRequest } from './request.js';
import type { PolicyFactor } from './vocabulary.js';

/** What the user must do to be allowed. */
export interface StepUp {
  /** The annotated policies whose requirements it meets: the permit first, then the forbids it lifts. */
  readonly policies: readonly string[];
  /** Trust needed and trust now, in [0, 1]. */
  readonly trust: { readonly needed: number; readonly current: number };
  /** Each entry: present one of `anyOf` (within `withinSeconds`, when set). Already satisfied ones are left out. */
  readonly factors: readonly { readonly anyOf: readonly PolicyFactor[]; readonly withinSeconds?: number }[];
  /** In words, e.g. "trust 0.8 needed (now 0.62); present face or passkey (seen within 300 s)". */
  readonly description: string;
}

/** Either a confirmed step-up, or why there is none. */
export type StepUpResult = { readonly stepUp: StepUp; readonly reason: string } | { readonly stepUp?: undefined; readonly reason: string };

/**
 * The first step-up (in file order of the permits) that Cedar confirms.
 * `denyingForbids` are the forbid policies Cedar named for the denial;
 * `allows` asks Cedar about a changed request.
 */
export function deriveStepUp(set: CedarPolicySet, request: CedarRequest, denyingForbids: readonly LoadedPolicy[], allows: (r: CedarRequest) => boolean): StepUpResult {
  const action = request.action.id;
  const fixed = denyingForbids.find((f) => !f.stepUp);
  if (fixed) return { reason: `forbidden by "${fixed.id}", which no step-up lifts` };
  const permits = set.policies.filter((p) => p.effect === 'permit' && (p.actions === 'all' || p.actions.includes(action)));
  if (permits.length === 0) return { reason: `no policy permits ${action}` };
  const context = request.context as { trust: number; factorAge: Record<string, number> };
  for (const permit of permits) {
    const annotated = [permit, ...denyingForbids].filter((p) => p.stepUp);
    if (annotated.length === 0) continue;
    const needed = Math.max(0, ...annotated.map((p) => p.stepUp!.minTrust ?? 0));
    const neededPerMille = Math.ceil(needed * 1000 - 1e-9);
    const trustShort = neededPerMille > context.trust;
    const factors = annotated
      .map((p) => p.stepUp!)
      .filter((s): s is StepUpRequirement & { factors: readonly PolicyFactor[] } => !!s.factors)
      .filter((s) => (s.maxAgeSeconds === undefined ? trustShort : !s.factors.some((f) => (context.factorAge[f] ?? Infinity) <= s.maxAgeSeconds!)))
      .map((s) => ({ anyOf: s.factors, ...(s.maxAgeSeconds !== undefined && { withinSeconds: s.maxAgeSeconds }) }))
      .filter((r, i, all) => !all.some((q, j) => j !== i && implies(q, r) && (!implies(r, q) || j < i)));
    if (!trustShort && factors.length === 0) continue;
    if (!allows(assumeStepUp(request, neededPerMille, factors))) continue;
    const stepUp: StepUp = {
      policies: annotated.map((p) => p.id),
      trust: { needed, current: context.trust / 1000 },
      factors,
      description: describe(needed, context.trust / 1000, factors),
    };
    return { stepUp, reason: `step-up: ${stepUp.description}` };
  }
  return { reason: 'no step-up named in the policy annotations would allow it' };
}

/** The request as if the step-up had happened: trust raised, one factor of each entry just presented (reusing one already picked). */
function assumeStepUp(request: CedarRequest, trustPerMille: number, factors: StepUp['factors']): CedarRequest {
  const context = request.context as { trust: number; factorAge: Record<string, number> };
  const factorAge = { ...context.factorAge };
  for (const f of factors) {
    const pick = f.anyOf.find((x) => factorAge[x] === 0) ?? f.anyOf[0]!;
    factorAge[pick] = 0;
  }
  return { ...request, context: { ...request.context, trust: Math.max(context.trust, trustPerMille), factorAge, factors: Object.keys(factorAge).sort() } };
}

/** Whether meeting `q` also meets `r`: q's factors are among r's, and q is at least as fresh. */
function implies(q: StepUp['factors'][number], r: StepUp['factors'][number]): boolean {
  const fresher = r.withinSeconds === undefined || (q.withinSeconds !== undefined && q.withinSeconds <= r.withinSeconds);
  return fresher && q.anyOf.every((f) => r.anyOf.includes(f));
}

function describe(needed: number, current: number, factors: StepUp['factors']): string {
  const parts: string[] = [];
  if (needed > current) parts.push(`trust ${needed} needed (now ${current})`);
  for (const f of factors) parts.push(`present ${f.anyOf.join(' or ')}${f.withinSeconds !== undefined ? ` (seen within ${f.withinSeconds} s)` : ''}`);
  return parts.join('; ');
}
