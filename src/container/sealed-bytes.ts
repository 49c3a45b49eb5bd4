/**
 * Small secrets kept beside a sealed file (an enrolled typing profile),
 * encrypted under a key bound to that file.
 *
 * `sealBytes` / `openBytes`: AES-256-GCM (NIST SP 800-38D) with a random
 * 96-bit nonce per message, laid out as
 *
 *   version (1 byte, 1) || nonce (12) || ciphertext || tag (16)
 *
 * The version byte is authenticated with the caller's associated data, which
 * names what the bytes are and where they belong, so sealed bytes moved to
 * another record or purpose do not open. Random nonces are safe here because
 * one key seals few messages (one per enrolment), far below the 2^32 that
 * SP 800-38D §8.3 allows.
 *
 * `FileBoundKey` holds such a key for one opened file, only in memory, and
 * zeroes it on `release()`: callers get sealing and opening, never the key.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { FormatError, TamperedError, UsageError } from '../errors.js';
import { concatBytes, wipe } from '../util/bytes.js';
import { deriveProfileKey } from './keyschedule.js';
import { KEY_LENGTH, TAG_LENGTH } from './format.js';

const VERSION = 1;
const NONCE_LENGTH = 12;
/** Version, nonce and tag: the size of sealed empty plaintext. */
export const SEALED_OVERHEAD = 1 + NONCE_LENGTH + TAG_LENGTH;

function checkKey(key: Uint8Array): void {
  if (key.length !== KEY_LENGTH) throw new UsageError(`a sealing key is ${KEY_LENGTH} bytes, not ${key.length}`);
}

/**
 * Encrypts and authenticates `plaintext`, bound to `aad`.
 *
 * @example
 *   const sealed = sealBytes(key, utf8('profile'), utf8('bioseal keystroke profile'));
 *   openBytes(key, sealed, utf8('bioseal keystroke profile')); // the plaintext again
 * @throws UsageError when the key is not 32 bytes.
 */
export function sealBytes(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  checkKey(key);
  const header = concatBytes(Uint8Array.of(VERSION), new Uint8Array(randomBytes(NONCE_LENGTH)));
  const cipher = createCipheriv('aes-256-gcm', key, header.subarray(1));
  cipher.setAAD(concatBytes(header.subarray(0, 1), aad));
  const body = cipher.update(plaintext);
  cipher.final();
  return concatBytes(header, body, cipher.getAuthTag());
}

/**
 * Checks and decrypts bytes made by {@link sealBytes}. Nothing is returned
 * unless every byte, the key and the associated data are those it was sealed
 * with.
 *
 * @throws TamperedError when the bytes are truncated or do not authenticate
 *   (changed bytes, another key, other associated data); the message does not say which.
 * @throws FormatError when the version byte is not one this code writes.
 * @throws UsageError when the key is not 32 bytes.
 */
export function openBytes(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  checkKey(key);
  if (sealed.length < SEALED_OVERHEAD) throw new TamperedError(`the sealed data is truncated (${sealed.length} bytes, at least ${SEALED_OVERHEAD} expected)`);
  if (sealed[0] !== VERSION) throw new FormatError(`sealed data of version ${sealed[0]} is not supported`);
  const tagAt = sealed.length - TAG_LENGTH;
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 1 + NONCE_LENGTH));
  decipher.setAAD(concatBytes(sealed.subarray(0, 1), aad));
  decipher.setAuthTag(sealed.subarray(tagAt));
  const plaintext = decipher.update(sealed.subarray(1 + NONCE_LENGTH, tagAt));
  try {
    decipher.final();
  } catch (error) {
    plaintext.fill(0);
    throw new TamperedError('the sealed data does not authenticate: it was changed, or it belongs to another key or record', { cause: error });
  }
  return new Uint8Array(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
}

/**
 * A purpose-bound key of one opened sealed file, held only in memory. It
 * seals and opens bytes for its owner and is zeroed by `release()`, after
 * which every use throws. Whoever opened the file owns it and must release
 * it when the file is closed.
 */
export class FileBoundKey {
  #key: Uint8Array | undefined;
  #listeners: (() => void)[] = [];

  /** Takes ownership of `key` (zeroed on release). */
  constructor(
    key: Uint8Array,
    /** The id of the file the key is bound to (16 bytes, public). */
    readonly fileId: Uint8Array,
  ) {
    checkKey(key);
    this.#key = key;
  }

  get released(): boolean {
    return this.#key === undefined;
  }

  /** {@link sealBytes} under this key. @throws UsageError once released. */
  seal(plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
    return sealBytes(this.live(), plaintext, aad);
  }

  /** {@link openBytes} under this key. @throws TamperedError, FormatError; UsageError once released. */
  open(sealed: Uint8Array, aad: Uint8Array): Uint8Array {
    return openBytes(this.live(), sealed, aad);
  }

  /**
   * A public name for what this key keeps under `purpose` (32 hex digits):
   * HMAC-SHA256 of the purpose under the key, so that only a holder of the
   * key can tell or choose which stored record is its own. A file made to
   * carry another file's (public) id has another key and another name.
   * @throws UsageError once released.
   */
  name(purpose: string): string {
    return createHmac('sha256', this.live()).update(`bioseal/v1 record name\0${purpose}`).digest('hex').slice(0, 32);
  }

  /** Calls `listener` once when the key is released (at once if it already is). */
  onRelease(listener: () => void): void {
    if (this.#key === undefined) listener();
    else this.#listeners.push(listener);
  }

  /** Zeroes the key and tells the listeners. Idempotent. */
  release(): void {
    if (this.#key === undefined) return;
    wipe(this.#key);
    this.#key = undefined;
    const listeners = this.#listeners;
    this.#listeners = [];
    for (const l of listeners) l();
  }

  private live(): Uint8Array {
    if (this.#key === undefined) throw new UsageError('the key was released: its file was closed');
    return this.#key;
  }
}

/**
 * The profile key (docs/KEYSTROKE.md) of a file whose data key is at hand.
 * The data key stays the caller's to wipe.
 */
export function profileKeyOf(dataKey: Uint8Array, fileId: Uint8Array): FileBoundKey {
  return new FileBoundKey(deriveProfileKey(dataKey, fileId), fileId.slice());
}
