/**
 * Face enrolment through the daemon's camera page, with the active liveness
 * challenge (src/biometrics/liveness/challenge.ts):
 *
 *   POST /v1/challenges/face   -> {"challenge": id, "action": "blink" | "turn-left" | "turn-right",
 *                                  "prompt", "frames", "intervalMs", "expiresAt"}
 *   POST /v1/enrolments/face   {"challenge", "frames": [base64 image, ...], "name"?, "overwrite"?}
 *
 * The action is drawn by a CSPRNG when the page asks, so a recording made in
 * advance answers it only by luck. The page films the person doing it and
 * sends the frames in capture order; the daemon analyses each (the face
 * model loads once per daemon), checks that the frames show the action done
 * by one live face (a still image replayed as video fails), then enrols from
 * the frames where the face looks at the camera with its eyes open, with
 * src/enrolment/face.ts (quality, passive liveness, consistency, protected
 * template). Nothing of the frames is kept.
 */
import { ExistsError, UsageError } from '../errors.js';
import { listFaceEnrolments } from '../enrolment/face-record.js';
import { EnrolmentError, MIN_ENROL_IMAGES } from '../enrolment/face.js';
import { DEFAULT_CHALLENGE_THRESHOLDS, drawChallenge, verifyChallenge, type Challenge } from '../biometrics/liveness/challenge.js';
import type { FaceAnalysis } from '../biometrics/face/embedder.js';
import type { ChallengeStore } from './challenges.js';
import { enrolmentNameFrom, type EnrolmentGuard } from './enrolments.js';

/** What an open face challenge remembers: the action asked. */
export interface FaceChallenge {
  readonly action: Challenge;
}

export interface FaceEnrolmentContext {
  readonly home: string;
  readonly challenges: { readonly face: ChallengeStore<FaceChallenge> };
}

/** Frames the page films for a challenge, and how far apart. About 3 s: time to blink or turn once, whenever the person starts. */
export const CHALLENGE_FRAMES = 16;
export const CHALLENGE_INTERVAL_MS = 200;
const MIN_FRAMES = 4;
const MAX_FRAMES = 32;
/** Frames enrolled from, at most (picked evenly among the usable ones). */
const ENROL_FRAMES = 5;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const PROMPTS: Readonly<Record<Challenge, string>> = {
  blink: 'Look at the camera and blink',
  'turn-left': 'Look at the camera, then turn your head to your left',
  'turn-right': 'Look at the camera, then turn your head to your right',
};

/** Opens a liveness challenge for the page. */
export function openFaceChallenge(ctx: FaceEnrolmentContext, epoch: number) {
  const action = drawChallenge();
  const { id, expiresAt } = ctx.challenges.face.issue({ action }, epoch);
  return { challenge: id, action, prompt: PROMPTS[action], frames: CHALLENGE_FRAMES, intervalMs: CHALLENGE_INTERVAL_MS, expiresAt };
}

/** The policy resource of a face enrolment change. */
export function faceEnrolmentResource(name: string) {
  return { type: 'Enrolment', id: `face:${name}`, factor: 'face' } as const;
}

function frameBytes(frames: unknown): Uint8Array[] {
  if (!Array.isArray(frames) || frames.length < MIN_FRAMES || frames.length > MAX_FRAMES) {
    throw new UsageError(`"frames" must be a list of ${MIN_FRAMES} to ${MAX_FRAMES} base64 images in capture order`);
  }
  return frames.map((f, i) => {
    if (typeof f !== 'string' || f.length === 0 || !BASE64.test(f)) throw new UsageError(`frames[${i}] must be a base64 image`);
    return new Uint8Array(Buffer.from(f, 'base64'));
  });
}

/** Frames fit to enrol from: good quality, facing the camera, eyes open. */
function enrolmentFrames(analyses: readonly { index: number; analysis: FaceAnalysis }[], checkQuality: (a: FaceAnalysis) => boolean) {
  const t = DEFAULT_CHALLENGE_THRESHOLDS;
  const usable = analyses.filter(({ analysis: a }) => {
    const eyesOpen = a.eyes === null || (a.eyes.left + a.eyes.right) / 2 > t.eyeOpen;
    return Math.abs(a.pose.yaw) < t.frontalYawDeg && eyesOpen && checkQuality(a);
  });
  if (usable.length < MIN_ENROL_IMAGES) {
    throw new EnrolmentError(`only ${usable.length} frames show the face looking at the camera with the eyes open; ${MIN_ENROL_IMAGES} are needed: start facing the camera`);
  }
  const step = usable.length / Math.min(ENROL_FRAMES, usable.length);
  return Array.from({ length: Math.min(ENROL_FRAMES, usable.length) }, (_, i) => usable[Math.floor(i * step)]!);
}

/**
 * Checks the challenge across the frames and enrols the face; the guard's
 * policy check runs before any frame is analysed.
 * @throws UsageError (malformed body, unknown challenge), EnrolmentError (challenge not performed,
 *   too few usable frames, frames that disagree), ExistsError, face errors (E_IMAGE, E_FACE_MULTIPLE).
 */
export async function enrolFaceFromRequest(
  body: Record<string, unknown>,
  ctx: FaceEnrolmentContext,
  epoch: number,
  guard: EnrolmentGuard,
): Promise<{ enrolled: string; action: Challenge; liveness: string; frames: number; enrolledFrom: number; consistency: number }> {
  const name = enrolmentNameFrom(body.name, 'name');
  if (body.overwrite !== undefined && typeof body.overwrite !== 'boolean') throw new UsageError('"overwrite" must be true or false');
  const frames = frameBytes(body.frames);
  if (body.overwrite !== true && listFaceEnrolments(ctx.home).some((e) => e.name === name)) {
    throw new ExistsError(`a face enrolment named "${name}" exists (ask to replace it, which revokes it)`);
  }
  const { action } = ctx.challenges.face.take(body.challenge, epoch);
  guard.authorize(name);
  const [{ decodeImage }, { sharedEmbedder }, { FaceNotFoundError }, { qualityProblems }, { enrolFace }] = await Promise.all([
    import('../biometrics/face/image.js'),
    import('../biometrics/face/shared-embedder.js'),
    import('../biometrics/face/errors.js'),
    import('../biometrics/face/quality.js'),
    import('../enrolment/face.js'),
  ]);
  const embedder = await sharedEmbedder();
  const analyses: { index: number; analysis: FaceAnalysis }[] = [];
  for (const [index, bytes] of frames.entries()) {
    try {
      analyses.push({ index, analysis: await embedder.analyze(await decodeImage(bytes)) });
    } catch (error) {
      // A frame without a face (motion blur, the person out of view) is skipped; anything else is an error.
      if (!(error instanceof FaceNotFoundError)) throw error;
    }
  }
  if (analyses.length < Math.max(MIN_FRAMES, Math.ceil(frames.length / 2))) {
    throw new EnrolmentError(`a face was found in only ${analyses.length} of ${frames.length} frames: stay in view of the camera`);
  }
  const liveness = verifyChallenge(analyses.map((a) => a.analysis), action);
  if (!liveness.passed) throw new EnrolmentError(`the liveness challenge "${action}" was not performed: ${liveness.reason}`);
  const picked = enrolmentFrames(analyses, (a) => qualityProblems(a.quality).length === 0);
  guard.assertStill();
  const result = await enrolFace({
    home: ctx.home,
    name,
    samples: picked.map(({ index, analysis }) => ({ label: `frame ${index + 1}`, analysis })),
    overwrite: body.overwrite === true,
  });
  return { enrolled: name, action, liveness: liveness.reason, frames: frames.length, enrolledFrom: picked.length, consistency: Math.round(result.consistency * 1000) / 1000 };
}
