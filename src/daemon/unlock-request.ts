/**
 * The `unlock` object of `POST /v1/models`, validated and turned into the
 * library's Credentials: `{"keyfile"?: base64, "passphrase"?: string,
 * "face"?: [base64 image, ...]}`. Face images are decoded and analysed only
 * if a face slot is tried.
 */
import type { Credentials } from '../operations/credentials.js';
import type { FaceInput } from '../factors/inputs.js';
import type { FaceAnalysis } from '../biometrics/face/embedder.js';
import { UsageError } from '../errors.js';

const MAX_FACE_IMAGES = 8;
const MAX_PASSPHRASE = 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function base64Bytes(value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string' || !BASE64.test(value)) throw new UsageError(`${what} must be base64`);
  return new Uint8Array(Buffer.from(value, 'base64'));
}

function faceInput(images: readonly Uint8Array[]): FaceInput {
  let analysed: Promise<readonly FaceAnalysis[]> | undefined;
  const analyse = async (): Promise<readonly FaceAnalysis[]> => {
    const [{ decodeImage }, { sharedEmbedder }] = await Promise.all([import('../biometrics/face/image.js'), import('../biometrics/face/shared-embedder.js')]);
    const embedder = await sharedEmbedder();
    const out: FaceAnalysis[] = [];
    for (const bytes of images) out.push(await embedder.analyze(await decodeImage(bytes)));
    return out;
  };
  return { capture: () => (analysed ??= analyse()) };
}

/**
 * Credentials from a request's `unlock` object, drawing on `home` for
 * enrolments and rate limits.
 * @throws UsageError naming the malformed field.
 */
export function credentialsFromRequest(unlock: unknown, home: string): Credentials {
  if (unlock === undefined) throw new UsageError('"unlock" is required: {"keyfile"?, "passphrase"?, "face"?}');
  if (typeof unlock !== 'object' || unlock === null || Array.isArray(unlock)) throw new UsageError('"unlock" must be an object');
  const u = unlock as Record<string, unknown>;
  const unknown = Object.keys(u).filter((k) => !['keyfile', 'passphrase', 'face'].includes(k));
  if (unknown.length) throw new UsageError(`"unlock" has unknown field "${unknown[0]}" (known: keyfile, passphrase, face)`);
  const keyFiles: Uint8Array[] = [];
  if (u.keyfile !== undefined) {
    const key = base64Bytes(u.keyfile, 'unlock.keyfile');
    if (key.length !== 32) throw new UsageError('unlock.keyfile must be the 32 bytes of a key file, base64');
    keyFiles.push(key);
  }
  let passphrase: string | undefined;
  if (u.passphrase !== undefined) {
    if (typeof u.passphrase !== 'string' || u.passphrase.length === 0 || u.passphrase.length > MAX_PASSPHRASE) {
      throw new UsageError(`unlock.passphrase must be a non-empty string of at most ${MAX_PASSPHRASE} characters`);
    }
    passphrase = u.passphrase;
  }
  let face: FaceInput | undefined;
  if (u.face !== undefined) {
    if (!Array.isArray(u.face) || u.face.length === 0 || u.face.length > MAX_FACE_IMAGES) {
      throw new UsageError(`unlock.face must be a list of 1 to ${MAX_FACE_IMAGES} base64 images`);
    }
    face = faceInput(u.face.map((img, i) => base64Bytes(img, `unlock.face[${i}]`)));
  }
  if (keyFiles.length === 0 && passphrase === undefined && face === undefined) {
    throw new UsageError('"unlock" names no factor: give keyfile, passphrase or face');
  }
  return { keyFiles, passphrase, face, home };
}
