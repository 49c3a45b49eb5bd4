/**
 * Signed tree heads: the log key's Ed25519 (RFC 8032) signature over the
 * tree size, the root hash, the time it was signed and the id of the key.
 *
 * Signed bytes (all integers big-endian):
 *
 *   "bioseal/v1 audit tree head\0" || u64 size || root (32) || u64 timestamp (ms since 1970) || key id (32)
 *
 * The key id is SHA-256 of the 32-byte public key (as a Certificate
 * Transparency log id is). A head exported as JSON (`treeHeadToJson`) also
 * carries the public key, so that a copy kept elsewhere can later prove that
 * the log was neither truncated nor rewritten nor re-signed under a new key.
 */
import { createHash } from 'node:crypto';
import { createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { ByteWriter, concatBytes, constantTimeEqual, toHex, utf8 } from '../util/bytes.js';
import { FormatError } from '../errors.js';
import { HASH_LENGTH } from './merkle.js';

const LABEL = utf8('bioseal/v1 audit tree head\0');

/** Name and version of the JSON form of a head. */
export const TREE_HEAD_FORMAT = 'bioseal-audit-head-1';

/** A tree head and its signature. */
export interface SignedTreeHead {
  /** Number of entries the head covers. */
  readonly size: number;
  /** RFC 6962 Merkle Tree Hash of those entries. */
  readonly root: Uint8Array;
  /** When it was signed, in milliseconds since 1970 (UTC). */
  readonly timestamp: number;
  /** SHA-256 of the log's public key. */
  readonly keyId: Uint8Array;
  /** Ed25519 signature (64 bytes) over `treeHeadMessage`. */
  readonly signature: Uint8Array;
}

/** The JSON form of a head, to keep outside the log (`bioseal audit head > FILE`). */
export interface TreeHeadJson {
  readonly format: typeof TREE_HEAD_FORMAT;
  readonly size: number;
  readonly root: string;
  readonly timestamp: number;
  readonly time: string;
  readonly keyId: string;
  readonly publicKey: string;
  readonly signature: string;
}

/** SHA-256 of a public key: the id that heads name their key by. */
export function keyIdOf(publicKey: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(publicKey).digest());
}

/** The bytes a head's signature covers (see the file comment). */
function treeHeadMessage(size: number, root: Uint8Array, timestamp: number, keyId: Uint8Array): Uint8Array {
  return concatBytes(LABEL, new ByteWriter(8).u64(BigInt(size)).finish(), root, new ByteWriter(8).u64(BigInt(timestamp)).finish(), keyId);
}

const b64url = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');

/** Ed25519 keys as OpenSSL key objects, made once per key: a log signs and checks many heads under one key. */
const keyObjects = new Map<string, KeyObject>();

function keyObject(kind: 'public' | 'private', publicKey: Uint8Array, secretKey?: Uint8Array): KeyObject {
  const id = `${kind}:${b64url(publicKey)}`;
  let key = keyObjects.get(id);
  if (!key) {
    const jwk = { kty: 'OKP', crv: 'Ed25519', x: b64url(publicKey), ...(secretKey && { d: b64url(secretKey) }) };
    key = kind === 'private' ? createPrivateKey({ key: jwk, format: 'jwk' }) : createPublicKey({ key: jwk, format: 'jwk' });
    if (keyObjects.size >= 64) keyObjects.clear();
    keyObjects.set(id, key);
  }
  return key;
}

/** Signs a head with the log's 32-byte Ed25519 secret key (RFC 8032, through node:crypto). */
export function signTreeHead(size: number, root: Uint8Array, timestamp: number, secretKey: Uint8Array, publicKey: Uint8Array): SignedTreeHead {
  const keyId = keyIdOf(publicKey);
  const signature = new Uint8Array(cryptoSign(null, treeHeadMessage(size, root, timestamp, keyId), keyObject('private', publicKey, secretKey)));
  return { size, root, timestamp, keyId, signature };
}

/**
 * Whether `head` is signed by `publicKey` and names it (RFC 8032
 * verification by OpenSSL, which refuses non-canonical S values; not
 * ZIP-215). Malformed fields and keys fail.
 */
export function verifyTreeHead(head: SignedTreeHead, publicKey: Uint8Array): boolean {
  if (!Number.isSafeInteger(head.size) || head.size < 0 || !Number.isSafeInteger(head.timestamp) || head.timestamp < 0) return false;
  if (head.root.length !== HASH_LENGTH || head.signature.length !== 64 || publicKey.length !== 32) return false;
  if (!constantTimeEqual(head.keyId, keyIdOf(publicKey))) return false;
  try {
    return cryptoVerify(null, treeHeadMessage(head.size, head.root, head.timestamp, head.keyId), keyObject('public', publicKey), head.signature);
  } catch {
    return false;
  }
}

/** The JSON form of a head, with the public key that signed it. */
export function treeHeadToJson(head: SignedTreeHead, publicKey: Uint8Array): TreeHeadJson {
  return {
    format: TREE_HEAD_FORMAT,
    size: head.size,
    root: toHex(head.root),
    timestamp: head.timestamp,
    time: new Date(head.timestamp).toISOString(),
    keyId: toHex(head.keyId),
    publicKey: toHex(publicKey),
    signature: toHex(head.signature),
  };
}

function hexField(value: unknown, bytes: number, field: string): Uint8Array {
  if (typeof value !== 'string' || value.length !== bytes * 2 || !/^[0-9a-f]+$/.test(value)) {
    throw new FormatError(`saved tree head: ${field} must be ${bytes * 2} lower-case hex digits`);
  }
  return new Uint8Array(Buffer.from(value, 'hex'));
}

/**
 * Parses a head saved as JSON (the output of `bioseal audit head`), strictly:
 * exact members, canonical hex, a key id that is the key's hash, and a valid
 * signature by that key.
 * @returns the head and the public key that signed it.
 * @throws FormatError when the text is not such a head or its signature does not verify.
 */
export function parseTreeHeadJson(text: string): { head: SignedTreeHead; publicKey: Uint8Array } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new FormatError('saved tree head is not JSON (expected the output of bioseal audit head)');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new FormatError('saved tree head must be a JSON object');
  const d = doc as Record<string, unknown>;
  const expected = ['format', 'keyId', 'publicKey', 'root', 'signature', 'size', 'time', 'timestamp'];
  const keys = Object.keys(d).sort();
  if (keys.join(',') !== expected.join(',')) throw new FormatError(`saved tree head must have exactly the members ${expected.join(', ')}`);
  if (d.format !== TREE_HEAD_FORMAT) throw new FormatError(`saved tree head has format ${JSON.stringify(d.format)}, expected ${TREE_HEAD_FORMAT}`);
  if (!Number.isSafeInteger(d.size) || (d.size as number) < 0) throw new FormatError('saved tree head: size must be a non-negative integer');
  if (!Number.isSafeInteger(d.timestamp) || (d.timestamp as number) < 0) throw new FormatError('saved tree head: timestamp must be a non-negative integer');
  if (d.time !== new Date(d.timestamp as number).toISOString()) throw new FormatError('saved tree head: time does not match timestamp');
  const publicKey = hexField(d.publicKey, 32, 'publicKey');
  const head: SignedTreeHead = {
    size: d.size as number,
    root: hexField(d.root, HASH_LENGTH, 'root'),
    timestamp: d.timestamp as number,
    keyId: hexField(d.keyId, 32, 'keyId'),
    signature: hexField(d.signature, 64, 'signature'),
  };
  if (!constantTimeEqual(head.keyId, keyIdOf(publicKey))) throw new FormatError('saved tree head: keyId is not the hash of publicKey');
  if (!verifyTreeHead(head, publicKey)) throw new FormatError('saved tree head: the signature does not verify (the saved copy was changed)');
  return { head, publicKey };
}
