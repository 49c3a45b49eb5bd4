/**
 * Encrypted objects in memory (`Encrypted`) and their strict reading from
 * bytes (`readEncrypted`): 1:1 vectors and scores, search queries, gallery
 * groups and search scores. Each holds SEAL ciphertexts in WebAssembly
 * memory; `dispose()` frees them.
 *
 * What each kind's envelope says (meta) and carries (parts):
 *
 *   matchVector   [dims]                 1 fresh ciphertext (seeded or not)
 *   matchScore    [dims]                 1 result ciphertext
 *   searchQuery   [dims, chunk]          ceil(dims/chunk) fresh ciphertexts
 *   galleryGroup  [dims, chunk, count]   ceil(dims/chunk) fresh ciphertexts
 *   searchScores  [dims, chunk, count]   1 result ciphertext
 */
import { FormatError } from '../errors.js';
import { encodeEnvelope, HeKind, kindName, parseEnvelope } from './envelope.js';
import type { HeContext } from './parameters.js';
import { checkCiphertext, type CiphertextShape } from './seal-format.js';
import { searchLayout, type SearchLayout } from './search-layout.js';
import { MAX_DIMENSIONS } from './embedding.js';
import type { CipherText } from './seal-library.js';

export type CiphertextKind = typeof HeKind.matchVector | typeof HeKind.matchScore | typeof HeKind.searchQuery | typeof HeKind.galleryGroup | typeof HeKind.searchScores;

/** An encrypted object of kind K, in memory. */
export class Encrypted<K extends CiphertextKind = CiphertextKind> {
  private live: CipherText[] | null;

  /** @internal Built by the key holder, the enroller, the matcher and `readEncrypted`. */
  constructor(
    private readonly ctx: HeContext,
    readonly kind: K,
    /** Dimensions of the embeddings. */
    readonly dims: number,
    /** Search chunk (0 for 1:1 objects). */
    readonly chunk: number,
    /** Templates in a gallery group or scores in a search result (0 otherwise). */
    readonly count: number,
    ciphertexts: CipherText[],
  ) {
    this.live = ciphertexts;
  }

  /** @internal The SEAL ciphertexts. @throws RangeError once disposed. */
  get ciphertexts(): readonly CipherText[] {
    if (!this.live) throw new RangeError(`encrypted ${kindName(this.kind)} already disposed`);
    return this.live;
  }

  /** The search layout of a query, group or search result. */
  get layout(): SearchLayout {
    return searchLayout(this.dims, this.chunk, this.ctx.slotCount);
  }

  /** The envelope that `readEncrypted` reads back (full, unseeded ciphertexts). */
  toBytes(): Uint8Array {
    const parts = this.ciphertexts.map((ct) => ct.saveArray(this.ctx.seal.ComprModeType.none));
    return encodeEnvelope(this.ctx.fingerprint, this.kind, [this.dims, this.chunk, this.count], parts);
  }

  /** `toBytes()`, then `dispose()`. */
  toBytesAndDispose(): Uint8Array {
    try {
      return this.toBytes();
    } finally {
      this.dispose();
    }
  }

  /** Frees the ciphertexts; safe to call twice. */
  dispose(): void {
    for (const ct of this.live ?? []) ct.delete();
    this.live = null;
  }
}

/** The shape of fresh ciphertexts (both levels' primes, scale 2^40). */
export function freshShape(ctx: HeContext): CiphertextShape {
  return { level: ctx.freshLevel, polyModulusDegree: ctx.parameters.polyModulusDegree, scale: ctx.scale, seeded: 'allowed' };
}

/** The shape of results (q0 only, the scale after one rescale, never seeded). */
export function resultShape(ctx: HeContext): CiphertextShape {
  return { level: ctx.resultLevel, polyModulusDegree: ctx.parameters.polyModulusDegree, scale: ctx.resultScale, seeded: 'refused' };
}

/** Expected meta and part count of each kind, or a FormatError. */
function expectedParts(ctx: HeContext, kind: CiphertextKind, meta: readonly number[]): { dims: number; chunk: number; count: number; parts: number } {
  const [dims, chunk, count, spare] = meta as [number, number, number, number];
  const what = `encrypted ${kindName(kind)}`;
  if (dims < 1 || dims > MAX_DIMENSIONS) throw new FormatError(`${what}: ${dims} dimensions is out of range`);
  if (spare !== 0) throw new FormatError(`${what}: reserved field set`);
  if (kind === HeKind.matchVector || kind === HeKind.matchScore) {
    if (chunk !== 0 || count !== 0) throw new FormatError(`${what}: unexpected search fields`);
    if (2 * dims >= ctx.parameters.polyModulusDegree) throw new FormatError(`${what}: too many dimensions for a 1:1 match`);
    return { dims, chunk, count, parts: 1 };
  }
  let layout: SearchLayout;
  try {
    layout = searchLayout(dims, chunk, ctx.slotCount);
  } catch (error) {
    throw new FormatError(`${what}: ${(error as Error).message}`);
  }
  if (kind === HeKind.searchQuery) {
    if (count !== 0) throw new FormatError(`${what}: unexpected template count`);
    return { dims, chunk, count, parts: layout.parts };
  }
  if (count < 1 || count > layout.groupSize) throw new FormatError(`${what}: template count ${count} is not 1 to ${layout.groupSize}`);
  return { dims, chunk, count, parts: kind === HeKind.galleryGroup ? layout.parts : 1 };
}

/**
 * Reads an encrypted object of `kind` from bytes: the envelope, the kind's
 * fields, and every ciphertext in full, before SEAL loads any of them.
 * @throws FormatError for anything else: other parameters, another kind, damage, truncation, out-of-range values.
 * @example const probe = readEncrypted(ctx, bytes, HeKind.matchVector);
 */
export function readEncrypted<K extends CiphertextKind>(ctx: HeContext, bytes: Uint8Array, kind: K): Encrypted<K> {
  const envelope = parseEnvelope(bytes, ctx.fingerprint, kind);
  const { dims, chunk, count, parts } = expectedParts(ctx, kind, envelope.meta);
  if (envelope.parts.length !== parts) throw new FormatError(`encrypted ${kindName(kind)}: ${envelope.parts.length} ciphertexts, expected ${parts}`);
  const shape = kind === HeKind.matchScore || kind === HeKind.searchScores ? resultShape(ctx) : freshShape(ctx);
  envelope.parts.forEach((part, i) => checkCiphertext(part, shape, `encrypted ${kindName(kind)}, ciphertext ${i + 1}`));
  const loaded: CipherText[] = [];
  try {
    for (const part of envelope.parts) loaded.push(loadCiphertext(ctx, part, kindName(kind)));
  } catch (error) {
    for (const ct of loaded) ct.delete();
    throw error;
  }
  return new Encrypted(ctx, kind, dims, chunk, count, loaded);
}

/** SEAL's load of a ciphertext whose structure `checkCiphertext` has accepted. */
export function loadCiphertext(ctx: HeContext, bytes: Uint8Array, what: string): CipherText {
  const ct = ctx.seal.CipherText();
  try {
    ct.loadArray(ctx.context, bytes);
    return ct;
  } catch (error) {
    ct.delete();
    throw new FormatError(`encrypted ${what}: SEAL refused the ciphertext`, { cause: error });
  }
}

/** Encodes `slots` at the fresh scale and hands the plaintext to `encrypt`, freeing it afterwards. */
export function encryptSlots<T>(ctx: HeContext, slots: Float64Array, encrypt: (plain: ReturnType<HeContext['seal']['PlainText']>) => T): T {
  const plain = ctx.seal.PlainText();
  try {
    ctx.encoder.encode(slots, ctx.scale, plain);
    return encrypt(plain);
  } finally {
    plain.delete();
  }
}
