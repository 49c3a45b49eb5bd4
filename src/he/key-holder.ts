/**
 * The key holder: the device (for 1:1 verification against its own enrolled
 * template) or the party a deployment names (for 1:N search over a gallery).
 * It alone holds the secret key: it generates the key pair, hands the
 * evaluation keys to the service, encrypts probes, and decrypts the scores
 * the service returns. The service sees ciphertexts only, and never a score.
 *
 * The device should not send a decrypted score back as it is: CKKS
 * decryptions carry noise that, given to someone holding the ciphertext,
 * leaks information about the secret key (Li and Micciancio, EUROCRYPT 2021).
 * Send the decision (match or not), or nothing.
 *
 * Ciphertexts the key holder makes with its secret key are seeded (SEAL's
 * symmetric "serializable" form): the second polynomial travels as a 64-byte
 * seed, halving the upload.
 */
import { FormatError } from '../errors.js';
import { matchScoreFromSlots, matchSlots } from './coefficient-encoding.js';
import { unitVector } from './embedding.js';
import { encryptSlots, readEncrypted } from './encrypted.js';
import { encodeEnvelope, HeKind, parseEnvelope } from './envelope.js';
import { encodeEvaluationKeys } from './evaluation-keys.js';
import type { HeContext } from './parameters.js';
import { checkSecretKey } from './seal-format.js';
import { DEFAULT_SEARCH_CHUNK, querySlots, searchLayout } from './search-layout.js';
import type { Decryptor } from 'node-seal/implementation/decryptor.js';
import type { Encryptor } from 'node-seal/implementation/encryptor.js';
import type { SecretKey } from './seal-library.js';

export interface KeyHolderOptions {
  /**
   * Enable 1:N search with this chunk (Galois keys for its rotations are made):
   * a power of two; `true` for the default (32). Default: 1:1 only, no Galois keys.
   */
  readonly search?: boolean | number;
}

/** A secret key and what it does: encrypt probes and templates, decrypt scores. */
export class HeKeyHolder {
  readonly ctx: HeContext;
  /** The search chunk of this key pair, or null when only 1:1 matching is enabled. */
  readonly searchChunk: number | null;
  private secretKey: SecretKey | null;
  private readonly encryptor: Encryptor;
  private readonly decryptor: Decryptor;
  private readonly evaluationKeyBytes: Uint8Array;

  private constructor(ctx: HeContext, secretKey: SecretKey, searchChunk: number | null) {
    this.ctx = ctx;
    this.searchChunk = searchChunk;
    this.secretKey = secretKey;
    const { seal } = ctx;
    const generator = seal.KeyGenerator(ctx.context, secretKey);
    try {
      const none = seal.ComprModeType.none;
      const publicKey = generator.createPublicKey();
      const parts: Uint8Array[] = [];
      try {
        this.encryptor = seal.Encryptor(ctx.context, publicKey, secretKey);
        // The public key travels seeded too: the same key, in half the bytes.
        const serializable = [generator.createPublicKeySerializable(), generator.createRelinKeysSerializable()];
        if (searchChunk !== null) {
          const steps = searchLayout(1, searchChunk, ctx.slotCount).rotations;
          serializable.push(generator.createGaloisKeysSerializable(Int32Array.from(steps)));
        }
        for (const s of serializable) {
          parts.push(s.saveArray(none));
          s.delete();
        }
      } finally {
        publicKey.delete();
      }
      this.evaluationKeyBytes = encodeEvaluationKeys(ctx, searchChunk, parts);
      this.decryptor = seal.Decryptor(ctx.context, secretKey);
    } finally {
      generator.delete();
    }
  }

  /**
   * Generates a new key pair on this device.
   * @example const device = HeKeyHolder.generate(ctx); send(device.evaluationKeys());
   */
  static generate(ctx: HeContext, options: KeyHolderOptions = {}): HeKeyHolder {
    const chunk = searchChunkOf(ctx, options);
    const generator = ctx.seal.KeyGenerator(ctx.context);
    let secretKey: SecretKey;
    try {
      secretKey = generator.secretKey();
    } finally {
      generator.delete();
    }
    return new HeKeyHolder(ctx, secretKey, chunk);
  }

  /**
   * Restores a key holder from `exportSecretKey()`'s bytes (fresh evaluation
   * keys are derived from it). The options must match the original's for its
   * search queries to fit the service's Galois keys.
   * @throws FormatError for anything but a whole secret key of this parameter set.
   */
  static fromSecretKey(ctx: HeContext, bytes: Uint8Array, options: KeyHolderOptions = {}): HeKeyHolder {
    const chunk = searchChunkOf(ctx, options);
    const envelope = parseEnvelope(bytes, ctx.fingerprint, HeKind.secretKey);
    if (envelope.parts.length !== 1 || envelope.meta.some((m) => m !== 0)) throw new FormatError('secret key: unexpected fields');
    checkSecretKey(envelope.parts[0]!, ctx.keyLevel, ctx.parameters.polyModulusDegree, 'secret key');
    const secretKey = ctx.seal.SecretKey();
    try {
      secretKey.loadArray(ctx.context, envelope.parts[0]!);
    } catch (error) {
      secretKey.delete();
      throw new FormatError('secret key: SEAL refused it', { cause: error });
    }
    return new HeKeyHolder(ctx, secretKey, chunk);
  }

  /** What the service needs: public, relinearisation and (with search) Galois keys. No secret. */
  evaluationKeys(): Uint8Array {
    return this.evaluationKeyBytes.slice();
  }

  /**
   * The secret key, for the device to keep (sealed or in its keystore: these
   * bytes open every score). Wipe them after storing.
   */
  exportSecretKey(): Uint8Array {
    const bytes = this.key().saveArray(this.ctx.seal.ComprModeType.none);
    try {
      return encodeEnvelope(this.ctx.fingerprint, HeKind.secretKey, [], [bytes]);
    } finally {
      bytes.fill(0);
    }
  }

  /**
   * Encrypts an embedding (scaled to unit length) for a 1:1 match: a probe
   * to compare, or the template the service stores.
   * @throws RangeError for an empty, non-finite or oversized embedding.
   */
  encryptMatchVector(embedding: ArrayLike<number>): Uint8Array {
    const v = unitVector(embedding);
    const part = this.encryptSeeded(matchSlots(v, this.ctx.parameters.polyModulusDegree));
    return encodeEnvelope(this.ctx.fingerprint, HeKind.matchVector, [v.length], [part]);
  }

  /**
   * Encrypts an embedding (scaled to unit length) as a 1:N search query.
   * @throws RangeError when search is not enabled, or for a bad embedding.
   */
  encryptSearchQuery(embedding: ArrayLike<number>): Uint8Array {
    if (this.searchChunk === null) throw new RangeError('this key pair does not enable 1:N search');
    const v = unitVector(embedding);
    const layout = searchLayout(v.length, this.searchChunk, this.ctx.slotCount);
    const parts: Uint8Array[] = [];
    for (let part = 0; part < layout.parts; part++) parts.push(this.encryptSeeded(querySlots(layout, v, part)));
    return encodeEnvelope(this.ctx.fingerprint, HeKind.searchQuery, [v.length, layout.chunk], parts);
  }

  /**
   * Decrypts the score of a 1:1 match: the inner product (cosine similarity)
   * of probe and template, within about 1e-9.
   * @throws FormatError for anything but an encrypted match score of this parameter set.
   */
  decryptMatchScore(bytes: Uint8Array): number {
    const score = readEncrypted(this.ctx, bytes, HeKind.matchScore);
    try {
      return matchScoreFromSlots(this.decryptSlots(score.ciphertexts[0]!));
    } finally {
      score.dispose();
    }
  }

  /**
   * Decrypts the scores of one gallery group: one inner product per template, in enrolment order.
   * @throws FormatError for anything but encrypted search scores of this parameter set.
   */
  decryptSearchScores(bytes: Uint8Array): Float64Array {
    const scores = readEncrypted(this.ctx, bytes, HeKind.searchScores);
    try {
      return this.decryptSlots(scores.ciphertexts[0]!).slice(0, scores.count);
    } finally {
      scores.dispose();
    }
  }

  /** Frees the secret key and SEAL's objects; safe to call twice. */
  dispose(): void {
    if (!this.secretKey) return;
    this.encryptor.delete();
    this.decryptor.delete();
    this.secretKey.delete();
    this.secretKey = null;
  }

  private key(): SecretKey {
    if (!this.secretKey) throw new RangeError('key holder already disposed');
    return this.secretKey;
  }

  private encryptSeeded(slots: Float64Array): Uint8Array {
    this.key();
    return encryptSlots(this.ctx, slots, (plain) => {
      const serializable = this.encryptor.encryptSymmetricSerializable(plain);
      try {
        return serializable.saveArray(this.ctx.seal.ComprModeType.none);
      } finally {
        serializable.delete();
      }
    });
  }

  private decryptSlots(ct: Parameters<Decryptor['decrypt']>[0]): Float64Array {
    this.key();
    const plain = this.ctx.seal.PlainText();
    try {
      this.decryptor.decrypt(ct, plain);
      return this.ctx.encoder.decode(plain);
    } finally {
      plain.delete();
    }
  }
}

function searchChunkOf(ctx: HeContext, options: KeyHolderOptions): number | null {
  if (options.search === undefined || options.search === false) return null;
  const chunk = options.search === true ? DEFAULT_SEARCH_CHUNK : options.search;
  searchLayout(1, chunk, ctx.slotCount);
  return chunk;
}
