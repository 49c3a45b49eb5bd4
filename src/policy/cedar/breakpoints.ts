/**
 * Where a policy set's decisions can change as time passes. Between two
 * pieces of evidence only three things in a request move: trust (decaying,
 * in per-mille), each factor's age (growing, in whole seconds) and the time
 * (`context.now`, in seconds). A condition that compares one of them with an
 * integer literal (`context.trust >= 500`, `context.factorAge.face <= 300`)
 * changes its outcome only where the value crosses that literal; if every
 * reading of a value in the set is such a comparison, the set's decision
 * (its determining policies included) cannot change while the value stays
 * between two consecutive crossing points. The daemon's gate uses this to
 * keep an inference decision standing until the next crossing instead of
 * asking Cedar again each time a whole number moves
 * (src/daemon/decision-memo.ts).
 *
 * Any other reading of a value (arithmetic on it, a comparison with another
 * attribute, the record `context.factorAge` or `context` itself used whole)
 * makes every change of it count, as does any reading of `context.now`.
 * The analysis reads Cedar's own JSON form of each policy, so it sees what
 * Cedar evaluates.
 */
import { PolicyError } from '../../errors.js';
import { cedar } from './cedar.js';

/**
 * A cut `c` means a value below `c` and a value at or above it may be
 * decided differently; values between two cuts are decided alike.
 */
export interface DecisionBreakpoints {
  /** Cuts of `context.trust` (per-mille), ascending; undefined: every change may matter. */
  readonly trust: readonly number[] | undefined;
  /** Cuts of `context.factorAge.F` (seconds) per factor F, ascending; a factor not listed is never read. Undefined: every change of every age may matter. */
  readonly factorAge: ReadonlyMap<string, readonly number[]> | undefined;
  /** Whether any condition reads `context.now`: every second may matter. */
  readonly readsNow: boolean;
}

/** The assumption to make when nothing is known: every change matters. */
export const EVERY_CHANGE_MATTERS: DecisionBreakpoints = Object.freeze({ trust: undefined, factorAge: undefined, readsNow: true });

type Node = Record<string, unknown>;

const COMPARISONS = new Set(['<', '<=', '>', '>=', '==', '!=']);

const isObject = (x: unknown): x is Node => typeof x === 'object' && x !== null && !Array.isArray(x);
const isContext = (x: unknown) => isObject(x) && x['Var'] === 'context';
/** `{".": {left, attr}}` as [left, attr], else undefined. */
function attrAccess(x: unknown): [unknown, string] | undefined {
  if (!isObject(x) || !isObject(x['.'])) return undefined;
  const { left, attr } = x['.'];
  return typeof attr === 'string' ? [left, attr] : undefined;
}
/** Whether `parent` is `child has x`: a presence test, fixed for a trust state. */
const isPresenceTest = (parent: unknown, child: unknown) => isObject(parent) && isObject(parent['has']) && parent['has']['left'] === child;
const integerLiteral = (x: unknown): number | undefined => (isObject(x) && Number.isSafeInteger(x['Value']) ? (x['Value'] as number) : undefined);

/**
 * The expressions directly inside `expr` (Cedar's JSON expression form: one
 * key, the operator). Shapes not known here give every member that is an
 * object: reading too much only makes the analysis more careful.
 */
function subexpressions(expr: Node): unknown[] {
  const [op] = Object.keys(expr);
  const v = expr[op!];
  if (op === 'Value' || op === 'Var' || op === 'Slot' || op === 'Unknown') return [];
  if (op === 'Record' && isObject(v)) return Object.values(v);
  if (Array.isArray(v)) return v; // Set, extension function calls
  if (!isObject(v)) return [];
  if (op === 'like') return [v['left']]; // the pattern is not an expression
  return Object.values(v).filter(isObject);
}

/**
 * The cuts that `value OP literal` (or `literal OP value`) puts on value.
 * `undefined` when the node is not such a comparison.
 */
function cutsOfComparison(parent: unknown, child: unknown): number[] | undefined {
  if (!isObject(parent)) return undefined;
  const keys = Object.keys(parent);
  if (keys.length !== 1 || !COMPARISONS.has(keys[0]!)) return undefined;
  const op = keys[0]!;
  const operands = parent[op];
  if (!isObject(operands)) return undefined;
  const { left, right } = operands;
  const valueOnLeft = left === child;
  const k = integerLiteral(valueOnLeft ? right : left);
  if (k === undefined || (!valueOnLeft && right !== child)) return undefined;
  // Normalise to `value OP k`: `k < value` is `value > k`, and so on.
  const flipped: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '==': '==', '!=': '!=' };
  const o = valueOnLeft ? op : flipped[op]!;
  // value < k and value >= k change at k; value <= k and value > k at k + 1.
  if (o === '<' || o === '>=') return [k];
  if (o === '<=' || o === '>') return [k + 1];
  return [k, k + 1];
}

/**
 * The breakpoints of a policy set, from Cedar's JSON form of each policy.
 * @throws {PolicyError} when Cedar cannot convert a policy (it parsed before, so this is a broken installation)
 */
export function decisionBreakpoints(policies: readonly { readonly id: string; readonly text: string }[]): DecisionBreakpoints {
  let trust: Set<number> | undefined = new Set();
  let factorAge: Map<string, Set<number>> | undefined = new Map();
  let readsNow = false;

  const everyChange = () => {
    trust = undefined;
    factorAge = undefined;
    readsNow = true;
  };
  const addAgeCuts = (factor: string, cuts: number[] | undefined) => {
    if (!factorAge) return;
    if (cuts === undefined) {
      factorAge = undefined;
      return;
    }
    const set = factorAge.get(factor) ?? new Set<number>();
    for (const c of cuts) set.add(c);
    factorAge.set(factor, set);
  };

  /** Looks at one reading of `context` (node) given its chain of parents (nearest last). */
  const readContext = (node: unknown, parents: readonly unknown[]) => {
    const p1 = parents.at(-1);
    if (isPresenceTest(p1, node)) return; // `context has x`
    const access = attrAccess(p1);
    if (!access || access[0] !== node) return everyChange(); // context used whole
    const [, attr] = access;
    const p2 = parents.at(-2);
    if (attr === 'now') readsNow = true;
    else if (attr === 'trust') {
      const cuts = cutsOfComparison(p2, p1);
      if (cuts === undefined) trust = undefined;
      else for (const c of cuts) trust?.add(c);
    } else if (attr === 'factorAge') {
      if (isPresenceTest(p2, p1)) return; // `context.factorAge has f`
      const inner = attrAccess(p2);
      if (!inner || inner[0] !== p1) {
        factorAge = undefined; // the record used whole
        return;
      }
      addAgeCuts(inner[1], cutsOfComparison(parents.at(-3), p2));
    }
    // Other attributes (factors, client) do not change between pieces of evidence.
  };

  /** Visits an expression with its enclosing expressions (nearest last). */
  const visit = (expr: unknown, parents: unknown[]) => {
    if (!isObject(expr)) return;
    if (isContext(expr)) return readContext(expr, parents);
    parents.push(expr);
    for (const child of subexpressions(expr)) visit(child, parents);
    parents.pop();
  };

  for (const policy of policies) {
    const answer = cedar.policyToJson(policy.text);
    if (answer.type === 'failure') throw new PolicyError(`policy "${policy.id}": ${answer.errors.map((e) => e.message).join('; ')}`);
    for (const condition of answer.json.conditions) visit(condition.body, []);
  }
  const sorted = (s: Set<number>) => Object.freeze([...s].sort((a, b) => a - b));
  const t = trust as Set<number> | undefined;
  const f = factorAge as Map<string, Set<number>> | undefined;
  return Object.freeze({
    trust: t && sorted(t),
    factorAge: f && new Map([...f].map(([factor, cuts]) => [factor, sorted(cuts)] as const)),
    readsNow,
  });
}
