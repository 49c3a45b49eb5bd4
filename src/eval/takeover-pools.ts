/**
 * The evidence pools of `bioseal eval takeover`, from datasets, scored as
 * the daemon scores what clients send (src/daemon/evidence.ts):
 *
 * - keystroke (MEU-Mobile KSD layout): each subject enrolled on their first
 *   25 typings of the phrase (src/eval/keystroke-eval.ts's protocol); the
 *   genuine pool is their other typings, an impostor's pool all of another
 *   subject's typings, each as P(owner) from the detector's LLR;
 * - face (one folder per person): each person enrolled from their first 5
 *   usable images with the real enrolment (protected template, in a
 *   temporary home); the genuine pool is `verifyFace` on their other
 *   images, an impostor's pool on all of another person's. A frame the
 *   daemon would refuse for quality is left out, as the daemon leaves it.
 *   Every image is analysed once and kept in memory for the run.
 *
 * With both, owner i is keystroke subject i together with face person i
 * (the datasets hold different people: each owner is a pairing of two).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { enrolPhrase } from '../biometrics/keystroke/phrase-detector.js';
import { keystrokeProbability } from '../daemon/evidence.js';
import type { FaceAnalysis, FaceEmbedder } from '../biometrics/face/embedder.js';
import type { KeystrokeDataset } from './keystroke-eval.js';
import { MEU_TIMING_COUNT } from './keystroke-eval.js';
import type { DatasetPerson } from './face-eval.js';
import type { FaceEnrolment } from '../enrolment/face-record.js';
import type { EvidencePool, FaceOutcome, TakeoverOwner } from './takeover.js';

/** Typings each keystroke subject enrols with (the MEU protocol). */
export const KEYSTROKE_ENROL = 25;
/** Images each face enrolment takes. */
export const FACE_ENROL = 5;
/** Keystrokes in one typing of the MEU phrase: its 40 timing features are 3K - 2. */
export const MEU_PHRASE_KEYS = (MEU_TIMING_COUNT + 2) / 3;

/** Per subject: the genuine pool, and every other subject's typings scored against them. */
export async function keystrokePools(data: KeystrokeDataset): Promise<{ id: string; genuine: number[]; against: Map<string, number[]> }[]> {
  const usable = data.subjects.filter((s) => s.samples.length > KEYSTROKE_ENROL);
  if (usable.length < 2) throw new UsageError(`the keystroke data needs at least two subjects with more than ${KEYSTROKE_ENROL} typings`);
  const out = [];
  for (const s of usable) {
    const profile = enrolPhrase(s.samples.slice(0, KEYSTROKE_ENROL));
    const score = (v: readonly number[]) => keystrokeProbability(profile.verify(v).llr);
    const against = new Map<string, number[]>();
    for (const other of usable) if (other !== s) against.set(other.id, await Promise.all(other.samples.map(score)));
    out.push({ id: s.id, genuine: await Promise.all(s.samples.slice(KEYSTROKE_ENROL).map(score)), against });
  }
  return out;
}

/** Per person: the genuine pool, and every other person's usable images verified against them. */
export async function facePools(
  people: readonly DatasetPerson[],
  embedder: FaceEmbedder,
  read: (file: string) => Promise<Parameters<FaceEmbedder['analyze']>[0]>,
  onProgress?: (done: number, total: number, stage: string) => void,
): Promise<{ people: { id: string; genuine: FaceOutcome[]; against: Map<string, FaceOutcome[]> }[]; unusableImages: number; notEnrolled: string[] }> {
  const [{ checkFaceQuality }, { enrolFace, verifyFace }, { wipe }] = await Promise.all([
    import('../biometrics/face/quality.js'),
    import('../enrolment/face.js'),
    import('../util/bytes.js'),
  ]);
  const total = people.reduce((s, p) => s + p.images.length, 0);
  let done = 0;
  let unusableImages = 0;
  const analysed: { id: string; frames: FaceAnalysis[] }[] = [];
  for (const p of people) {
    const frames: FaceAnalysis[] = [];
    for (const file of p.images) {
      try {
        const a = await embedder.analyze(await read(file));
        checkFaceQuality(a.quality);
        frames.push(a);
      } catch {
        // No face, several, or a frame the daemon refuses for quality: not evidence.
        unusableImages++;
      }
      onProgress?.(++done, total, 'analysing');
    }
    analysed.push({ id: p.id, frames });
  }
  const home = mkdtempSync(path.join(os.tmpdir(), 'bioseal-takeover-'));
  const notEnrolled: string[] = [];
  const out = [];
  try {
    const enrolled: { id: string; frames: FaceAnalysis[]; enrolment: FaceEnrolment }[] = [];
    for (const p of analysed) {
      if (p.frames.length <= FACE_ENROL) {
        notEnrolled.push(p.id);
        continue;
      }
      try {
        const samples = p.frames.slice(0, FACE_ENROL).map((analysis, i) => ({ label: `${p.id}/${i + 1}`, analysis }));
        enrolled.push({ ...p, enrolment: (await enrolFace({ home, name: `p${enrolled.length}`, samples })).enrolment });
      } catch {
        notEnrolled.push(p.id);
      }
    }
    const outcome = async (e: FaceEnrolment, frame: FaceAnalysis): Promise<FaceOutcome> => {
      const r = await verifyFace(e, [frame]);
      if (r.secret) wipe(r.secret);
      return { match: r.match, live: r.liveness.passed };
    };
    let n = 0;
    for (const p of enrolled) {
      const genuine = [];
      for (const f of p.frames.slice(FACE_ENROL)) genuine.push(await outcome(p.enrolment, f));
      const against = new Map<string, FaceOutcome[]>();
      for (const other of analysed) {
        if (other.id === p.id) continue;
        const list = [];
        for (const f of other.frames) list.push(await outcome(p.enrolment, f));
        against.set(other.id, list);
      }
      out.push({ id: p.id, genuine, against });
      onProgress?.(++n, enrolled.length, 'verifying');
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  return { people: out, unusableImages, notEnrolled };
}

/**
 * Owners from keystroke and/or face pools: with both, owner i pairs keystroke
 * subject i with face person i, and their impostors are the other owners.
 */
export function pairOwners(
  keystroke: readonly { id: string; genuine: number[]; against: Map<string, number[]> }[] | undefined,
  face: readonly { id: string; genuine: FaceOutcome[]; against: Map<string, FaceOutcome[]> }[] | undefined,
): TakeoverOwner[] {
  const n = Math.min(keystroke?.length ?? Infinity, face?.length ?? Infinity);
  if (!Number.isFinite(n) || n < 2) throw new UsageError('takeover needs at least two owners with usable keystroke and/or face data');
  const id = (i: number) => [keystroke?.[i]?.id && `k${keystroke[i]!.id}`, face?.[i]?.id].filter(Boolean).join('+');
  const owners: TakeoverOwner[] = [];
  for (let i = 0; i < n; i++) {
    const genuine: EvidencePool = { keystroke: keystroke?.[i]!.genuine ?? [], face: face?.[i]!.genuine ?? [] };
    const impostors = [];
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      impostors.push({ id: id(j), pool: { keystroke: keystroke?.[i]!.against.get(keystroke[j]!.id) ?? [], face: face?.[i]!.against.get(face[j]!.id) ?? [] } });
    }
    owners.push({ id: id(i), genuine, impostors });
  }
  return owners;
}
