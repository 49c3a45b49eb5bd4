/**
 * `--face IMAGE...`: face images presented on the command line, analysed
 * lazily so that the face model loads only when a face slot is tried.
 */
import type { FaceInput } from '../factors/inputs.js';
import { BiosealError } from '../errors.js';
import type { FaceAnalysis } from '../biometrics/face/embedder.js';

import { sharedEmbedder } from '../biometrics/face/shared-embedder.js';

/** Analyses image files in order (each must hold exactly one face). */
export async function analyseImages(paths: readonly string[]): Promise<{ label: string; analysis: FaceAnalysis }[]> {
  const { readImageFile } = await import('../biometrics/face/image.js');
  const embedder = await sharedEmbedder();
  const out: { label: string; analysis: FaceAnalysis }[] = [];
  for (const p of paths) {
    try {
      out.push({ label: p, analysis: await embedder.analyze(await readImageFile(p)) });
    } catch (error) {
      // Say which image, keep the error's type and code.
      if (error instanceof BiosealError && !error.message.startsWith(p)) error.message = `${p}: ${error.message}`;
      throw error;
    }
  }
  return out;
}

/** A FaceInput over image files, or undefined when none were given. */
export function faceInputFromFiles(paths: readonly string[] | undefined, enrolment?: string): FaceInput | undefined {
  if (!paths || paths.length === 0) return undefined;
  let analysed: Promise<readonly FaceAnalysis[]> | undefined;
  return {
    enrolment,
    capture: () => (analysed ??= analyseImages(paths).then((list) => list.map((x) => x.analysis))),
  };
}
