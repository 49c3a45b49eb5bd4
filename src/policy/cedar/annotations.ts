/**
 * Step-up annotations on Cedar policies. The daemon cannot read a Cedar
 * condition and tell the user what would satisfy it, so each policy that a
 * step-up can satisfy says so in annotations (Cedar keeps them, ignores them
 * in decisions):
 *
 *     @minTrust("0.8")          trust it needs, a decimal in [0, 1]
 *     @stepup("face|passkey")   factors that satisfy it, any one of them
 *     @maxAge("300")            ...seen within this many seconds
 *
 * On a permit they say what makes it apply; on a forbid, what makes it stop
 * applying. A forbid without them cannot be lifted by any step-up. Every
 * step-up derived from them is checked by asking Cedar again with the
 * step-up assumed (see step-up.ts), so an annotation that disagrees with its
 * condition never produces advice that would not work.
 */
import { PolicyError } from '../../errors.js';
import { POLICY_FACTORS, type PolicyFactor } from './vocabulary.js';

/** What one annotated policy asks for. */
export interface StepUpRequirement {
  /** Trust needed, in [0, 1]; absent when the policy does not say. */
  readonly minTrust?: number;
  /** Any one of these factors... */
  readonly factors?: readonly PolicyFactor[];
  /** ...seen within this many seconds; absent: the factor is advice to raise trust, at any age. */
  readonly maxAgeSeconds?: number;
}

const DECIMAL = /^(0(\.\d{1,4})?|1(\.0{1,4})?)$/;
const SECONDS = /^[1-9]\d{0,7}$/;

/**
 * The requirement in a policy's annotations, or undefined when it has none.
 * @throws {PolicyError} when an annotation is malformed (naming the policy)
 */
export function readStepUpAnnotations(policyId: string, annotations: Readonly<Record<string, string>>): StepUpRequirement | undefined {
  const fail = (what: string) => new PolicyError(`policy "${policyId}": ${what}`);
  const { minTrust, stepup, maxAge } = annotations;
  if (minTrust === undefined && stepup === undefined && maxAge === undefined) return undefined;
  let trust: number | undefined;
  if (minTrust !== undefined) {
    if (!DECIMAL.test(minTrust)) throw fail(`@minTrust("${minTrust}") must be a decimal from 0 to 1, e.g. "0.8"`);
    trust = Number(minTrust);
  }
  let factors: PolicyFactor[] | undefined;
  if (stepup !== undefined) {
    const names = stepup.split('|').map((s) => s.trim());
    for (const n of names) {
      if (!(POLICY_FACTORS as readonly string[]).includes(n)) throw fail(`@stepup("${stepup}"): "${n}" is not a factor (one of ${POLICY_FACTORS.join(', ')}, separated by "|")`);
    }
    if (new Set(names).size !== names.length) throw fail(`@stepup("${stepup}") names a factor twice`);
    factors = names as PolicyFactor[];
  }
  let age: number | undefined;
  if (maxAge !== undefined) {
    if (!SECONDS.test(maxAge)) throw fail(`@maxAge("${maxAge}") must be a whole number of seconds from 1 to 99999999`);
    if (!factors) throw fail('@maxAge needs @stepup to say which factor must be that fresh');
    age = Number(maxAge);
  }
  return { ...(trust !== undefined && { minTrust: trust }), ...(factors && { factors }), ...(age !== undefined && { maxAgeSeconds: age }) };
}
