/**
 * Encryption with the key holder's public key alone: what an enrolment
 * station (or the enrolling device of a 1:N deployment) does to put templates
 * into the service's encrypted gallery without being able to read them back.
 *
 * A gallery group packs up to slots/chunk templates (128 with the default
 * chunk); the service stores groups as they come and searches them all.
 */
import { matchSlots } from './coefficient-encoding.js';
import { unitVector } from './embedding.js';
import { encryptSlots, Encrypted } from './encrypted.js';
import { encodeEnvelope, HeKind } from './envelope.js';
import type { EvaluationKeys } from './evaluation-keys.js';
import { groupSlots } from './search-layout.js';
import type { Encryptor } from 'node-seal/implementation/encryptor.js';

/** Public-key encryption of templates for the service. */
export class HeEnroller {
  private encryptor: Encryptor | null;

  /** Uses the public key in `keys` (read with `readEvaluationKeys`); `keys` must outlive the enroller. */
  constructor(private readonly keys: EvaluationKeys) {
    this.encryptor = keys.ctx.seal.Encryptor(keys.ctx.context, keys.publicKey);
  }

  /**
   * Encrypts a template for 1:1 matching (the service stores the bytes).
   * @throws RangeError for a bad embedding.
   */
  encryptMatchTemplate(embedding: ArrayLike<number>): Uint8Array {
    const v = unitVector(embedding);
    const ct = this.encrypt(matchSlots(v, this.keys.ctx.parameters.polyModulusDegree));
    return new Encrypted(this.keys.ctx, HeKind.matchVector, v.length, 0, 0, [ct]).toBytesAndDispose();
  }

  /**
   * Encrypts up to one group of templates (all of the same dimensions) in the search layout.
   * @throws RangeError when search is not enabled by the keys, for too many templates, or a bad embedding.
   */
  encryptGalleryGroup(embeddings: readonly ArrayLike<number>[]): Uint8Array {
    if (embeddings.length === 0) throw new RangeError('a gallery group holds at least one template');
    const dims = embeddings[0]!.length;
    const layout = this.keys.searchLayout(dims);
    if (embeddings.length > layout.groupSize) throw new RangeError(`a gallery group holds at most ${layout.groupSize} templates`);
    const templates = embeddings.map((e) => unitVector(e, dims));
    const cts = [];
    try {
      for (let part = 0; part < layout.parts; part++) cts.push(this.encrypt(groupSlots(layout, templates, part)));
    } catch (error) {
      for (const ct of cts) ct.delete();
      throw error;
    }
    return new Encrypted(this.keys.ctx, HeKind.galleryGroup, dims, layout.chunk, templates.length, cts).toBytesAndDispose();
  }

  /** Frees the encryptor; safe to call twice. */
  dispose(): void {
    this.encryptor?.delete();
    this.encryptor = null;
  }

  private encrypt(slots: Float64Array) {
    const encryptor = this.encryptor;
    if (!encryptor) throw new RangeError('enroller already disposed');
    const ctx = this.keys.ctx;
    return encryptSlots(ctx, slots, (plain) => {
      const ct = ctx.seal.CipherText();
      try {
        encryptor.encrypt(plain, ct);
        return ct;
      } catch (error) {
        ct.delete();
        throw error;
      }
    });
  }
}

/** Splits templates into gallery-group-sized runs, in order. */
export function chunkTemplates<T>(templates: readonly T[], groupSize: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < templates.length; i += groupSize) out.push(templates.slice(i, i + groupSize));
  return out;
}
