/**
 * The token's wrapping key: an AES-256 secret key that lives on the token
 * and never leaves it (CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE true,
 * CKA_EXTRACTABLE false). bioseal creates one labelled `bioseal:<name>` with
 * a random CKA_ID, or uses an existing key the person names, after checking
 * it has those properties.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { UsageError } from '../../errors.js';
import type { Handle, Template } from './binding.js';
import { pkcs11Failure } from './errors.js';
import type { TokenSession } from './token.js';

/** Length of the CKA_ID bioseal gives the keys it creates. */
export const KEY_ID_LENGTH = 16;

/** Where a key is found on the token. */
export interface KeyLocator {
  readonly label: string;
  /** CKA_ID; empty when the key has none (then the label alone finds it). */
  readonly id: Uint8Array;
}

/** The properties of a key that decide whether bioseal may use it. */
export interface KeyProperties {
  readonly aes: boolean;
  readonly bytes: number;
  readonly onToken: boolean;
  readonly private: boolean;
  readonly sensitive: boolean;
  readonly extractable: boolean;
  readonly encrypt: boolean;
  readonly decrypt: boolean;
  readonly id: Uint8Array;
}

/** Secret keys on the token with this label (and CKA_ID, when not empty); at most `max`. */
export function findKeys(s: TokenSession, key: KeyLocator, max = 2): Handle[] {
  const { pk, lib, session } = s;
  const template: Template = [
    { type: pk.CKA_CLASS, value: pk.CKO_SECRET_KEY },
    { type: pk.CKA_LABEL, value: key.label },
  ];
  if (key.id.length > 0) template.push({ type: pk.CKA_ID, value: Buffer.from(key.id) });
  try {
    lib.C_FindObjectsInit(session, template);
    try {
      return lib.C_FindObjects(session, max);
    } finally {
      lib.C_FindObjectsFinal(session);
    }
  } catch (error) {
    throw pkcs11Failure(error, s.token.label, 'searching for its key', 'unavailable');
  }
}

/** Generates a new non-extractable AES-256 key on the token. */
export function createKey(s: TokenSession, label: string): { handle: Handle; id: Uint8Array } {
  const { pk, lib, session } = s;
  const id = new Uint8Array(randomBytes(KEY_ID_LENGTH));
  try {
    const handle = lib.C_GenerateKey(session, { mechanism: pk.CKM_AES_KEY_GEN }, [
      { type: pk.CKA_CLASS, value: pk.CKO_SECRET_KEY },
      { type: pk.CKA_KEY_TYPE, value: pk.CKK_AES },
      { type: pk.CKA_VALUE_LEN, value: 32 },
      { type: pk.CKA_TOKEN, value: true },
      { type: pk.CKA_PRIVATE, value: true },
      { type: pk.CKA_SENSITIVE, value: true },
      { type: pk.CKA_EXTRACTABLE, value: false },
      { type: pk.CKA_ENCRYPT, value: true },
      { type: pk.CKA_DECRYPT, value: true },
      { type: pk.CKA_WRAP, value: false },
      { type: pk.CKA_UNWRAP, value: false },
      { type: pk.CKA_LABEL, value: label },
      { type: pk.CKA_ID, value: Buffer.from(id) },
    ]);
    return { handle, id };
  } catch (error) {
    throw pkcs11Failure(error, s.token.label, 'generating an AES-256 key', 'unsupported');
  }
}

/** A CK_ULONG attribute value (native width and byte order). */
function ulong(b: Buffer): number {
  const le = os.endianness() === 'LE';
  if (b.length === 8) return Number(le ? b.readBigUInt64LE() : b.readBigUInt64BE());
  if (b.length === 4) return le ? b.readUInt32LE() : b.readUInt32BE();
  return -1;
}

/** Reads the properties of a key. */
export function keyProperties(s: TokenSession, handle: Handle): KeyProperties {
  const { pk, lib, session } = s;
  const types = [pk.CKA_KEY_TYPE, pk.CKA_VALUE_LEN, pk.CKA_TOKEN, pk.CKA_PRIVATE, pk.CKA_SENSITIVE, pk.CKA_EXTRACTABLE, pk.CKA_ENCRYPT, pk.CKA_DECRYPT, pk.CKA_ID];
  let values: Map<number, Buffer>;
  try {
    values = new Map(lib.C_GetAttributeValue(session, handle, types.map((type) => ({ type }))).map((a) => [a.type, a.value]));
  } catch (error) {
    throw pkcs11Failure(error, s.token.label, 'reading its key attributes', 'unsupported');
  }
  const flag = (t: number) => values.get(t)?.[0] === 1;
  return {
    aes: ulong(values.get(pk.CKA_KEY_TYPE) ?? Buffer.alloc(0)) === pk.CKK_AES,
    bytes: ulong(values.get(pk.CKA_VALUE_LEN) ?? Buffer.alloc(0)),
    onToken: flag(pk.CKA_TOKEN),
    private: flag(pk.CKA_PRIVATE),
    sensitive: flag(pk.CKA_SENSITIVE),
    extractable: flag(pk.CKA_EXTRACTABLE),
    encrypt: flag(pk.CKA_ENCRYPT),
    decrypt: flag(pk.CKA_DECRYPT),
    id: new Uint8Array(values.get(pk.CKA_ID) ?? []),
  };
}

/**
 * Checks that an existing key may hold a bioseal secret.
 * @throws UsageError naming what is wrong with it.
 */
export function checkUsableKey(p: KeyProperties, label: string): void {
  const problems: string[] = [];
  if (!p.aes || p.bytes !== 32) problems.push('is not an AES-256 key');
  if (!p.onToken) problems.push('is not stored on the token');
  if (!p.private) problems.push('can be used without the PIN (CKA_PRIVATE false)');
  if (!p.sensitive || p.extractable) problems.push('can be read off the token (it must be sensitive and non-extractable)');
  if (!p.encrypt || !p.decrypt) problems.push('does not allow encryption and decryption');
  if (problems.length) throw new UsageError(`the key "${label}" on the token ${problems.join(', ')}; pick another --key-label, or leave it out to create one`);
}
