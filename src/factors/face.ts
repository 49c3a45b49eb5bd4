/**
 * `face`: a live face matched against a protected template (src/enrolment).
 * The secret comes out of the fuzzy commitment; nothing stored reveals it or
 * the face. A face alone is too weak an authenticator (NIST SP 800-63B allows
 * biometrics only with a physical authenticator), so the factor cannot stand
 * alone in a policy branch, and failed attempts are rate limited: 5 in a
 * row, then growing delays from 30 s.
 *
 * Parameters (48 bytes): enrolment id (16) | the enrolment's check value (32).
 * A re-enrolment under the same name makes a new id and check value, so slots
 * made for the old template no longer open: that is how a template is revoked.
 */
import { timingSafeEqual } from 'node:crypto';
import { FormatError, UsageError } from '../errors.js';
import { biosealHomePath } from '../home.js';
import { findFaceEnrolmentById, loadFaceEnrolment, type FaceEnrolment } from '../enrolment/face-record.js';
import { AttemptLimiter } from './rate-limit.js';
import type { Factor } from './factor.js';
import type { UnlockInputs } from './inputs.js';

function encodeParams(e: FaceEnrolment): Uint8Array {
  const out = new Uint8Array(48);
  out.set(Buffer.from(e.id, 'hex'), 0);
  out.set(e.template.commitment.check, 16);
  return out;
}

function decodeParams(params: Uint8Array): { id: string; check: Uint8Array } {
  if (params.length !== 48) throw new FormatError('face parameters must be 48 bytes');
  return { id: Buffer.from(params.subarray(0, 16)).toString('hex'), check: params.subarray(16) };
}

/** Attempts to reproduce the face secret, counting failures against the enrolment. */
async function faceSecret(enrolment: FaceEnrolment, inputs: UnlockInputs): Promise<Uint8Array | undefined> {
  const limiter = new AttemptLimiter(inputs.home ?? biosealHomePath());
  const key = `face:${enrolment.id}`;
  // Counted before the face is checked, so parallel attempts cannot outrun the limit.
  limiter.beginAttempt(key, 'face');
  const frames = await inputs.face!.capture();
  // Loaded on demand: the face stack (image decoding, models) is heavy and most unlocks never need it.
  const { verifyFace } = await import('../enrolment/face.js');
  const result = await verifyFace(enrolment, frames);
  if (!result.match || !result.secret) {
    inputs.onRefusal?.('face', result.reason);
    return undefined;
  }
  limiter.recordSuccess(key);
  return result.secret;
}

export const faceFactor: Factor = {
  name: 'face',
  summary: 'a live face matched against a protected template (bioseal enroll face); pair it with another factor',
  cost: 500,
  standalone: false,
  async createShare(inputs) {
    if (!inputs.face) throw new UsageError('the face factor needs --face IMAGE... (and an enrolment: bioseal enroll face --images DIR)');
    const enrolment = loadFaceEnrolment(inputs.home ?? biosealHomePath(), inputs.face.enrolment ?? 'default');
    const secret = await faceSecret(enrolment, inputs);
    if (!secret) throw new UsageError('the face presented does not match the enrolment, or failed the liveness check; the slot was not made');
    return { params: encodeParams(enrolment), secret };
  },
  async deriveSecret(params, inputs) {
    const { id, check } = decodeParams(params);
    if (!inputs.face) return undefined;
    const enrolment = findFaceEnrolmentById(inputs.home ?? biosealHomePath(), id);
    // Missing, or re-enrolled since this slot was made (revoked): the slot cannot open.
    if (!enrolment || !timingSafeEqual(enrolment.template.commitment.check, check)) return undefined;
    return faceSecret(enrolment, inputs);
  },
  describe(params) {
    return { enrolment: decodeParams(params).id };
  },
};
