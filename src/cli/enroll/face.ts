/**
 * `bioseal enroll face --images DIR [--name NAME] [--force]`.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { biosealHomePath, ensureBiosealHome } from '../../home.js';
import { describeFsError } from '../../util/atomic-file.js';
import { IOError, UsageError } from '../../errors.js';
import { analyseImages } from '../face-input.js';
import type { EnrolSubcommand } from './subcommand.js';

const IMAGE_EXT = /\.(jpe?g|png|webp|pgm|ppm|pnm|bmp|tiff?|gif|avif)$/i;

/** Image files in a directory, in natural order (2.jpg before 10.jpg). */
export function listImages(dir: string): string[] {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new IOError(`${dir}: not a directory`);
    entries = readdirSync(dir);
  } catch (error) {
    if (error instanceof IOError) throw error;
    throw describeFsError(error, dir);
  }
  return entries
    .filter((f) => IMAGE_EXT.test(f))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((f) => path.join(dir, f));
}

export const enrolFaceCommand: EnrolSubcommand = {
  factor: 'face',
  usage: 'bioseal enroll face --images DIR [--name NAME] [--force]',
  help: `Enrols a face from the images in DIR (3 to 32 images of one person, one face
each). Every image must pass the quality checks (one face, large, bright and
sharp enough, facing the camera) and the passive liveness check, and the images
must agree with one another. Only a protected template is stored, under
$BIOSEAL_HOME/enrolments/face/NAME.json: no image, no embedding.
  --images DIR   folder of face images`,
  options: { images: { type: 'string' } },
  async run(values, rest, out) {
    if (rest.length) throw new UsageError('enroll face takes no further arguments');
    const dir = values.images as string | undefined;
    if (!dir) throw new UsageError('enroll face needs --images DIR');
    const images = listImages(dir);
    if (images.length === 0) throw new UsageError(`${dir} holds no images (.jpg, .png, .pgm, ...)`);
    const home = ensureBiosealHome(biosealHomePath());
    if (!out.json) process.stderr.write(`analysing ${images.length} image(s)...\n`);
    const samples = await analyseImages(images);
    const { enrolFace } = await import('../../enrolment/face.js');
    const r = await enrolFace({ home, name: (values.name as string | undefined) ?? 'default', samples, overwrite: Boolean(values.force) });
    out.info(`enrolled face "${r.enrolment.name}" from ${samples.length} images (model ${r.enrolment.template.embedder}, consistency ${r.consistency.toFixed(2)})`);
    out.info(`stored the protected template in ${r.file}`);
    out.result({ ok: true, name: r.enrolment.name, id: r.enrolment.id, file: r.file, images: samples.length, embedder: r.enrolment.template.embedder, consistency: r.consistency, unanimousBits: r.unanimousBits });
  },
};
