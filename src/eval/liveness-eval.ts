/**
 * `bioseal eval liveness`: presentation-attack detection metrics in the terms
 * of ISO/IEC 30107-3, on a dataset with one folder per person.
 *
 * - BPCER (bona fide presentation classification error rate): share of real
 *   people's challenge sequences that are refused. A sequence is built from
 *   the person's own photographs in the order the challenge needs (frontal,
 *   then turned the asked way; eyes open, closed, open again), as a camera
 *   would capture them.
 * - APCER per attack type (attack presentation classification error rate):
 *   share of attacks that are accepted. Attacks built honestly from the data:
 *   a still image replayed as video, a genuine turn mirrored (the head turns
 *   the other way), a photo shown with no response to the challenge, and
 *   images recaptured (shrunk, blurred, re-encoded) against the passive check.
 */
import type { FaceAnalysis } from '../biometrics/face/embedder.js';
import { verifyChallenge, DEFAULT_CHALLENGE_THRESHOLDS, type Challenge } from '../biometrics/liveness/challenge.js';
import { checkPassiveLiveness } from '../biometrics/liveness/passive.js';

export interface PersonAnalyses {
  readonly person: string;
  readonly frames: readonly FaceAnalysis[];
}

export interface RateCount {
  readonly errors: number;
  readonly trials: number;
  readonly rate: number;
}

function rate(errors: number, trials: number): RateCount {
  return { errors, trials, rate: trials ? errors / trials : 0 };
}

export interface LivenessReport {
  readonly bpcer: RateCount;
  readonly bpcer_by_challenge: Record<Challenge, RateCount>;
  readonly bpcer_passive: RateCount;
  readonly apcer: {
    readonly still_replay: RateCount;
    readonly mirrored_turn: RateCount;
    readonly no_response: RateCount;
    readonly recapture_passive?: RateCount;
  };
  /** People for whom the dataset holds no frames able to perform a challenge (not counted). */
  readonly unperformable: Record<Challenge, number>;
}

const T = DEFAULT_CHALLENGE_THRESHOLDS;
const eye = (f: FaceAnalysis) => (f.eyes ? (f.eyes.left + f.eyes.right) / 2 : NaN);
const towards = (c: Challenge, f: FaceAnalysis) => (c === 'turn-left' ? f.pose.yaw : -f.pose.yaw);

/** A bona fide sequence for the challenge from one person's frames, or undefined if their photos cannot show it. */
export function bonaFideSequence(frames: readonly FaceAnalysis[], c: Challenge): FaceAnalysis[] | undefined {
  const frontal = frames.filter((f) => Math.abs(f.pose.yaw) < T.frontalYawDeg && eye(f) > T.eyeOpen);
  if (frontal.length === 0) return undefined;
  if (c === 'blink') {
    const closed = frames.find((f) => eye(f) < T.eyeClosed);
    if (!closed || frontal.length < 2) return undefined;
    return [frontal[0]!, closed, frontal[1]!];
  }
  const turned = frames.filter((f) => towards(c, f) > T.turnYawDeg).sort((a, b) => towards(c, b) - towards(c, a));
  if (turned.length === 0) return undefined;
  return [frontal[0]!, turned[0]!];
}

/** The same frames seen in a mirror: yaw and the eyes swap sides. */
export function mirrored(f: FaceAnalysis): FaceAnalysis {
  return { ...f, pose: { ...f.pose, yaw: -f.pose.yaw, roll: -f.pose.roll }, eyes: f.eyes ? { left: f.eyes.right, right: f.eyes.left } : null };
}

const CHALLENGE_LIST: readonly Challenge[] = ['blink', 'turn-left', 'turn-right'];

/** Runs the protocol; `recaptured` holds analyses of degraded copies of real images, when available. */
export function evaluateLiveness(people: readonly PersonAnalyses[], recaptured?: readonly FaceAnalysis[]): LivenessReport {
  const byChallenge = {} as Record<Challenge, { e: number; n: number }>;
  const unperformable = {} as Record<Challenge, number>;
  let still = { e: 0, n: 0 };
  let mirror = { e: 0, n: 0 };
  let noResponse = { e: 0, n: 0 };
  let passiveBona = { e: 0, n: 0 };
  for (const c of CHALLENGE_LIST) {
    byChallenge[c] = { e: 0, n: 0 };
    unperformable[c] = 0;
  }
  for (const p of people) {
    for (const f of p.frames) {
      passiveBona.n++;
      if (!checkPassiveLiveness([f]).passed) passiveBona.e++;
      // A still image replayed as five video frames, against each challenge.
      for (const c of CHALLENGE_LIST) {
        still.n++;
        if (verifyChallenge([f, f, f, f, f], c).passed) still.e++;
      }
    }
    for (const c of CHALLENGE_LIST) {
      const seq = bonaFideSequence(p.frames, c);
      if (!seq) {
        unperformable[c]++;
        continue;
      }
      byChallenge[c].n++;
      const live = checkPassiveLiveness(seq).passed && verifyChallenge(seq, c).passed;
      if (!live) byChallenge[c].e++;
      if (c !== 'blink') {
        // The attacker replays a recording of the genuine turn, mirrored.
        mirror.n++;
        if (verifyChallenge(seq.map(mirrored), c).passed) mirror.e++;
      }
      // A photo (two different frontal photos, so the frames do change) that never responds.
      const frontal = p.frames.filter((f) => Math.abs(f.pose.yaw) < T.frontalYawDeg && eye(f) > T.eyeOpen);
      if (frontal.length >= 2) {
        noResponse.n++;
        if (verifyChallenge([frontal[0]!, frontal[1]!, frontal[0]!], c).passed) noResponse.e++;
      }
    }
  }
  const bonaE = CHALLENGE_LIST.reduce((s, c) => s + byChallenge[c].e, 0);
  const bonaN = CHALLENGE_LIST.reduce((s, c) => s + byChallenge[c].n, 0);
  const recapture = recaptured ? rate(recaptured.filter((f) => checkPassiveLiveness([f]).passed).length, recaptured.length) : undefined;
  return {
    bpcer: rate(bonaE, bonaN),
    bpcer_by_challenge: Object.fromEntries(CHALLENGE_LIST.map((c) => [c, rate(byChallenge[c].e, byChallenge[c].n)])) as Record<Challenge, RateCount>,
    bpcer_passive: rate(passiveBona.e, passiveBona.n),
    apcer: {
      still_replay: rate(still.e, still.n),
      mirrored_turn: rate(mirror.e, mirror.n),
      no_response: rate(noResponse.e, noResponse.n),
      ...(recapture ? { recapture_passive: recapture } : {}),
    },
    unperformable,
  };
}
