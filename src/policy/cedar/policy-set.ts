/**
 * Loading a Cedar policy file: parse it, give each policy its `@id` (or
 * Cedar's `policyN`), validate it against bioseal's schema
 * (policies/bioseal.cedarschema) in strict mode, and read the step-up
 * annotations. Any failure is a PolicyError (E_POLICY) carrying Cedar's
 * message with the line and column: the daemon refuses to start with it.
 */
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { IOError, PolicyError } from '../../errors.js';
import { readStepUpAnnotations, type StepUpRequirement } from './annotations.js';
import { cedar, type PolicyJson } from './cedar.js';
import { describeCedarErrors } from './diagnostics.js';
import { DEFAULT_POLICY_FILE, SCHEMA_FILE } from './vocabulary.js';

/** Limits on what a policy file may cost to load. */
export const POLICY_FILE_LIMITS = { maxBytes: 1024 * 1024, maxPolicies: 1000, maxIdLength: 128 } as const;

/** One policy of a set. */
export interface LoadedPolicy {
  readonly id: string;
  readonly effect: 'permit' | 'forbid';
  /** The action ids in its scope, or 'all'. */
  readonly actions: readonly string[] | 'all';
  readonly annotations: Readonly<Record<string, string>>;
  /** From @minTrust / @stepup / @maxAge; absent when it has none. */
  readonly stepUp?: StepUpRequirement;
  /** Its Cedar text. */
  readonly text: string;
}

/** A parsed, validated policy set. */
export interface CedarPolicySet {
  /** Where it came from (a path or a label), for messages. */
  readonly source: string;
  readonly policies: readonly LoadedPolicy[];
  /** Cedar's validation warnings, as text. */
  readonly warnings: readonly string[];
}

let schemaText: string | undefined;

/**
 * The shipped schema's text, checked to parse.
 * @throws {PolicyError} when it does not (a broken installation)
 */
export function policySchema(): string {
  if (schemaText === undefined) {
    let text: string;
    try {
      text = readFileSync(SCHEMA_FILE, 'utf8');
    } catch (error) {
      throw new PolicyError(`cannot read the policy schema ${SCHEMA_FILE}`, { cause: error });
    }
    const parsed = cedar.checkParseSchema(text);
    if (parsed.type === 'failure') throw new PolicyError(`schema ${SCHEMA_FILE}: ${describeCedarErrors(parsed.errors, text)}`, { cause: parsed.errors });
    schemaText = text;
  }
  return schemaText;
}

/**
 * Parses and validates Cedar policy text.
 * @throws {PolicyError} with Cedar's message, line and column, on a syntax
 *   error (templates included: only static policies), a schema violation, a duplicate or over-long `@id`,
 *   a malformed step-up annotation, or a file over the limits
 * @example parsePolicySet('permit(principal, action == Action::"model:infer", resource) when { context.trust >= 500 };', 'inline')
 */
export function parsePolicySet(text: string, source = 'policy'): CedarPolicySet {
  if (typeof text !== 'string') throw new PolicyError(`${source}: policy text must be a string`);
  if (Buffer.byteLength(text, 'utf8') > POLICY_FILE_LIMITS.maxBytes) throw new PolicyError(`${source}: larger than ${POLICY_FILE_LIMITS.maxBytes} bytes`);
  const parsed = cedar.checkParsePolicySet({ staticPolicies: text });
  if (parsed.type === 'failure') throw new PolicyError(`${source}: ${describeCedarErrors(parsed.errors, text)}`, { cause: parsed.errors });
  const parts = cedar.policySetTextToParts(text);
  if (parts.type === 'failure') throw new PolicyError(`${source}: ${describeCedarErrors(parts.errors, text)}`, { cause: parts.errors });
  if (parts.policies.length === 0) throw new PolicyError(`${source}: no policies (everything would be denied); write at least one permit`);
  if (parts.policies.length > POLICY_FILE_LIMITS.maxPolicies) throw new PolicyError(`${source}: more than ${POLICY_FILE_LIMITS.maxPolicies} policies`);

  const policies: LoadedPolicy[] = [];
  const ids = new Set<string>();
  parts.policies.forEach((policyText, index) => {
    const json = cedar.policyToJson(policyText);
    if (json.type === 'failure') throw new PolicyError(`${source}: ${describeCedarErrors(json.errors, policyText)}`, { cause: json.errors });
    const annotations = json.json.annotations ?? {};
    const id = annotations.id ?? `policy${index}`;
    if (id.length === 0 || id.length > POLICY_FILE_LIMITS.maxIdLength) throw new PolicyError(`${source}: @id of policy ${index + 1} must be 1 to ${POLICY_FILE_LIMITS.maxIdLength} characters`);
    if (ids.has(id)) throw new PolicyError(`${source}: two policies have the id "${id}"`);
    ids.add(id);
    const stepUp = readStepUpAnnotations(id, annotations);
    policies.push({ id, effect: json.json.effect, actions: actionScope(json.json), annotations, ...(stepUp && { stepUp }), text: policyText });
  });

  // Validated as one text so that Cedar's locations are offsets into the file; its ids policyN follow the file's order.
  const rename = (cedarId: string) => policies[Number(cedarId.slice('policy'.length))]?.id ?? cedarId;
  const schema = policySchema();
  const validation = cedar.validate({ schema, policies: { staticPolicies: text }, validationSettings: { mode: 'strict' } });
  if (validation.type === 'failure') throw new PolicyError(`${source}: ${describeCedarErrors(validation.errors, text, rename)}`, { cause: validation.errors });
  if (validation.validationErrors.length > 0) {
    const errors = validation.validationErrors.map((v) => v.error);
    throw new PolicyError(`${source}: does not match the bioseal schema: ${describeCedarErrors(errors, text, rename)}`, { cause: validation.validationErrors });
  }
  const warnings = [...validation.validationWarnings.map((w) => w.error), ...validation.otherWarnings].map((w) => describeCedarErrors([w], text, rename));
  return Object.freeze({ source, policies: Object.freeze(policies), warnings: Object.freeze(warnings) });
}

/**
 * Reads and parses a policy file; the shipped default when `file` is undefined.
 * @throws {IOError} when the file cannot be read
 * @throws {PolicyError} as {@link parsePolicySet}
 */
export async function loadPolicyFile(file: string = DEFAULT_POLICY_FILE): Promise<CedarPolicySet> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new IOError(`cannot read the policy file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  return parsePolicySet(text, file);
}

function actionScope(p: PolicyJson): readonly string[] | 'all' {
  const a = p.action;
  if (a.op === 'All') return 'all';
  if (a.op === '==') return 'entity' in a ? [entityId(a.entity)] : 'all';
  return 'entities' in a ? a.entities.map(entityId) : [entityId(a.entity)];
}

function entityId(e: { __entity: { id: string } } | { id: string }): string {
  return '__entity' in e ? e.__entity.id : e.id;
}
