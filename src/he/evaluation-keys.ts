/**
 * The public half of a key pair: what a verification service holds to compute
 * on ciphertexts, and what an enrolment station holds to encrypt templates.
 * The public key encrypts; the relinearisation keys bring a product back to
 * two polynomials; the Galois keys, present when the key holder enabled 1:N
 * search, rotate slots by the steps the search layout folds with.
 *
 * There is no secret key here, and no way to put one in: the envelope kind
 * for evaluation keys carries exactly these parts, each checked in full.
 *
 *   envelope kind evaluationKeys, meta [search chunk or 0]
 *   parts: public key | relinearisation keys [| Galois keys]
 */
import { FormatError } from '../errors.js';
import { encodeEnvelope, HeKind, parseEnvelope } from './envelope.js';
import type { HeContext } from './parameters.js';
import { checkKSwitchKeys, checkPublicKey } from './seal-format.js';
import { searchLayout, type SearchLayout } from './search-layout.js';
import type { GaloisKeys, PublicKey, RelinKeys } from './seal-library.js';

/** Galois keys slots, indexed by Galois element, for each left rotation by `step`: SEAL's element 3^step mod 2N sits at index element >> 1. */
export function galoisIndexes(steps: readonly number[], polyModulusDegree: number): Set<number> {
  const m = BigInt(2 * polyModulusDegree);
  const out = new Set<number>();
  for (const step of steps) {
    let element = 1n;
    for (let i = 0; i < step; i++) element = (element * 3n) % m;
    out.add(Number(element >> 1n));
  }
  return out;
}

/** Public, relinearisation and (for search) Galois keys, loaded into SEAL. */
export class EvaluationKeys {
  private live = true;

  /** @internal Use `readEvaluationKeys`. */
  constructor(
    readonly ctx: HeContext,
    /** @internal */ readonly publicKey: PublicKey,
    /** @internal */ readonly relinKeys: RelinKeys,
    /** @internal */ readonly galoisKeys: GaloisKeys | null,
    /** The search layout's chunk these keys rotate for, or null when search is not enabled. */
    readonly searchChunk: number | null,
  ) {}

  /** Rotations the Galois keys cover, for a search of `dims` dimensions. @throws RangeError when search is not enabled. */
  searchLayout(dims: number): SearchLayout {
    if (this.searchChunk === null) throw new RangeError('these evaluation keys do not enable 1:N search (no Galois keys)');
    return searchLayout(dims, this.searchChunk, this.ctx.slotCount);
  }

  /** Frees the keys; safe to call twice. */
  dispose(): void {
    if (!this.live) return;
    this.live = false;
    this.publicKey.delete();
    this.relinKeys.delete();
    this.galoisKeys?.delete();
  }
}

/** Serialises evaluation keys from SEAL's (seeded) serialisations of each part. */
export function encodeEvaluationKeys(ctx: HeContext, searchChunk: number | null, parts: readonly Uint8Array[]): Uint8Array {
  return encodeEnvelope(ctx.fingerprint, HeKind.evaluationKeys, [searchChunk ?? 0], parts);
}

/**
 * Reads evaluation keys: every part checked in full against the parameter set
 * and the rotations the declared search chunk needs, then loaded into SEAL.
 * @throws FormatError for other parameters, damage, truncation, a secret key, or keys that do not match their declared use.
 */
export function readEvaluationKeys(ctx: HeContext, bytes: Uint8Array): EvaluationKeys {
  const envelope = parseEnvelope(bytes, ctx.fingerprint, HeKind.evaluationKeys);
  const [chunk, ...rest] = envelope.meta;
  if (rest.some((m) => m !== 0)) throw new FormatError('evaluation keys: reserved field set');
  const searchChunk = chunk === 0 ? null : chunk;
  let rotations: readonly number[] = [];
  if (searchChunk !== null) {
    try {
      rotations = searchLayout(1, searchChunk, ctx.slotCount).rotations;
    } catch (error) {
      throw new FormatError(`evaluation keys: ${(error as Error).message}`);
    }
  }
  const expectedParts = searchChunk === null ? 2 : 3;
  if (envelope.parts.length !== expectedParts) throw new FormatError(`evaluation keys: ${envelope.parts.length} parts, expected ${expectedParts}`);
  const n = ctx.parameters.polyModulusDegree;
  const decomposition = ctx.freshLevel.moduli.length;
  const [pk, rk, gk] = envelope.parts as [Uint8Array, Uint8Array, Uint8Array | undefined];
  checkPublicKey(pk, ctx.keyLevel, n, 'public key');
  checkKSwitchKeys(rk, ctx.keyLevel, n, 1, new Set([0]), decomposition, 'relinearisation keys');
  if (gk) checkKSwitchKeys(gk, ctx.keyLevel, n, n, galoisIndexes(rotations, n), decomposition, 'Galois keys');
  const { seal } = ctx;
  const publicKey = seal.PublicKey();
  const relinKeys = seal.RelinKeys();
  const galoisKeys = gk ? seal.GaloisKeys() : null;
  try {
    publicKey.loadArray(ctx.context, pk);
    relinKeys.loadArray(ctx.context, rk);
    if (gk) galoisKeys!.loadArray(ctx.context, gk);
  } catch (error) {
    publicKey.delete();
    relinKeys.delete();
    galoisKeys?.delete();
    throw new FormatError('evaluation keys: SEAL refused the keys', { cause: error });
  }
  return new EvaluationKeys(ctx, publicKey, relinKeys, galoisKeys, searchChunk);
}
