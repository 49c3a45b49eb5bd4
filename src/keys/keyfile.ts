/**
 * Key files: exactly 32 random bytes, mode 0600. For automation and tests,
 * where no person is present to type a passphrase.
 */
import { readFileSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic, describeFsError } from '../util/atomic-file.js';
import { FormatError, IOError } from '../errors.js';
import { wipe } from '../util/bytes.js';

export const KEY_FILE_LENGTH = 32;

/**
 * Reads a key file.
 * @throws IOError when it cannot be read; FormatError when it does not hold exactly 32 bytes.
 */
export function readKeyFile(file: string): Uint8Array {
  let st;
  try {
    st = statSync(file);
  } catch (error) {
    throw describeFsError(error, file);
  }
  if (st.isDirectory()) throw new IOError(`${file}: is a directory, not a key file`);
  if (st.size !== KEY_FILE_LENGTH) {
    throw new FormatError(`${file}: a key file holds exactly ${KEY_FILE_LENGTH} bytes, this one has ${st.size}`);
  }
  try {
    return new Uint8Array(readFileSync(file));
  } catch (error) {
    throw describeFsError(error, file);
  }
}

/**
 * Writes a new random key file (mode 0600), atomically.
 * @throws ExistsError when it exists and overwrite is false.
 */
export async function generateKeyFile(file: string, options: { overwrite?: boolean } = {}): Promise<void> {
  const key = new Uint8Array(randomBytes(KEY_FILE_LENGTH));
  try {
    await writeFileAtomic(file, async (h) => void (await h.writeFile(key)), { overwrite: options.overwrite, mode: 0o600 });
  } finally {
    wipe(key);
  }
}
