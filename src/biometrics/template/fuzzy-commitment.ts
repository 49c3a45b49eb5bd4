/**
 * Fuzzy commitment (Juels and Wattenberg, "A Fuzzy Commitment Scheme",
 * ACM CCS 1999) over BCH codes.
 *
 * Enrolment draws a random message per block, encodes it, and stores only
 * commitment = codeword XOR template bits. A later template within t bit
 * errors of the enrolled one (per block) gives back the codewords, hence the
 * messages; anything else gives garbage. The secret is Argon2id over the
 * messages, so every offline oracle (the stored check value, a sealed file's
 * slot) costs an attacker one Argon2id run per guess. The check value
 * tells a correct reproduction from a wrong one.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { hashRaw, Algorithm } from '@node-rs/argon2';
import { BchCode } from './bch.js';

/** The code and stretching parameters of a commitment. */
export interface CommitmentParams {
  /** BCH field degree: block length n = 2^m - 1. */
  readonly m: number;
  /** Correctable bit errors per block. */
  readonly t: number;
  /** Number of code blocks; the template has blocks * n bits. */
  readonly blocks: number;
  /** Argon2id memory (KiB) and passes used to stretch the messages into the secret. */
  readonly kdfMemoryKiB: number;
  readonly kdfPasses: number;
}

/** What is stored: nothing here reveals the template without a close enough face. */
export interface CommitmentRecord {
  readonly params: CommitmentParams;
  /** codeword XOR template, one bit per byte (blocks * n). */
  readonly commitment: Uint8Array;
  readonly salt: Uint8Array;
  /** SHA-256 of a check label and the secret: tells a right reproduction from a wrong one. */
  readonly check: Uint8Array;
}

const codes = new Map<string, BchCode>();
/** BCH codes are costly to construct; share them. */
export function bchCode(m: number, t: number): BchCode {
  const key = `${m}/${t}`;
  let code = codes.get(key);
  if (!code) {
    code = new BchCode(m, t);
    codes.set(key, code);
  }
  return code;
}

/** Total message bits: an upper bound on the secret's entropy (the face gives less, see docs/FACE.md). */
export function messageBits(p: CommitmentParams): number {
  return bchCode(p.m, p.t).k * p.blocks;
}

/** Number of template bits the commitment takes. */
export function templateLength(p: Pick<CommitmentParams, 'm' | 'blocks'>): number {
  return ((1 << p.m) - 1) * p.blocks;
}

function packBits(bits: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  for (let i = 0; i < bits.length; i++) if (bits[i]) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

async function stretch(messages: Uint8Array, salt: Uint8Array, p: CommitmentParams): Promise<Uint8Array> {
  const packed = packBits(messages);
  try {
    const out = await hashRaw(packed, { algorithm: Algorithm.Argon2id, memoryCost: p.kdfMemoryKiB, timeCost: p.kdfPasses, parallelism: 1, salt, outputLen: 32 });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } finally {
    packed.fill(0);
  }
}

function checkValue(secret: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update('bioseal/v1 face check').update(secret).digest());
}

/**
 * Commits to a template, returning the record to store and the 32-byte secret.
 * @param template blocks * n bits (0/1 per byte)
 */
export async function commit(template: Uint8Array, params: CommitmentParams): Promise<{ record: CommitmentRecord; secret: Uint8Array }> {
  const code = bchCode(params.m, params.t);
  if (template.length !== code.n * params.blocks) throw new RangeError(`template must be ${code.n * params.blocks} bits`);
  const messages = new Uint8Array(code.k * params.blocks);
  const random = randomBytes(messages.length);
  for (let i = 0; i < messages.length; i++) messages[i] = random[i]! & 1;
  const commitment = new Uint8Array(template.length);
  for (let b = 0; b < params.blocks; b++) {
    const codeword = code.encode(messages.subarray(b * code.k, (b + 1) * code.k));
    for (let i = 0; i < code.n; i++) commitment[b * code.n + i] = codeword[i]! ^ template[b * code.n + i]!;
  }
  const salt = new Uint8Array(randomBytes(16));
  const secret = await stretch(messages, salt, params);
  messages.fill(0);
  random.fill(0);
  return { record: { params, commitment, salt, check: checkValue(secret) }, secret };
}

/**
 * Decodes the messages from a fresh template, without stretching: the cheap
 * part, used by evaluations to count recoveries. Returns undefined when any
 * block fails to decode.
 */
export function decodeMessages(record: CommitmentRecord, template: Uint8Array): { messages: Uint8Array; corrected: number } | undefined {
  const p = record.params;
  const code = bchCode(p.m, p.t);
  if (template.length !== code.n * p.blocks || record.commitment.length !== template.length) return undefined;
  const messages = new Uint8Array(code.k * p.blocks);
  let corrected = 0;
  const word = new Uint8Array(code.n);
  for (let b = 0; b < p.blocks; b++) {
    for (let i = 0; i < code.n; i++) word[i] = record.commitment[b * code.n + i]! ^ template[b * code.n + i]!;
    const decoded = code.decode(word);
    if (!decoded) {
      word.fill(0);
      messages.fill(0);
      return undefined;
    }
    messages.set(decoded.message, b * code.k);
    corrected += decoded.corrected;
  }
  word.fill(0);
  return { messages, corrected };
}

/**
 * Reproduces the secret from a fresh template, or returns undefined when the
 * template is not close enough (or decodes to a different codeword).
 */
export async function reproduce(record: CommitmentRecord, template: Uint8Array): Promise<{ secret: Uint8Array; corrected: number } | undefined> {
  const decoded = decodeMessages(record, template);
  if (!decoded) return undefined;
  try {
    const secret = await stretch(decoded.messages, record.salt, record.params);
    if (!timingSafeEqual(checkValue(secret), record.check)) {
      secret.fill(0);
      return undefined;
    }
    return { secret, corrected: decoded.corrected };
  } finally {
    decoded.messages.fill(0);
  }
}
