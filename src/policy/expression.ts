/**
 * Unlock policy expressions: `(face & tpm) | passkey | recovery`.
 *
 * Grammar (whitespace between tokens is ignored):
 *
 *     policy := branch ( "|" branch )*
 *     branch := atom ( "&" atom )*
 *     atom   := NAME | "(" policy ")"
 *     NAME   := [a-z][a-z0-9_-]{0,31}
 *
 * `&` binds tighter than `|`. A policy is brought to disjunctive normal form:
 * a list of branches, each the set of factors that must all be present. Each
 * branch becomes one key slot of the sealed file.
 *
 * The parser works on attacker-supplied strings (the daemon accepts policy
 * text), so every cost is capped: input length, nesting depth, factors per
 * branch and branches after expansion.
 */
import { PolicyError } from '../errors.js';

/** A set of factor names that must all be satisfied; sorted, without duplicates. */
export type PolicyBranch = readonly string[];

/** Limits that bound the work done on an expression. */
export const POLICY_LIMITS = {
  maxLength: 1024,
  maxDepth: 16,
  maxFactorsPerBranch: 8,
  maxBranches: 32,
} as const;

const NAME = /^[a-z][a-z0-9_-]{0,31}$/;

type Token = { kind: 'name'; value: string; at: number } | { kind: '&' | '|' | '(' | ')'; at: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '&' || c === '|' || c === '(' || c === ')') {
      tokens.push({ kind: c, at: i });
      i++;
    } else if (/[A-Za-z0-9_-]/.test(c)) {
      const start = i;
      while (i < text.length && /[A-Za-z0-9_-]/.test(text[i]!)) i++;
      const value = text.slice(start, i);
      if (!NAME.test(value)) {
        throw new PolicyError(`policy: "${value.slice(0, 40)}" at position ${start + 1} is not a factor name (lower case letters, digits, "-" and "_", starting with a letter, at most 32 characters)`);
      }
      tokens.push({ kind: 'name', value, at: start });
    } else {
      throw new PolicyError(`policy: unexpected character ${JSON.stringify(c)} at position ${i + 1}`);
    }
  }
  return tokens;
}

function normalise(branch: Iterable<string>): string[] {
  return [...new Set(branch)].sort();
}

/** The product of two DNFs: every branch of `a` joined with every branch of `b`. */
function conjoin(a: string[][], b: string[][]): string[][] {
  if (a.length * b.length > POLICY_LIMITS.maxBranches) {
    throw new PolicyError(`policy: expands to more than ${POLICY_LIMITS.maxBranches} alternatives (key slots)`);
  }
  const out: string[][] = [];
  for (const x of a) {
    for (const y of b) {
      const joined = normalise([...x, ...y]);
      if (joined.length > POLICY_LIMITS.maxFactorsPerBranch) {
        throw new PolicyError(`policy: a branch needs more than ${POLICY_LIMITS.maxFactorsPerBranch} factors`);
      }
      out.push(joined);
    }
  }
  return out;
}

/** Drops duplicate branches and branches that contain another branch (x | x & y is just x). */
function simplify(branches: string[][]): string[][] {
  const unique = new Map<string, string[]>();
  for (const b of branches) unique.set(b.join('&'), b);
  const list = [...unique.values()];
  return list.filter((b) => !list.some((other) => other !== b && other.length < b.length && other.every((f) => b.includes(f))));
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  parsePolicy(depth: number): string[][] {
    if (depth > POLICY_LIMITS.maxDepth) throw new PolicyError(`policy: nested deeper than ${POLICY_LIMITS.maxDepth} levels`);
    let branches = this.parseBranch(depth);
    while (this.peek()?.kind === '|') {
      this.pos++;
      branches = branches.concat(this.parseBranch(depth));
      if (branches.length > POLICY_LIMITS.maxBranches) {
        throw new PolicyError(`policy: more than ${POLICY_LIMITS.maxBranches} alternatives (key slots)`);
      }
    }
    return branches;
  }

  private parseBranch(depth: number): string[][] {
    let dnf = this.parseAtom(depth);
    while (this.peek()?.kind === '&') {
      this.pos++;
      dnf = conjoin(dnf, this.parseAtom(depth));
    }
    return dnf;
  }

  private parseAtom(depth: number): string[][] {
    const t = this.peek();
    if (t === undefined) throw new PolicyError('policy: ends where a factor name or "(" was expected');
    if (t.kind === 'name') {
      this.pos++;
      return [[t.value]];
    }
    if (t.kind === '(') {
      this.pos++;
      const inner = this.parsePolicy(depth + 1);
      const close = this.peek();
      if (close?.kind !== ')') {
        throw new PolicyError(`policy: missing ")" for the "(" at position ${t.at + 1}`);
      }
      this.pos++;
      return inner;
    }
    throw new PolicyError(`policy: unexpected "${t.kind}" at position ${t.at + 1}; expected a factor name or "("`);
  }

  expectEnd(): void {
    const t = this.peek();
    if (t !== undefined) throw new PolicyError(`policy: unexpected "${t.kind === 'name' ? t.value : t.kind}" at position ${t.at + 1}`);
  }
}

/**
 * Parses a policy expression into its branches (disjunctive normal form).
 *
 * @example
 *   parsePolicy('(face & tpm) | passkey | recovery')
 *   // => [['face', 'tpm'], ['passkey'], ['recovery']]
 * @throws PolicyError (E_POLICY) for malformed, empty or oversized expressions.
 */
export function parsePolicy(text: string): PolicyBranch[] {
  if (typeof text !== 'string') throw new PolicyError('policy: expected a string');
  if (text.length > POLICY_LIMITS.maxLength) {
    throw new PolicyError(`policy: longer than ${POLICY_LIMITS.maxLength} characters`);
  }
  const tokens = tokenize(text);
  if (tokens.length === 0) throw new PolicyError('policy: empty expression');
  const parser = new Parser(tokens);
  const branches = parser.parsePolicy(0);
  parser.expectEnd();
  return simplify(branches);
}

/** The canonical text of a list of branches: `a & b | c`. */
export function formatPolicy(branches: readonly PolicyBranch[]): string {
  return branches.map((b) => b.join(' & ')).join(' | ');
}
