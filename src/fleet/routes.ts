/**
 * The fleet verification service's HTTP API (version 1). Bodies and answers
 * are JSON; bytes travel as standard base64; errors are
 * `{"error": {"code", "message"}}`. "operator": `Authorization: Bearer
 * TOKEN` (operator-token.ts); "device": signed by the device's registered
 * Ed25519 key (request-signing.ts). Body limits are per route (LIMITS);
 * every device request counts against the device's rate limit, verify and
 * search also against its matching limit (rate-limits.ts).
 *
 *   GET    /v1/health                        -> {ok, backend}
 *   POST   /v1/devices                       operator, and signed by the new device's key:
 *                                            {id, public_key (hex), evaluation_keys} -> 201 {id, search, registered_at}
 *   GET    /v1/devices                       operator -> {devices: [{id, public_key, registered_at, revoked_at}]}
 *   POST   /v1/devices/ID/revoke             operator -> {id, revoked}
 *   POST   /v1/enrolments                    device: {person, template} -> 201 {person, dims, created_at}
 *   DELETE /v1/enrolments/PERSON             device -> {person, removed}
 *   POST   /v1/verify                        device: {person, probe} -> {person, score}
 *   POST   /v1/gallery/HOLDER/groups         device: {labels, group} -> 201 {holder, seq, count}
 *   POST   /v1/gallery/search                device (the key holder): {query} -> {groups: [{seq, labels, scores}]}
 *   POST   /v1/models                        operator: the manifest file (src/updates) -> 201 {name, version, digest}
 *   GET    /v1/models/NAME                   device -> {name, version, digest, published_at, manifest (text)}
 *   POST   /v1/audit-heads                   device: {head (bioseal audit head JSON), consistency?: [hex]} -> {outcome, size}
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseTreeHeadJson } from '../audit/index.js';
import { ExpiredError, FormatError, SignatureError, UsageError } from '../errors.js';
import { MethodNotAllowedError, NotFoundError } from '../daemon/errors.js';
import { MAX_DOCUMENT_BYTES, requireCanonicalLayout } from '../updates/document.js';
import { manifestDocument, parseManifest, verifyManifestSignature } from '../updates/manifest.js';
import { toHex } from '../util/bytes.js';
import type { EncryptedMatching } from './encrypted-matching.js';
import type { FleetRateLimits } from './rate-limits.js';
import { base64, base64Member, jsonObject, members, readBody, sendJson } from './http.js';
import { requireOperator } from './operator-token.js';
import { checkRequestSignature, DEVICE_ID_PATTERN, readCredentials, replayRefused, REQUEST_WINDOW_MS, unknownDevice, type RequestCredentials } from './request-signing.js';
import type { DeviceRecord, FleetStore } from './store/index.js';

/** Request body limits in bytes, per route; a declared length over the limit is refused before reading. */
export const LIMITS = {
  /** Evaluation keys with Galois keys are about 2.6 MB (3.5 MB in base64). */
  register: 8 * 1024 * 1024,
  /** A 1:1 template or probe is about 131 KB (175 KB in base64). */
  vector: 1024 * 1024,
  /** A gallery group of 128 templates or a search query: up to about 8.4 MB (11.2 MB in base64). */
  gallery: 16 * 1024 * 1024,
  manifest: MAX_DOCUMENT_BYTES,
  auditHead: 16 * 1024,
  /** Requests that carry no body. */
  empty: 1024,
} as const;

/** Longest consistency proof accepted: a tree of 2^63 entries needs fewer. */
const MAX_PROOF_HASHES = 64;

export interface FleetContext {
  readonly store: FleetStore;
  readonly he: EncryptedMatching;
  readonly operatorToken: string;
  readonly now: () => number;
  readonly limits: FleetRateLimits;
  /** Tells the request's address limit that the request authenticated (service.ts). */
  readonly authenticated: (req: IncomingMessage) => void;
}

type Handler = (ctx: FleetContext, req: IncomingMessage, res: ServerResponse, params: string[]) => Promise<void>;

/** Claims the request's nonce after its signature verified. @throws AuthError for a replay. */
async function claim(ctx: FleetContext, credentials: RequestCredentials): Promise<void> {
  if (!(await ctx.store.claimNonce(credentials.deviceId, credentials.nonce, ctx.now(), credentials.timestamp + REQUEST_WINDOW_MS))) throw replayRefused();
}

/** Checks the operator token and tells the address limit. @throws AuthError */
function operatorRequest(ctx: FleetContext, req: IncomingMessage): void {
  requireOperator(req, ctx.operatorToken);
  ctx.authenticated(req);
}

/**
 * Authenticates a device's request, reads its body (at most `limit` bytes)
 * and charges it to the device's rate limit (and its matching limit when
 * `matching`), before the nonce is claimed: a refused request may be sent again.
 * @throws AuthError (one message for every cause), TooLargeError, RateLimitError
 */
async function deviceRequest(ctx: FleetContext, req: IncomingMessage, limit: number, matching = false): Promise<{ device: DeviceRecord; body: Buffer }> {
  // Unsigned requests, and those of unknown or revoked devices, are refused before their body is read.
  const credentials = readCredentials(req.headers, ctx.now());
  const device = await ctx.store.getDevice(credentials.deviceId);
  if (!device || device.revokedAt !== null) throw unknownDevice();
  const body = await readBody(req, limit);
  checkRequestSignature(credentials, req.method ?? '', req.url ?? '', body, device.publicKey);
  ctx.authenticated(req);
  ctx.limits.chargeDevice(device.id, matching);
  await claim(ctx, credentials);
  return { device, body };
}

function stringMember(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (typeof value !== 'string') throw new UsageError(`"${key}" must be a string`);
  return value;
}

const health: Handler = async (ctx, _req, res) => {
  sendJson(res, 200, { ok: true, backend: ctx.store.backend });
};

const registerDevice: Handler = async (ctx, req, res) => {
  operatorRequest(ctx, req);
  const credentials = readCredentials(req.headers, ctx.now());
  const raw = await readBody(req, LIMITS.register);
  const body = jsonObject(req, raw);
  members(body, ['id', 'public_key', 'evaluation_keys']);
  const id = stringMember(body, 'id');
  if (!DEVICE_ID_PATTERN.test(id)) throw new UsageError('"id" must be 1-64 of A-Z a-z 0-9 . _ -');
  const keyHex = stringMember(body, 'public_key');
  if (!/^[0-9a-f]{64}$/.test(keyHex)) throw new FormatError('"public_key" must be an Ed25519 public key as 64 lower-case hex digits');
  const publicKey = new Uint8Array(Buffer.from(keyHex, 'hex'));
  // Proof of possession: the new device signs its own registration.
  if (credentials.deviceId !== id) throw unknownDevice();
  checkRequestSignature(credentials, req.method ?? '', req.url ?? '', raw, publicKey);
  await claim(ctx, credentials);
  const evaluationKeys = base64Member(body, 'evaluation_keys');
  const { search } = ctx.he.checkEvaluationKeys(evaluationKeys);
  const device = await ctx.store.registerDevice({ id, publicKey, evaluationKeys, fingerprint: ctx.he.fingerprint });
  sendJson(res, 201, { id, search, registered_at: new Date(device.registeredAt).toISOString() });
};

const listDevices: Handler = async (ctx, req, res) => {
  operatorRequest(ctx, req);
  await readBody(req, LIMITS.empty);
  const devices = await ctx.store.listDevices();
  sendJson(res, 200, {
    devices: devices.map((d) => ({
      id: d.id,
      public_key: toHex(d.publicKey),
      registered_at: new Date(d.registeredAt).toISOString(),
      revoked_at: d.revokedAt === null ? null : new Date(d.revokedAt).toISOString(),
    })),
  });
};

const revokeDevice: Handler = async (ctx, req, res, [id]) => {
  operatorRequest(ctx, req);
  await readBody(req, LIMITS.empty);
  const device = await ctx.store.getDevice(id!);
  if (!device) throw new NotFoundError(`no device "${id}"`);
  const revoked = await ctx.store.revokeDevice(id!);
  ctx.he.forget(id!);
  sendJson(res, 200, { id, revoked });
};

const enrol: Handler = async (ctx, req, res) => {
  const { device, body: raw } = await deviceRequest(ctx, req, LIMITS.vector);
  const body = jsonObject(req, raw);
  members(body, ['person', 'template']);
  const person = stringMember(body, 'person');
  const template = base64Member(body, 'template');
  const { dims } = ctx.he.checkTemplate(template);
  const record = await ctx.store.addEnrolment({ deviceId: device.id, person, template, fingerprint: ctx.he.fingerprint });
  sendJson(res, 201, { person, dims, created_at: new Date(record.createdAt).toISOString() });
};

const removeEnrolment: Handler = async (ctx, req, res, [person]) => {
  const { device } = await deviceRequest(ctx, req, LIMITS.empty);
  if (!(await ctx.store.removeEnrolment(device.id, person!))) throw new NotFoundError(`no enrolment for "${person}" on this device`);
  sendJson(res, 200, { person, removed: true });
};

const verify: Handler = async (ctx, req, res) => {
  const { device, body: raw } = await deviceRequest(ctx, req, LIMITS.vector, true);
  const body = jsonObject(req, raw);
  members(body, ['person', 'probe']);
  const person = stringMember(body, 'person');
  const probe = base64Member(body, 'probe');
  const enrolment = await ctx.store.getEnrolment(device.id, person);
  if (!enrolment) throw new NotFoundError(`no enrolment for "${person}" on this device`);
  const score = await ctx.he.match(device.id, probe, enrolment.template);
  sendJson(res, 200, { person, score: base64(score) });
};

const addGalleryGroup: Handler = async (ctx, req, res, [holderId]) => {
  const { device, body: raw } = await deviceRequest(ctx, req, LIMITS.gallery);
  const body = jsonObject(req, raw);
  members(body, ['labels', 'group']);
  const holder = await ctx.store.getDevice(holderId!);
  if (!holder || holder.revokedAt !== null) throw new NotFoundError(`no key holder "${holderId}"`);
  const labels = body.labels;
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')) throw new UsageError('"labels" must be a list of strings');
  const group = base64Member(body, 'group');
  const { count } = await ctx.he.checkGalleryGroup(holder.id, group);
  if (labels.length !== count) throw new FormatError(`the gallery group packs ${count} templates but ${labels.length} labels were given`);
  const record = await ctx.store.addGalleryGroup({ holderId: holder.id, enrolledBy: device.id, labels, group, fingerprint: ctx.he.fingerprint });
  sendJson(res, 201, { holder: holder.id, seq: record.seq, count });
};

const search: Handler = async (ctx, req, res) => {
  const { device, body: raw } = await deviceRequest(ctx, req, LIMITS.gallery, true);
  const body = jsonObject(req, raw);
  members(body, ['query']);
  const query = base64Member(body, 'query');
  const groups = await ctx.store.listGalleryGroups(device.id);
  const results = await ctx.he.search(device.id, query, groups);
  sendJson(res, 200, { groups: results.map((r) => ({ seq: r.seq, labels: r.labels, scores: base64(r.scores) })) });
};

const publishModel: Handler = async (ctx, req, res) => {
  operatorRequest(ctx, req);
  const raw = await readBody(req, LIMITS.manifest);
  const manifest = parseManifest(jsonObject(req, raw), 'manifest');
  const text = raw.toString('utf8');
  requireCanonicalLayout(text, manifestDocument(manifest), 'manifest');
  if (!verifyManifestSignature(manifest)) throw new SignatureError('the manifest signature does not verify under its publisher key');
  if (manifest.expiresAt.getTime() <= ctx.now()) throw new ExpiredError(`the manifest expired at ${manifest.expiresAt.toISOString()}`);
  await ctx.store.publishModel({ name: manifest.name, version: manifest.version, manifest: new Uint8Array(raw), digest: manifest.file.sha256 });
  sendJson(res, 201, { name: manifest.name, version: manifest.version, digest: manifest.file.sha256 });
};

const latestModel: Handler = async (ctx, req, res, [name]) => {
  await deviceRequest(ctx, req, LIMITS.empty);
  const model = await ctx.store.latestModel(name!);
  if (!model) throw new NotFoundError(`no model "${name}" is published`);
  sendJson(res, 200, {
    name: model.name,
    version: model.version,
    digest: model.digest,
    published_at: new Date(model.publishedAt).toISOString(),
    manifest: Buffer.from(model.manifest).toString('utf8'),
  });
};

const postAuditHead: Handler = async (ctx, req, res) => {
  const { device, body: raw } = await deviceRequest(ctx, req, LIMITS.auditHead);
  const body = jsonObject(req, raw);
  members(body, ['head'], ['consistency']);
  const { head } = parseTreeHeadJson(JSON.stringify(body.head));
  const consistency = body.consistency ?? [];
  if (!Array.isArray(consistency) || consistency.length > MAX_PROOF_HASHES || !consistency.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))) {
    throw new FormatError(`"consistency" must be a list of at most ${MAX_PROOF_HASHES} hashes of 64 lower-case hex digits`);
  }
  const proof = consistency.map((h: string) => new Uint8Array(Buffer.from(h, 'hex')));
  const outcome = await ctx.store.recordAuditHead({ deviceId: device.id, size: head.size, root: head.root, timestamp: head.timestamp, keyId: head.keyId, signature: head.signature }, proof);
  sendJson(res, 200, { outcome, size: head.size });
};

interface Route {
  readonly pattern: RegExp;
  readonly methods: Readonly<Record<string, Handler>>;
}

const SEGMENT = '([^/?]+)';
const ROUTES: readonly Route[] = [
  { pattern: /^\/v1\/health$/, methods: { GET: health } },
  { pattern: /^\/v1\/devices$/, methods: { POST: registerDevice, GET: listDevices } },
  { pattern: new RegExp(`^/v1/devices/${SEGMENT}/revoke$`), methods: { POST: revokeDevice } },
  { pattern: /^\/v1\/enrolments$/, methods: { POST: enrol } },
  { pattern: new RegExp(`^/v1/enrolments/${SEGMENT}$`), methods: { DELETE: removeEnrolment } },
  { pattern: /^\/v1\/verify$/, methods: { POST: verify } },
  { pattern: new RegExp(`^/v1/gallery/${SEGMENT}/groups$`), methods: { POST: addGalleryGroup } },
  { pattern: /^\/v1\/gallery\/search$/, methods: { POST: search } },
  { pattern: /^\/v1\/models$/, methods: { POST: publishModel } },
  { pattern: new RegExp(`^/v1/models/${SEGMENT}$`), methods: { GET: latestModel } },
  { pattern: /^\/v1\/audit-heads$/, methods: { POST: postAuditHead } },
];

/** Dispatches a request to its handler. @throws NotFoundError, MethodNotAllowedError, and what the handler throws */
export async function route(ctx: FleetContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '').split('?')[0]!;
  for (const r of ROUTES) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    const handler = r.methods[req.method ?? ''];
    if (!handler) throw new MethodNotAllowedError(Object.keys(r.methods));
    let params: string[];
    try {
      params = m.slice(1).map((p) => decodeURIComponent(p));
    } catch {
      throw new UsageError('the path is not valid percent-encoding');
    }
    return handler(ctx, req, res, params);
  }
  throw new NotFoundError(`no such route: ${req.method} ${path.slice(0, 100)}`);
}
