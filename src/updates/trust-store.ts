/**
 * The device's trusted publisher keys: `$BIOSEAL_HOME/updates/trusted-publishers`,
 * one `biosealpub1...` key per line (`#` starts a comment). `update apply`
 * trusts these keys and those given with `--trust`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeKey } from '../keys/encoding.js';
import { PUBLISHER_PUBLIC_PREFIX, encodePublisherKey } from '../keys/publisher.js';
import { describeFsError, writeFileAtomic } from '../util/atomic-file.js';
import { constantTimeEqual } from '../util/bytes.js';
import { updatesDir } from './state.js';
import { FormatError } from '../errors.js';

function storeFile(home: string): string {
  return path.join(home, 'updates', 'trusted-publishers');
}

/**
 * The keys in the trust store (none when it does not exist).
 * @throws FormatError naming the bad line; IOError
 */
export function readTrustStore(home: string): Uint8Array[] {
  const file = storeFile(home);
  if (!existsSync(file)) return [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw describeFsError(error, file);
  }
  const keys: Uint8Array[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    try {
      keys.push(decodeKey(PUBLISHER_PUBLIC_PREFIX, line, 32, 'publisher public key'));
    } catch (error) {
      throw new FormatError(`${file} line ${i + 1}: ${(error as Error).message}`, { cause: error });
    }
  }
  return keys;
}

async function writeTrustStore(home: string, keys: readonly Uint8Array[]): Promise<void> {
  updatesDir(home);
  const text = `# publisher keys trusted to sign model updates (bioseal update trust)\n${keys.map((k) => `${encodePublisherKey(k)}\n`).join('')}`;
  await writeFileAtomic(storeFile(home), async (h) => void (await h.writeFile(text)), { overwrite: true, mode: 0o600 });
}

/**
 * Adds a key to the trust store.
 * @returns false when it was already there.
 */
export async function addTrustedPublisher(home: string, key: Uint8Array): Promise<boolean> {
  const keys = readTrustStore(home);
  if (keys.some((k) => constantTimeEqual(k, key))) return false;
  await writeTrustStore(home, [...keys, key]);
  return true;
}

/**
 * Removes a key from the trust store.
 * @returns false when it was not there.
 */
export async function removeTrustedPublisher(home: string, key: Uint8Array): Promise<boolean> {
  const keys = readTrustStore(home);
  const kept = keys.filter((k) => !constantTimeEqual(k, key));
  if (kept.length === keys.length) return false;
  await writeTrustStore(home, kept);
  return true;
}
