/**
 * Passive liveness: the face model's own presentation-attack scores on each
 * frame (Human's antispoof and liveness models). Each must stay above its
 * threshold on every frame; a missing score (an embedder without such models)
 * fails closed unless the caller allows it.
 */
import type { FaceAnalysis } from '../face/embedder.js';

export interface PassiveThresholds {
  readonly antispoof: number;
  readonly liveness: number;
  /** Accept frames from embedders that give no liveness scores. Default false. */
  readonly allowMissing?: boolean;
}

/**
 * Set from the scores of real faces (bona fide presentations) in the ORL and
 * LFW datasets, so that each check alone rejects about 1-2% of them
 * (measured: antispoof 1st percentile 0.55 on ORL and 0.34 on LFW; liveness
 * 0.08 on ORL's scanned photographs and 0.41 on LFW). Passive scores are weak
 * evidence on their own: the active challenge carries presentation-attack
 * detection, see docs/FACE.md.
 */
export const DEFAULT_PASSIVE_THRESHOLDS: PassiveThresholds = { antispoof: 0.3, liveness: 0.1 };

export interface PassiveResult {
  readonly passed: boolean;
  /** Lowest scores seen over the frames (null when the model gives none). */
  readonly antispoof: number | null;
  readonly liveness: number | null;
  readonly reason: string;
}

export function checkPassiveLiveness(frames: readonly FaceAnalysis[], t: PassiveThresholds = DEFAULT_PASSIVE_THRESHOLDS): PassiveResult {
  const min = (pick: (f: FaceAnalysis) => number | null): number | null => {
    const values = frames.map(pick);
    return values.some((v) => v === null) ? null : Math.min(...(values as number[]));
  };
  const antispoof = min((f) => f.antispoof);
  const liveness = min((f) => f.liveness);
  if (frames.length === 0) return { passed: false, antispoof, liveness, reason: 'no frames' };
  if (antispoof === null || liveness === null) {
    return { passed: Boolean(t.allowMissing), antispoof, liveness, reason: 'this face model gives no liveness scores' };
  }
  // Written so that NaN fails: only a score known to be above the bar passes.
  if (!(antispoof >= t.antispoof)) return { passed: false, antispoof, liveness, reason: `anti-spoof score ${antispoof.toFixed(2)} below ${t.antispoof}` };
  if (!(liveness >= t.liveness)) return { passed: false, antispoof, liveness, reason: `liveness score ${liveness.toFixed(2)} below ${t.liveness}` };
  return { passed: true, antispoof, liveness, reason: 'passive liveness scores above thresholds' };
}
