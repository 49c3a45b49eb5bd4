/**
 * The verification service's side: computes match scores on ciphertexts with
 * the evaluation keys alone. It cannot decrypt anything (it has no secret key
 * and no way to be given one) and never learns a score: what it returns is
 * encrypted for the key holder.
 *
 * 1:1: one multiplication, relinearisation and rescale; the score sits in the
 * constant coefficient (see `coefficient-encoding.ts`), so no rotation is
 * needed. 1:N: per gallery group, multiply chunk by chunk and add, then one
 * relinearisation, one rescale and log2(chunk) rotate-and-adds (see
 * `search-layout.ts`).
 */
import { Encrypted } from './encrypted.js';
import { HeKind } from './envelope.js';
import type { EvaluationKeys } from './evaluation-keys.js';
import type { CipherText } from './seal-library.js';

export type EncryptedMatchVector = Encrypted<typeof HeKind.matchVector>;
export type EncryptedSearchQuery = Encrypted<typeof HeKind.searchQuery>;
export type EncryptedGalleryGroup = Encrypted<typeof HeKind.galleryGroup>;
export type EncryptedMatchScore = Encrypted<typeof HeKind.matchScore>;
export type EncryptedSearchScores = Encrypted<typeof HeKind.searchScores>;

/** Encrypted matching with evaluation keys only. */
export class HeMatcher {
  /** `keys` (from `readEvaluationKeys`) must outlive the matcher. */
  constructor(private readonly keys: EvaluationKeys) {}

  /**
   * The encrypted inner product of a probe and a stored template (both from `readEncrypted`).
   * @throws RangeError when their dimensions differ.
   * @example const score = matcher.match(probe, template); reply(score.toBytesAndDispose());
   */
  match(probe: EncryptedMatchVector, template: EncryptedMatchVector): EncryptedMatchScore {
    if (probe.dims !== template.dims) throw new RangeError(`probe has ${probe.dims} dimensions, template ${template.dims}`);
    const { ctx } = this.keys;
    const out = ctx.seal.CipherText();
    try {
      ctx.evaluator.multiply(probe.ciphertexts[0]!, template.ciphertexts[0]!, out);
      ctx.evaluator.relinearize(out, this.keys.relinKeys, out);
      ctx.evaluator.rescaleToNext(out, out);
    } catch (error) {
      out.delete();
      throw error;
    }
    return new Encrypted(ctx, HeKind.matchScore, probe.dims, 0, 0, [out]);
  }

  /**
   * The encrypted scores of a query against each gallery group, in order.
   * @throws RangeError when the keys do not enable search, or the layouts differ.
   */
  search(query: EncryptedSearchQuery, groups: readonly EncryptedGalleryGroup[]): EncryptedSearchScores[] {
    const layout = this.keys.searchLayout(query.dims);
    if (query.chunk !== layout.chunk) throw new RangeError(`query chunk ${query.chunk} does not match the keys' ${layout.chunk}`);
    for (const g of groups) {
      if (g.dims !== query.dims || g.chunk !== query.chunk) throw new RangeError('a gallery group has another layout than the query');
    }
    const { ctx } = this.keys;
    const ev = ctx.evaluator;
    const galois = this.keys.galoisKeys!;
    const q = query.ciphertexts;
    const results: EncryptedSearchScores[] = [];
    const scratch = ctx.seal.CipherText();
    try {
      for (const group of groups) {
        const g = group.ciphertexts;
        const acc: CipherText = ctx.seal.CipherText();
        try {
          ev.multiply(q[0]!, g[0]!, acc);
          for (let part = 1; part < q.length; part++) {
            ev.multiply(q[part]!, g[part]!, scratch);
            ev.add(acc, scratch, acc);
          }
          ev.relinearize(acc, this.keys.relinKeys, acc);
          ev.rescaleToNext(acc, acc);
          for (const step of layout.rotations) {
            ev.rotateVector(acc, step, galois, scratch);
            ev.add(acc, scratch, acc);
          }
        } catch (error) {
          acc.delete();
          throw error;
        }
        results.push(new Encrypted(ctx, HeKind.searchScores, query.dims, query.chunk, group.count, [acc]));
      }
    } catch (error) {
      for (const r of results) r.dispose();
      throw error;
    } finally {
      scratch.delete();
    }
    return results;
  }
}
