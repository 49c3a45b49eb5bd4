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
 *   POST   /v1/lock                   lock now (no token: anyone local may lock)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UsageError } from '../errors.js';
import { credentialsFromRequest } from './unlock-request.js';
import { checkModelName } from './models.js';
import { bearerToken, readJson, sendJson } from './http.js';
import { LockedError, MethodNotAllowedError, NotFoundError } from './errors.js';
import type { DaemonSession } from './session.js';

export interface RouteContext {
  readonly session: DaemonSession;
  readonly home: string;
  /** Request body limit in bytes. */
  readonly bodyLimit: number;
  readonly version: string;
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
  const credentials = credentialsFromRequest(body.unlock, ctx.home);
  const epoch = ctx.session.epoch;
  const model = await ctx.session.models.load(name, body.path, credentials);
  if (ctx.session.epoch !== epoch) {
    // A lock arrived while this model was being opened: the lock wins.
    await ctx.session.models.unload(name).catch(() => undefined);
    throw new LockedError('locked while the model was loading');
  }
  const token = ctx.session.unlocked(`model "${name}" unlocked through key slot ${model.slot}`);
  sendJson(res, 201, { token, trust: ctx.session.view().trust, state: 'unlocked', model });
};

const listModels: Handler = async (ctx, req, res) => {
  const epoch = ctx.session.authorize(bearerToken(req));
  const models = ctx.session.models.list();
  ctx.session.assertStill(epoch);
  sendJson(res, 200, { models });
};

const infer: Handler = async (ctx, req, res, [name]) => {
  const epoch = ctx.session.authorize(bearerToken(req));
  const body = objectBody(await readJson(req, ctx.bodyLimit));
  if (body.inputs === undefined) throw new UsageError('"inputs" is required: {"NAME": {"type", "dims", "data"}}');
  ctx.session.assertStill(epoch);
  const outputs = await ctx.session.models.infer(name!, body.inputs);
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

const lock: Handler = async (ctx, _req, res) => {
  const { released, wasLocked } = await ctx.session.lock('command', 'locked on request (POST /v1/lock)');
  sendJson(res, 200, { state: 'locked', released, alreadyLocked: wasLocked });
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
  { pattern: /^\/v1\/lock$/, methods: { POST: lock } },
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
