/**
 * The daemon's HTTP API (version 1). Every answer is JSON; every error is
 * `{"error": {"code", "message"}}`.
 *
 *   GET    /v1/health                 liveness probe (no token)
 *   POST   /v1/models                 {"name", "path", "unlock"} -> {"token", "trust", "model", ...}
 *   GET    /v1/models                 the loaded models (token)
 *   POST   /v1/models/NAME/infer      {"inputs": {...}} -> {"outputs": {...}} (token)
 *   DELETE /v1/models/NAME            unload (token)
 *   GET    /v1/session                state, trust and the last change
 *   GET    /v1/trust                  the trust history (token)
 *   POST   /v1/evidence               {"type": "face", "image"} | {"type": "keystroke", "events"} (token)
 *   POST   /v1/enrolments/keystroke   {"samples": [[events], ...], "model"?}: enrol typing, stored sealed to a loaded model (token)
 *   DELETE /v1/enrolments/keystroke   ?model=NAME: remove the typing stored for a loaded model (token)
 *   POST   /v1/lock                   lock now (no token: anyone local may lock)
 *
 * For the web pages (src/daemon/pages, docs/PAGES.md):
 *   GET    /ui/                       the pages (overview, unlock and step-up, enrolment, audit log)
 *   GET    /ui/v/VERSION/FILE         their scripts, stylesheet and icon
 *   POST   /v1/evidence               {"type": "passkey", "challenge", "credential"}: a passkey touch (token)
 *   POST   /v1/challenges/face        {"name"?} -> a liveness challenge to film (token; enrolment:change)
 *   POST   /v1/enrolments/face        {"challenge", "frames": [base64...], "name"?, "overwrite"?} (token; enrolment:change)
 *   POST   /v1/challenges/passkey     {"purpose": "register", "name"?, "overwrite"?} | {"purpose": "assert", "enrolment"?}
 *                                     -> WebAuthn options (token; a registration is an enrolment:change)
 *   POST   /v1/enrolments/passkey     {"challenge", "credential"}: register the passkey (token; enrolment:change)
 *   GET    /v1/enrolments             the face and passkey enrolments (token)
 *   GET    /v1/audit                  ?since=T&limit=N: audit entries and the log's verification (token)
 *
 * Every action is decided by the policy (src/policy/cedar) with the trust of
 * that moment; a denial answers 403 E_POLICY with the step-up that would lift it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BiosealError, UsageError } from '../errors.js';
import { toHex } from '../util/bytes.js';
import { credentialsFromRequest } from './unlock-request.js';
import { checkModelClass, checkModelName, modelResource } from './models.js';
import type { Transport } from './gate.js';
import { evidenceFromRequest, enrolKeystrokeFromRequest, keystrokeModelFrom, type EvidenceContext } from './evidence.js';
import { forgetProfile, openSealedTyping, rememberProfile, rememberRefusal, removeSealedTyping } from './keystroke-profiles.js';
import { bearerToken, readJson, sendJson } from './http.js';
import type { JsonTensors } from '../onnx/session.js';
import { LockedError, MethodNotAllowedError, NotFoundError } from './errors.js';
import type { DaemonSession } from './session.js';
import type { PageChallenges } from './challenges.js';
import type { PolicyResource } from '../policy/cedar/index.js';
import { servePage } from './pages/index.js';
import { faceEnrolmentResource, enrolFaceFromRequest, openFaceChallenge } from './face-enrolment.js';
import { enrolPasskeyFromRequest, openPasskeyChallenge, pageOrigin, passkeyEnrolmentResource, passkeyEvidenceFromRequest } from './passkey.js';
import { auditedEnrolment, enrolmentNameFrom, listPageEnrolments, type EnrolmentGuard } from './enrolments.js';
import { auditQuery, auditReport } from './audit-view.js';
import type { JsonValue } from '../audit/index.js';

export interface RouteContext extends EvidenceContext {
  readonly session: DaemonSession;
  readonly transport: Transport;
  /** Request body limit in bytes. */
  readonly bodyLimit: number;
  readonly version: string;
  /** The open challenges of the web pages (face liveness, passkey). */
  readonly challenges: PageChallenges;
}

type Handler = (ctx: RouteContext, req: IncomingMessage, res: ServerResponse, params: string[]) => Promise<void>;

interface Route {
  readonly pattern: RegExp;
  readonly methods: Readonly<Record<string, Handler>>;
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new UsageError('the request body must be a JSON object');
  return body as Record<string, unknown>;
}

const loadModel: Handler = async (ctx, req, res) => {
  const body = objectBody(await readJson(req, ctx.bodyLimit));
  const name = checkModelName(body.name);
  if (typeof body.path !== 'string' || body.path.length === 0 || body.path.length > 4096) throw new UsageError('"path" must be the path of a sealed model');
  const cls = checkModelClass(body.sensitivity, body.labels);
  // Why a face was refused goes to the audit log, not to the caller; also when
  // another slot then opened (the face of another enrolment, or a forgery).
  const refusals: { factor: string; reason: string }[] = [];
  const credentials = { ...credentialsFromRequest(body.unlock, ctx.home), onRefusal: (factor: string, reason: string) => void refusals.push({ factor, reason }) };
  const withRefusals = (reasons: string[], details: Record<string, JsonValue>) => ({
    reasons: [...reasons, ...refusals.map((r) => `${r.factor}: ${r.reason}`)],
    details: { ...details, ...(refusals.length > 0 && { refusals }) },
  });
  const { session } = ctx;
  const epoch = session.epoch;
  const audit = session.gate.audit;
  let model;
  try {
    model = await session.models.load(name, body.path, credentials, cls);
  } catch (error) {
    audit.record({
      type: 'unlock',
      actor: session.gate.principal,
      subject: name,
      decision: 'fail',
      ...withRefusals([(error as Error).message], { path: body.path, code: (error as { code?: string }).code ?? 'E_INTERNAL' }),
    });
    throw error;
  }
  try {
    if (session.epoch !== epoch) throw new LockedError('locked while the model was loading');
    // The unlock is evidence; the policy then decides the unlock and the load with the trust it gives.
    const now = Date.now();
    const known = session.gate.engine.config.unlockLlr;
    const factors = model.factors.filter((f) => known[f] !== undefined);
    const update = session.gate.preview([{ modality: 'unlock', observedAt: now, factors }], now);
    session.gate.require('session:unlock', { type: 'Session', id: 'local' }, ctx.transport, now, update.state);
    const decision = session.gate.require('model:load', modelResource(model), ctx.transport, now, update.state);
    const explanation = `model "${name}" unlocked through key slot ${model.slot} (${model.factors.join(' & ')})`;
    audit.record({
      type: 'unlock',
      actor: session.gate.principal,
      subject: name,
      decision: 'allow',
      ...withRefusals([explanation, decision.reason], { path: body.path, slot: model.slot, factors: [...model.factors] }),
    });
    // Synchronous, so that no lock can come between it and the unlock below.
    const keystroke = openStoredTyping(ctx, name);
    const token = session.unlocked(update, explanation);
    sendJson(res, 201, { token, trust: session.view().trust, state: 'unlocked', model, decision: decision.reason, keystroke });
  } catch (error) {
    await session.models.unload(name).catch(() => undefined);
    throw error;
  }
};

/**
 * Opens the typing stored sealed to a model just loaded, if any. A record
 * that does not open (changed, or not sealed to this model's key) is refused
 * and audited, never used; nothing here fails the load.
 */
function openStoredTyping(ctx: RouteContext, name: string): { enrolled: boolean; refused?: string } {
  const { sealer } = keystrokeModelFrom(name, ctx.session.models);
  try {
    const profile = openSealedTyping(ctx.home, sealer);
    if (!profile) return { enrolled: false };
    rememberProfile(ctx.keystroke, sealer, name, profile);
    return { enrolled: true };
  } catch (error) {
    const reason = `the stored typing enrolment was refused: ${error instanceof BiosealError ? error.message : 'it could not be read'}`;
    rememberRefusal(ctx.keystroke, sealer, reason);
    ctx.session.gate.audit.record({
      type: 'enrolment',
      actor: ctx.session.gate.principal,
      subject: 'keystroke',
      decision: 'refused',
      reasons: [`${reason} (model "${name}")`],
      details: { model: name, sealedTo: toHex(sealer.fileId), code: (error as { code?: string }).code ?? 'E_INTERNAL' },
    });
    return { enrolled: false, refused: reason };
  }
}

const listModels: Handler = async (ctx, req, res) => {
  const epoch = ctx.session.authorize(bearerToken(req));
  const models = ctx.session.models.list();
  ctx.session.assertStill(epoch);
  sendJson(res, 200, { models });
};

const infer: Handler = async (ctx, req, res, [name]) => {
  const epoch = ctx.session.authorize(bearerToken(req), Date.now(), req.socket);
  const body = objectBody(await readJson(req, ctx.bodyLimit));
  if (body.inputs === undefined) throw new UsageError('"inputs" is required: {"NAME": {"type", "dims", "data"}}');
  ctx.session.assertStill(epoch);
  ctx.session.gate.require('model:infer', ctx.session.models.resource(name!), ctx.transport, Date.now());
  let outputs: JsonTensors;
  try {
    outputs = await ctx.session.models.infer(name!, body.inputs);
  } catch (error) {
    // A lock that released the model while it ran is the answer, not the run's failure.
    ctx.session.assertStill(epoch);
    throw error;
  }
  // Computed across a lock? Then it is not sent.
  ctx.session.assertStill(epoch);
  sendJson(res, 200, { outputs });
};

const unloadModel: Handler = async (ctx, req, res, [name]) => {
  const epoch = ctx.session.authorize(bearerToken(req));
  await ctx.session.models.unload(name!);
  ctx.session.assertStill(epoch);
  sendJson(res, 200, { ok: true, unloaded: name });
};

const sessionState: Handler = async (ctx, _req, res) => {
  sendJson(res, 200, ctx.session.view());
};

const trustHistory: Handler = async (ctx, req, res) => {
  const epoch = ctx.session.authorize(bearerToken(req));
  const history = ctx.session.gate.history();
  ctx.session.assertStill(epoch);
  sendJson(res, 200, { trust: ctx.session.view().trust, history });
};

const evidence: Handler = async (ctx, req, res) => {
  const epoch = ctx.session.authorize(bearerToken(req));
  const body = objectBody(await readJson(req, ctx.bodyLimit));
  const { evidence: items, summary } = await (body.type === 'passkey' ? passkeyEvidenceFromRequest(body, ctx, epoch) : evidenceFromRequest(body, ctx));
  ctx.session.assertStill(epoch);
  const now = Date.now();
  const update = ctx.session.gate.preview(items, now);
  ctx.session.trustChanged(update, 'evidence', summary);
  const view = ctx.session.view();
  sendJson(res, 200, { trust: view.trust, state: view.state, explanation: update.explanation });
};

const enrolKeystroke: Handler = async (ctx, req, res) => {
  const epoch = ctx.session.authorize(bearerToken(req));
  const body = objectBody(await readJson(req, ctx.bodyLimit));
  ctx.session.gate.require('enrolment:change', { type: 'Enrolment', id: 'keystroke', factor: 'keystroke' }, ctx.transport, Date.now());
  const result = await enrolKeystrokeFromRequest(body, ctx, ctx.session.models);
  ctx.session.gate.audit.record({
    type: 'enrolment',
    actor: ctx.session.gate.principal,
    subject: 'keystroke',
    decision: 'enrolled',
    reasons: [`typing enrolled from ${result.samples} samples, stored sealed to model "${result.model}"`],
    details: { model: result.model, sealedTo: result.sealedTo },
  });
  ctx.session.assertStill(epoch);
  sendJson(res, 201, result);
};

const removeKeystroke: Handler = async (ctx, req, res) => {
  const epoch = ctx.session.authorize(bearerToken(req));
  ctx.session.gate.require('enrolment:change', { type: 'Enrolment', id: 'keystroke', factor: 'keystroke' }, ctx.transport, Date.now());
  const named = new URL(req.url ?? '/', 'http://localhost').searchParams.get('model') ?? undefined;
  const { model, sealer } = keystrokeModelFrom(named, ctx.session.models);
  if (!removeSealedTyping(ctx.home, sealer)) throw new NotFoundError(`no typing is stored for model "${model}"`);
  forgetProfile(ctx.keystroke, sealer);
  ctx.session.gate.audit.record({
    type: 'enrolment',
    actor: ctx.session.gate.principal,
    subject: 'keystroke',
    decision: 'removed',
    reasons: [`the typing stored for model "${model}" was removed`],
    details: { model, sealedTo: toHex(sealer.fileId) },
  });
  ctx.session.assertStill(epoch);
  sendJson(res, 200, { ok: true, removed: model });
};

const lock: Handler = async (ctx, _req, res) => {
  const { released, wasLocked } = await ctx.session.lock('command', 'locked on request (POST /v1/lock)');
  sendJson(res, 200, { state: 'locked', released, alreadyLocked: wasLocked });
};

const pages: Handler = async (_ctx, req, res, [rest]) => {
  servePage(req, res, rest);
};

/** The policy check and lock check an enrolment change makes along the way. */
function enrolmentGuard(ctx: RouteContext, epoch: number, resource: (name: string) => PolicyResource): EnrolmentGuard {
  return {
    authorize: (name) => void ctx.session.gate.require('enrolment:change', resource(name), ctx.transport, Date.now()),
    assertStill: () => ctx.session.assertStill(epoch),
  };
}

const faceChallenge: Handler = async (ctx, req, res) => {
  const epoch = ctx.session.authorize(bearerToken(req));
  const body = objectBody(await readJson(req, ctx.bodyLimit));
  // Asked now so that the page shows a step-up before filming; asked again when the frames come.
  enrolmentGuard(ctx, epoch, faceEnrolmentResource).authorize(enrolmentNameFrom(body.name, 'name'));
  ctx.session.assertStill(epoch);
  sendJson(res, 201, openFaceChallenge(ctx, epoch));
};

const enrolFace: Handler = async (ctx, req, res) => {
  const epoch = ctx.session.authorize(bearerToken(req));
  const body = objectBody(await readJson(req, ctx.bodyLimit));
  const result = await auditedEnrolment(ctx.session.gate, 'face', () => enrolFaceFromRequest(body, ctx, epoch, enrolmentGuard(ctx, epoch, faceEnrolmentResource)));
  sendJson(res, 201, result);
};

const passkeyChallenge: Handler = async (ctx, req, res) => {
  const epoch = ctx.session.authorize(bearerToken(req));
  const body = objectBody(await readJson(req, ctx.bodyLimit));
  const origin = pageOrigin(req);
  if (body.purpose === 'register') enrolmentGuard(ctx, epoch, passkeyEnrolmentResource).authorize(enrolmentNameFrom(body.name, 'name'));
  const opened = openPasskeyChallenge(body, ctx, origin, epoch);
  ctx.session.assertStill(epoch);
  sendJson(res, 201, opened);
};

const enrolPasskey: Handler = async (ctx, req, res) => {
  const epoch = ctx.session.authorize(bearerToken(req));
  const body = objectBody(await readJson(req, ctx.bodyLimit));
  const result = await auditedEnrolment(ctx.session.gate, 'passkey', () => enrolPasskeyFromRequest(body, ctx, epoch, enrolmentGuard(ctx, epoch, passkeyEnrolmentResource)));
  sendJson(res, 201, result);
};

const enrolments: Handler = async (ctx, req, res) => {
  const epoch = ctx.session.authorize(bearerToken(req));
  const list = listPageEnrolments(ctx.home);
  ctx.session.assertStill(epoch);
  sendJson(res, 200, list);
};

const auditLog: Handler = async (ctx, req, res) => {
  const epoch = ctx.session.authorize(bearerToken(req));
  const query = auditQuery(new URL(req.url ?? '/', 'http://localhost').searchParams);
  const report = await auditReport(ctx.home, ctx.session.gate.audit, query);
  ctx.session.assertStill(epoch);
  sendJson(res, 200, report);
};

const health: Handler = async (ctx, _req, res) => {
  sendJson(res, 200, { ok: true, version: ctx.version });
};

const ROUTES: readonly Route[] = [
  { pattern: /^\/v1\/health$/, methods: { GET: health } },
  { pattern: /^\/v1\/models$/, methods: { POST: loadModel, GET: listModels } },
  { pattern: /^\/v1\/models\/([A-Za-z0-9][A-Za-z0-9._-]{0,63})\/infer$/, methods: { POST: infer } },
  { pattern: /^\/v1\/models\/([A-Za-z0-9][A-Za-z0-9._-]{0,63})$/, methods: { DELETE: unloadModel } },
  { pattern: /^\/v1\/session$/, methods: { GET: sessionState } },
  { pattern: /^\/v1\/trust$/, methods: { GET: trustHistory } },
  { pattern: /^\/v1\/evidence$/, methods: { POST: evidence } },
  { pattern: /^\/v1\/enrolments\/keystroke$/, methods: { POST: enrolKeystroke, DELETE: removeKeystroke } },
  { pattern: /^\/v1\/lock$/, methods: { POST: lock } },
  { pattern: /^\/v1\/challenges\/face$/, methods: { POST: faceChallenge } },
  { pattern: /^\/v1\/enrolments\/face$/, methods: { POST: enrolFace } },
  { pattern: /^\/v1\/challenges\/passkey$/, methods: { POST: passkeyChallenge } },
  { pattern: /^\/v1\/enrolments\/passkey$/, methods: { POST: enrolPasskey } },
  { pattern: /^\/v1\/enrolments$/, methods: { GET: enrolments } },
  { pattern: /^\/v1\/audit$/, methods: { GET: auditLog } },
  { pattern: /^\/(?:ui)?$/, methods: { GET: pages } },
  { pattern: /^\/ui\/(.*)$/, methods: { GET: pages } },
];

/** Finds and runs the handler for a request. @throws NotFoundError, MethodNotAllowedError */
export async function route(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  for (const r of ROUTES) {
    const m = r.pattern.exec(url.pathname);
    if (!m) continue;
    const handler = r.methods[req.method ?? 'GET'];
    if (!handler) throw new MethodNotAllowedError(Object.keys(r.methods));
    return handler(ctx, req, res, m.slice(1));
  }
  throw new NotFoundError(`no such endpoint: ${req.method} ${url.pathname}`);
}
