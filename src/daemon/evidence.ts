/**
 * `POST /v1/evidence` and `POST /v1/enrolments/keystroke`: fresh biometric
 * evidence from a client, turned into the trust engine's evidence.
 *
 *   {"type": "face", "image": base64 [, "enrolment": NAME]}
 *       the frame is analysed, checked for quality and passive liveness and
 *       matched against the protected template (never a stored face)
 *   {"type": "keystroke", "events": [{"key", "down", "up"}, ...]}
 *       scored against the typing enrolled for a loaded model
 *
 * A keystroke enrolment is stored sealed to a loaded model (keystroke-profiles.ts):
 * it survives a restart and opens again when that model is loaded.
 */
import { UsageError } from '../errors.js';
import type { TrustEvidence } from '../trust/index.js';
import type { KeyEvent } from '../biometrics/keystroke/index.js';
import { checkEnrolmentName } from '../enrolment/record-store.js';
import { toHex } from '../util/bytes.js';
import { activeProfile, enrolSealedTyping, rememberProfile, type KeystrokeState } from './keystroke-profiles.js';
import { checkModelName, type ModelTable } from './models.js';

/** What the evidence handlers need from the daemon. */
export interface EvidenceContext {
  readonly home: string;
  /** The typing profiles opened for the loaded models. */
  readonly keystroke: KeystrokeState;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MAX_SAMPLES = 64;

function keyEvents(value: unknown, what: string): KeyEvent[] {
  if (!Array.isArray(value)) throw new UsageError(`${what} must be a list of {"key", "down", "up"} events`);
  return value.map((e, i) => {
    if (typeof e !== 'object' || e === null) throw new UsageError(`${what}[${i}] must be an object`);
    const { key, down, up, pressure, size } = e as Record<string, unknown>;
    if (typeof key !== 'string' || key.length === 0 || key.length > 32) throw new UsageError(`${what}[${i}].key must be a short string`);
    if (typeof down !== 'number' || typeof up !== 'number') throw new UsageError(`${what}[${i}] needs numeric "down" and "up" times (ms)`);
    if ((pressure !== undefined && typeof pressure !== 'number') || (size !== undefined && typeof size !== 'number')) throw new UsageError(`${what}[${i}]: pressure and size must be numbers`);
    return { key, down, up, ...(pressure !== undefined && { pressure }), ...(size !== undefined && { size }) };
  });
}

async function faceEvidence(body: Record<string, unknown>, ctx: EvidenceContext): Promise<{ evidence: TrustEvidence[]; summary: string }> {
  if (typeof body.image !== 'string' || !BASE64.test(body.image)) throw new UsageError('"image" must be a base64 image');
  const name = body.enrolment ?? 'default';
  if (typeof name !== 'string') throw new UsageError('"enrolment" must be a name');
  checkEnrolmentName(name);
  const observedAt = Date.now();
  const [{ decodeImage }, { sharedEmbedder }, { checkFaceQuality }, { loadFaceEnrolment }, { verifyFace }, { wipe }] = await Promise.all([
    import('../biometrics/face/image.js'),
    import('../biometrics/face/shared-embedder.js'),
    import('../biometrics/face/quality.js'),
    import('../enrolment/face-record.js'),
    import('../enrolment/face.js'),
    import('../util/bytes.js'),
  ]);
  const enrolment = loadFaceEnrolment(ctx.home, name);
  const analysis = await (await sharedEmbedder()).analyze(await decodeImage(new Uint8Array(Buffer.from(body.image, 'base64'))));
  // A frame too poor to judge is refused, not counted against the person.
  checkFaceQuality(analysis.quality);
  const result = await verifyFace(enrolment, [analysis]);
  if (result.secret) wipe(result.secret);
  return {
    evidence: [{ modality: 'face', observedAt, score: result.match ? 1 : 0, quality: 1, liveness: result.liveness.passed ? 'passed' : 'failed' }],
    summary: `face re-check: ${result.reason}`,
  };
}

async function keystrokeEvidence(body: Record<string, unknown>, ctx: EvidenceContext): Promise<{ evidence: TrustEvidence[]; summary: string }> {
  const { profile } = activeProfile(ctx.keystroke);
  const events = keyEvents(body.events, 'events');
  const verdict = profile.verify(events);
  const p = await keystrokeProbability(verdict.llr);
  return {
    evidence: [{ modality: 'keystroke', observedAt: Date.now(), score: p, keys: events.length }],
    summary: `keystroke sample of ${events.length} keys: ${verdict.features} timings scored, LLR ${verdict.llr.toFixed(2)}`,
  };
}

/** The keystroke evidence score of a detector's LLR: P(owner) at even prior odds, kept off 0 and 1. */
export async function keystrokeProbability(llr: number): Promise<number> {
  const { probabilityFromLlr } = await import('../biometrics/keystroke/index.js');
  return Math.min(1 - 1e-6, Math.max(1e-6, probabilityFromLlr(llr, 1)));
}

/**
 * Evidence from a request body.
 * @throws UsageError for a malformed body; face errors (E_IMAGE, E_FACE_*) for an unusable frame.
 */
export function evidenceFromRequest(body: Record<string, unknown>, ctx: EvidenceContext): Promise<{ evidence: TrustEvidence[]; summary: string }> {
  if (body.type === 'face') return faceEvidence(body, ctx);
  if (body.type === 'keystroke') return keystrokeEvidence(body, ctx);
  throw new UsageError('"type" must be "face" or "keystroke"');
}

/** The loaded model a keystroke enrolment request names (`"model"`), or the only one. @throws UsageError, NotFoundError */
export function keystrokeModelFrom(value: unknown, models: Pick<ModelTable, 'profileSealer'>): ReturnType<ModelTable['profileSealer']> {
  return models.profileSealer(value === undefined || value === null ? undefined : checkModelName(value));
}

/**
 * Enrols free typing from several samples and stores it sealed to a loaded
 * model (`"model": NAME`, default the only one loaded), replacing what was
 * stored for that model.
 * @throws UsageError for a malformed body, or no single model to seal to; NotFoundError; FormatError; IOError.
 */
export async function enrolKeystrokeFromRequest(
  body: Record<string, unknown>,
  ctx: EvidenceContext,
  models: Pick<ModelTable, 'profileSealer'>,
): Promise<{ ok: true; samples: number; modelled: number; model: string; sealedTo: string }> {
  if (!Array.isArray(body.samples) || body.samples.length === 0 || body.samples.length > MAX_SAMPLES) {
    throw new UsageError(`"samples" must be a list of 1 to ${MAX_SAMPLES} typing samples (lists of key events)`);
  }
  const samples = body.samples.map((s, i) => keyEvents(s, `samples[${i}]`));
  const { model, sealer } = keystrokeModelFrom(body.model, models);
  const { profile } = await enrolSealedTyping(ctx.home, sealer, samples);
  rememberProfile(ctx.keystroke, sealer, model, profile);
  return { ok: true, samples: samples.length, modelled: profile.modelled.length, model, sealedTo: toHex(sealer.fileId) };
}
