/**
 * An authorisation request as the daemon states it, and its Cedar form.
 * Trust travels as an integer per-mille (Cedar has no floats): floor(trust x
 * 1000), so 0.7999 is 799 and never rounds up into a permission. Factor ages
 * are whole seconds rounded up, for the same reason. `now` is passed as a
 * Cedar `datetime` to the second. Every field is checked here, so what
 * reaches Cedar always fits the schema.
 */
import { UsageError } from '../../errors.js';
import type { Context, EntityJson } from './cedar.js';
import { ACTION_RESOURCE, MODEL_SENSITIVITIES, POLICY_ACTIONS, POLICY_FACTORS, type ModelSensitivity, type PolicyAction, type PolicyFactor } from './vocabulary.js';

/** The resource of a request: a model, the session, or an enrolment. */
export type PolicyResource =
  | { readonly type: 'Model'; readonly id: string; readonly name: string; readonly sensitivity: ModelSensitivity; readonly labels?: readonly string[] }
  | { readonly type: 'Session'; readonly id: string }
  | { readonly type: 'Enrolment'; readonly id: string; readonly factor: string };

/** What the daemon asks: may this principal do this action on this resource now? */
export interface AuthorizationRequest {
  /** The local user; `uid` when known. */
  readonly principal: { readonly id: string; readonly uid?: number };
  readonly action: PolicyAction;
  readonly resource: PolicyResource;
  /** Session trust in [0, 1]. */
  readonly trust: number;
  /** Seconds since each factor last spoke for the owner (TrustEngine.factorAges); absent factors were not seen. */
  readonly factorAge: Readonly<Partial<Record<PolicyFactor, number>>>;
  /** How the client reached the daemon. */
  readonly client: { readonly transport: 'socket' | 'http'; readonly uid?: number };
  /** Decision time, milliseconds since the Unix epoch. */
  readonly now: number;
}

/** The parts of a Cedar authorisation call that depend on the request. */
export interface CedarRequest {
  readonly principal: { type: string; id: string };
  readonly action: { type: string; id: string };
  readonly resource: { type: string; id: string };
  readonly context: Context;
  readonly entities: EntityJson[];
}

const MAX_ID = 256;
const MAX_LABELS = 64;

/** A request after every check: what the key and the Cedar form are made of. */
export interface CheckedRequest {
  readonly r: AuthorizationRequest;
  readonly principalUid: number | undefined;
  readonly clientUid: number | undefined;
  readonly labels: readonly string[];
  readonly trustPerMille: number;
  readonly factorAge: Readonly<Record<string, number>>;
  readonly second: number;
}

/**
 * `r` checked and normalised (trust per-mille, ages and time in whole seconds).
 * @throws {UsageError} when a field is missing, malformed or out of range
 */
export function checkRequest(r: AuthorizationRequest): CheckedRequest {
  if (typeof r !== 'object' || r === null) throw new UsageError('policy request must be an object');
  if (!(POLICY_ACTIONS as readonly string[]).includes(r.action)) throw new UsageError(`policy request: unknown action ${JSON.stringify(r.action)} (one of ${POLICY_ACTIONS.join(', ')})`);
  checkId('principal.id', r.principal?.id);
  const principalUid = optionalUid('principal.uid', r.principal?.uid);
  const res = r.resource;
  const expected = ACTION_RESOURCE[r.action];
  if (res?.type !== expected) throw new UsageError(`policy request: ${r.action} applies to a ${expected}, not ${JSON.stringify(res?.type)}`);
  checkId('resource.id', res.id);
  if (typeof r.trust !== 'number' || !Number.isFinite(r.trust) || r.trust < 0 || r.trust > 1) throw new UsageError(`policy request: trust must be a number in [0, 1], got ${String(r.trust)}`);
  if (typeof r.now !== 'number' || !Number.isFinite(r.now) || r.now < 0 || r.now > 253402300799999) throw new UsageError(`policy request: now must be a time in milliseconds since 1970, got ${String(r.now)}`);
  const transport = r.client?.transport;
  if (transport !== 'socket' && transport !== 'http') throw new UsageError(`policy request: client.transport must be "socket" or "http"`);
  const clientUid = optionalUid('client.uid', r.client.uid);
  const factorAge: Record<string, number> = {};
  if (typeof r.factorAge !== 'object' || r.factorAge === null) throw new UsageError('policy request: factorAge must be an object');
  for (const [factor, age] of Object.entries(r.factorAge)) {
    if (!(POLICY_FACTORS as readonly string[]).includes(factor)) throw new UsageError(`policy request: unknown factor "${factor}" in factorAge`);
    if (typeof age !== 'number' || !Number.isFinite(age) || age < 0 || age > 1e12) throw new UsageError(`policy request: factorAge.${factor} must be seconds, not negative, got ${String(age)}`);
    factorAge[factor] = Math.ceil(age);
  }
  let labels: readonly string[] = [];
  if (res.type === 'Model') {
    if (typeof res.name !== 'string' || res.name.length > MAX_ID) throw new UsageError('policy request: resource.name must be a string of at most 256 characters');
    if (!(MODEL_SENSITIVITIES as readonly string[]).includes(res.sensitivity)) throw new UsageError(`policy request: resource.sensitivity must be one of ${MODEL_SENSITIVITIES.join(', ')}`);
    labels = res.labels ?? [];
    if (!Array.isArray(labels) || labels.length > MAX_LABELS || labels.some((l) => typeof l !== 'string' || l.length > MAX_ID)) throw new UsageError(`policy request: resource.labels must be at most ${MAX_LABELS} strings`);
  } else if (res.type === 'Enrolment') {
    if (typeof res.factor !== 'string' || res.factor.length > MAX_ID) throw new UsageError('policy request: resource.factor must be a string');
  }
  return { r, principalUid, clientUid, labels, trustPerMille: Math.floor(r.trust * 1000), factorAge, second: Math.floor(r.now / 1000) };
}

/** A string that is equal for two checked requests only when their Cedar forms are equal (the cache key). */
export function requestKey(c: CheckedRequest): string {
  const res = c.r.resource;
  const resourceAttrs = res.type === 'Model' ? [res.name, res.sensitivity, c.labels] : res.type === 'Enrolment' ? [res.factor] : [];
  return JSON.stringify([c.r.action, c.r.principal.id, c.principalUid ?? null, res.type, res.id, resourceAttrs, c.trustPerMille, c.factorAge, c.r.client.transport, c.clientUid ?? null, c.second]);
}

/** The Cedar form of a checked request. */
export function cedarRequestOf(c: CheckedRequest): CedarRequest {
  const { r } = c;
  const res = r.resource;
  const entities: EntityJson[] = [{ uid: { type: 'User', id: r.principal.id }, attrs: c.principalUid === undefined ? {} : { uid: c.principalUid }, parents: [] }];
  if (res.type === 'Model') entities.push({ uid: { type: 'Model', id: res.id }, attrs: { name: res.name, sensitivity: res.sensitivity, labels: [...c.labels] }, parents: [] });
  else if (res.type === 'Enrolment') entities.push({ uid: { type: 'Enrolment', id: res.id }, attrs: { factor: res.factor }, parents: [] });
  else entities.push({ uid: { type: 'Session', id: res.id }, attrs: {}, parents: [] });
  const transport = r.client.transport;
  return {
    principal: { type: 'User', id: r.principal.id },
    action: { type: 'Action', id: r.action },
    resource: { type: res.type, id: res.id },
    context: {
      trust: c.trustPerMille,
      factors: Object.keys(c.factorAge).sort(),
      factorAge: { ...c.factorAge },
      client: c.clientUid === undefined ? { transport } : { transport, uid: c.clientUid },
      now: { __extn: { fn: 'datetime', arg: new Date(c.second * 1000).toISOString().replace('.000Z', 'Z') } },
    },
    entities,
  };
}

/**
 * The Cedar form of `r`.
 * @throws {UsageError} when a field is missing, malformed or out of range
 */
export function toCedarRequest(r: AuthorizationRequest): CedarRequest {
  return cedarRequestOf(checkRequest(r));
}

function checkId(name: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID) throw new UsageError(`policy request: ${name} must be a non-empty string of at most ${MAX_ID} characters`);
  return v;
}

function optionalUid(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new UsageError(`policy request: ${name} must be a non-negative integer`);
  return v;
}
