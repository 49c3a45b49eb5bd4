/**
 * The log key: the Ed25519 key that signs the audit log's tree heads. It is
 * made on first use and kept in `$BIOSEAL_HOME/audit.key` (mode 0600) as one
 * line `biosealauditsec1...` (base32 with a checksum, as other bioseal keys).
 * Its public key is also recorded in the log when the log is created, so a
 * key file swapped later is noticed.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { decodeKey, encodeKey } from '../keys/encoding.js';
import { describeFsError, writeFileAtomic } from '../util/atomic-file.js';
import { ExistsError, IOError } from '../errors.js';
import { wipe } from '../util/bytes.js';

/** Text prefix of a log key file. */
export const LOG_KEY_PREFIX = 'biosealauditsec1';

/** A loaded log key. Call `wipe()` on `secretKey` when done. */
export interface LogKey {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/**
 * Reads a log key file.
 * @returns undefined when the file does not exist.
 * @throws IOError when it cannot be read, FormatError when it is not a log key.
 */
export function readLogKey(file: string): LogKey | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw describeFsError(error, file);
  }
  const secretKey = decodeKey(LOG_KEY_PREFIX, text, 32, 'audit log key');
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

/**
 * Reads the log key, or makes one (written atomically, mode 0600) when the
 * file does not exist. Two processes racing to make it end up with the same
 * key: the loser reads the winner's.
 * @throws IOError, FormatError
 */
export async function loadOrCreateLogKey(file: string): Promise<LogKey> {
  const existing = readLogKey(file);
  if (existing) return existing;
  const secretKey = new Uint8Array(randomBytes(32));
  try {
    await writeFileAtomic(file, async (h) => void (await h.writeFile(encodeKey(LOG_KEY_PREFIX, secretKey) + '\n')), { mode: 0o600 });
  } catch (error) {
    wipe(secretKey);
    if (!(error instanceof ExistsError)) throw error;
    // Another process made it first: use theirs.
    const theirs = readLogKey(file);
    if (!theirs) throw new IOError(`the audit log key ${file} appeared and vanished while it was being made`);
    return theirs;
  }
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}
