/**
 * Active liveness: the user is asked to do something unpredictable (blink,
 * or turn the head left or right) and the frames must show it happen, on the
 * same face throughout. A printed photo or a still image replayed as video
 * cannot respond; a replayed recording responds to at most one challenge out
 * of three, and only if the attacker guessed it.
 *
 * Conventions: yaw is in degrees, positive when the head turns towards the
 * image's right (Human's rotation angles); "turn left" means the person's own
 * left, which is the image's right in an unmirrored camera frame.
 */
import { randomInt } from 'node:crypto';
import { cosineSimilarity } from '../face/similarity.js';
import type { FaceAnalysis } from '../face/embedder.js';

export type Challenge = 'blink' | 'turn-left' | 'turn-right';
export const CHALLENGES: readonly Challenge[] = ['blink', 'turn-left', 'turn-right'];

/** A challenge drawn uniformly at random (by a CSPRNG, so it cannot be predicted). */
export function drawChallenge(): Challenge {
  return CHALLENGES[randomInt(CHALLENGES.length)]!;
}

export interface ChallengeThresholds {
  /** Eye aspect ratio above which an eye counts as open. */
  readonly eyeOpen: number;
  /** Eye aspect ratio below which an eye counts as closed. */
  readonly eyeClosed: number;
  /** |yaw| below which the head counts as facing the camera. */
  readonly frontalYawDeg: number;
  /** Yaw the turn must reach, in the asked direction. */
  readonly turnYawDeg: number;
  /** Cosine similarity every frame must keep with the first (same person throughout). */
  readonly sameFace: number;
  /** Frames that are pixel-for-pixel alike in embedding (replayed stills) above this similarity count as frozen. */
  readonly frozen: number;
}

export const DEFAULT_CHALLENGE_THRESHOLDS: ChallengeThresholds = {
  eyeOpen: 0.22,
  eyeClosed: 0.16,
  frontalYawDeg: 12,
  turnYawDeg: 18,
  sameFace: 0.5,
  frozen: 0.99995,
};

export interface ChallengeResult {
  readonly passed: boolean;
  readonly challenge: Challenge;
  /** Why it failed, or what was seen when it passed. */
  readonly reason: string;
}

function eyeRatio(f: FaceAnalysis): number | undefined {
  return f.eyes ? (f.eyes.left + f.eyes.right) / 2 : undefined;
}

/** The person's own left is the image's right: positive yaw. */
function towards(challenge: Challenge, yaw: number): number {
  return challenge === 'turn-left' ? yaw : -yaw;
}

/**
 * Checks that a frame sequence shows the challenge performed by one live face.
 * Frames must be in capture order.
 */
export function verifyChallenge(
  frames: readonly FaceAnalysis[],
  challenge: Challenge,
  thresholds: ChallengeThresholds = DEFAULT_CHALLENGE_THRESHOLDS,
): ChallengeResult {
  const fail = (reason: string): ChallengeResult => ({ passed: false, challenge, reason });
  if (frames.length < 2) return fail('a challenge needs at least two frames');
  const first = frames[0]!;
  for (const f of frames) {
    if (cosineSimilarity(f.embedding, first.embedding) < thresholds.sameFace) return fail('the face changed during the challenge');
  }
  // A still image replayed as video yields the same embedding frame after frame.
  let moving = false;
  for (let i = 1; i < frames.length; i++) {
    if (cosineSimilarity(frames[i]!.embedding, frames[i - 1]!.embedding) < thresholds.frozen) moving = true;
  }
  if (!moving) return fail('the frames do not change: a still image, not a live face');

  if (challenge === 'blink') {
    const ratios = frames.map(eyeRatio);
    if (ratios.some((r) => r === undefined)) return fail('eye openness is not available from this face model');
    const r = ratios as number[];
    const closedAt = r.findIndex((v, i) => v < thresholds.eyeClosed && r.slice(0, i).some((o) => o > thresholds.eyeOpen));
    if (closedAt < 0) return fail('no blink seen (eyes open, then closed)');
    if (!r.slice(closedAt + 1).some((o) => o > thresholds.eyeOpen)) return fail('the eyes did not open again after closing');
    return { passed: true, challenge, reason: `blink seen at frame ${closedAt}` };
  }
  const yaws = frames.map((f) => towards(challenge, f.pose.yaw));
  const start = yaws.findIndex((y) => Math.abs(y) < thresholds.frontalYawDeg);
  if (start < 0) return fail('the face never looked at the camera');
  const turned = yaws.slice(start + 1).findIndex((y) => y > thresholds.turnYawDeg);
  if (turned < 0) {
    const wrongWay = yaws.some((y) => y < -thresholds.turnYawDeg);
    return fail(wrongWay ? 'the head turned the other way' : `no turn to the ${challenge === 'turn-left' ? 'left' : 'right'} seen`);
  }
  return { passed: true, challenge, reason: `turn seen at frame ${start + 1 + turned}` };
}
