/**
 * Publisher keys: Ed25519 key pairs that sign sealed models (docs/FORMAT.md §5).
 * The secret key file holds one line `biosealsec1...` (mode 0600); the public
 * key file FILE.pub holds `biosealpub1...`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { publisherPublicKey } from '../container/signature.js';
import { decodeKey, encodeKey } from './encoding.js';
import { writeFileAtomic, describeFsError } from '../util/atomic-file.js';
import { ExistsError, FormatError } from '../errors.js';
import { wipe } from '../util/bytes.js';

export const PUBLISHER_PUBLIC_PREFIX = 'biosealpub1';
export const PUBLISHER_SECRET_PREFIX = 'biosealsec1';

/** Encodes a publisher public key as text. */
export function encodePublisherKey(publicKey: Uint8Array): string {
  return encodeKey(PUBLISHER_PUBLIC_PREFIX, publicKey);
}

/**
 * Parses a publisher public key given as text, or as the path of a file that holds it.
 * @throws FormatError when it is neither.
 */
export function parsePublisherKey(textOrPath: string): Uint8Array {
  let text = textOrPath;
  if (!text.trim().startsWith(PUBLISHER_PUBLIC_PREFIX)) {
    try {
      text = readFileSync(textOrPath, 'utf8');
    } catch {
      throw new FormatError(`"${textOrPath.slice(0, 60)}" is neither a publisher public key (biosealpub1...) nor a readable file holding one`);
    }
  }
  return decodeKey(PUBLISHER_PUBLIC_PREFIX, text, 32, 'publisher public key');
}

/**
 * Reads a publisher secret key file.
 * @throws IOError, FormatError
 */
export function readPublisherSecretKey(file: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw describeFsError(error, file);
  }
  return decodeKey(PUBLISHER_SECRET_PREFIX, text, 32, 'publisher secret key');
}

/**
 * Generates a publisher key pair into FILE (secret, mode 0600) and FILE.pub.
 * @returns the public key text.
 * @throws ExistsError when either file exists and overwrite is false.
 */
export async function generatePublisherKey(file: string, options: { overwrite?: boolean } = {}): Promise<string> {
  const secret = new Uint8Array(randomBytes(32));
  try {
    const pub = encodePublisherKey(publisherPublicKey(secret));
    // Refuse before writing anything, so a clash never leaves half a key pair.
    for (const f of [file, `${file}.pub`]) {
      if (!options.overwrite && existsSync(f)) throw new ExistsError(`${f} already exists (use --force to replace it)`);
    }
    await writeFileAtomic(file, async (h) => void (await h.writeFile(encodeKey(PUBLISHER_SECRET_PREFIX, secret) + '\n')), {
      overwrite: options.overwrite,
      mode: 0o600,
    });
    await writeFileAtomic(`${file}.pub`, async (h) => void (await h.writeFile(pub + '\n')), { overwrite: options.overwrite });
    return pub;
  } finally {
    wipe(secret);
  }
}
