/**
 * Encrypted template matching in `bioseal bench he`: the service's 1:1 match
 * (multiply, relinearise, rescale) and its 1:N search over 1,000 packed
 * templates, the device's encryption and decryption apart, the largest error
 * of a decrypted score against the plaintext one, and the sizes of keys and
 * ciphertexts, against the goals (1:1 < 20 ms, 1:1000 < 1 s, error < 1e-4).
 *
 * The embeddings are embedding-like random unit vectors (Gaussian components,
 * normalised); each 1:1 probe is a noisy copy of its template (cosine about
 * 0.8), as a second photo of the same face would be.
 */
import { parseEnvelope, HeKind } from '../he/envelope.js';
import { chunkTemplates, HE_PARAMETERS, HeContext, HeEnroller, HeKeyHolder, HeMatcher, innerProduct, readEncrypted, readEvaluationKeys, unitVector } from '../he/index.js';
import { median, round } from './common.js';

export const HE_GOAL_MATCH_MS = 20;
export const HE_GOAL_SEARCH_MS = 1000;
export const HE_GOAL_MAX_ERROR = 1e-4;
const SEARCH_GOAL_TEMPLATES = 1000;

export interface HeBench {
  readonly parameters: {
    readonly name: string;
    readonly poly_modulus_degree: number;
    readonly coeff_modulus_bits: readonly number[];
    readonly scale_bits: number;
    readonly security_bits: number;
    readonly slots: number;
  };
  readonly dims: number;
  readonly runs: { readonly match: number; readonly search: number };
  /** Key generation on the device (secret, public, relinearisation and Galois keys). */
  readonly keygen_ms: number;
  /** Device: encode and encrypt one probe (median). */
  readonly encrypt_ms: number;
  /** Service: read the probe and the stored template from bytes (median). */
  readonly read_ms: number;
  /** Service: the encrypted 1:1 match, multiply + relinearise + rescale (median). */
  readonly match_1to1_ms: number;
  /** Device: read, decrypt and decode the score (median). */
  readonly decrypt_ms: number;
  readonly search_templates: number;
  readonly search_chunk: number;
  readonly search_groups: number;
  /** Enrolment with the public key: all gallery groups. */
  readonly gallery_encrypt_ms: number;
  /** Device: encrypt one search query. */
  readonly query_encrypt_ms: number;
  /** Service: 1:N over `search_templates` (median), loaded gallery in memory. */
  readonly search_ms: number;
  /** `search_ms` when `search_templates` is 1,000, else null. */
  readonly search_1000_ms: number | null;
  /** Key holder: decrypt every group's scores. */
  readonly search_decrypt_ms: number;
  readonly max_abs_error: number;
  readonly max_abs_error_1to1: number;
  readonly max_abs_error_search: number;
  readonly sizes_bytes: {
    readonly public_key: number;
    readonly relin_keys: number;
    readonly galois_keys: number;
    readonly evaluation_keys: number;
    readonly secret_key: number;
    readonly match_vector: number;
    readonly match_score: number;
    readonly search_query: number;
    readonly gallery_group: number;
    readonly gallery: number;
    readonly search_scores: number;
  };
  readonly goals: {
    readonly match_1to1_ms: { readonly max: number; readonly met: boolean };
    readonly search_1000_ms: { readonly max: number; readonly met: boolean | null };
    readonly max_abs_error: { readonly max: number; readonly met: boolean };
  };
}

/** Deterministic embedding-like unit vectors (xorshift + Box-Muller), so runs compare. */
function embeddings(seed: number): (dims: number) => Float64Array {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 1) / (2 ** 32 + 1);
  };
  return (dims) => unitVector(Array.from({ length: dims }, () => Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next())));
}

function timed<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const value = fn();
  return [value, performance.now() - t0];
}

/** Runs the benchmark: `runs` sets the repetitions (1:1 at least 20 matches, search at least 3). */
export async function benchHe(options: { runs: number; log: (line: string) => void; dims?: number; templates?: number }): Promise<HeBench> {
  const dims = options.dims ?? 1024;
  const templates = options.templates ?? SEARCH_GOAL_TEMPLATES;
  if (!Number.isInteger(templates) || templates < 1 || templates > 100_000) throw new RangeError('templates must be 1..100000');
  const matchRuns = Math.max(20, options.runs * 10);
  const searchRuns = Math.max(3, options.runs);
  const log = options.log;
  const random = embeddings(0x5eed);
  const ctx = await HeContext.create();
  try {
    log(`he: ${HE_PARAMETERS.name} (${HE_PARAMETERS.securityBits}-bit), ${dims} dimensions; generating keys`);
    const [device, keygenMs] = timed(() => HeKeyHolder.generate(ctx, { search: true }));
    const evaluationBytes = device.evaluationKeys();
    const keys = readEvaluationKeys(ctx, evaluationBytes);
    const matcher = new HeMatcher(keys);
    const enroller = new HeEnroller(keys);
    try {
      const keyParts = parseEnvelope(evaluationBytes, ctx.fingerprint, HeKind.evaluationKeys).parts.map((p) => p.length);
      const secretKeyBytes = device.exportSecretKey();
      const secretKeySize = secretKeyBytes.length;
      secretKeyBytes.fill(0);

      // 1:1: the device encrypts its probe, the service matches it against the stored template, the device decrypts.
      log(`he: ${matchRuns} encrypted 1:1 matches (after 3 untimed)`);
      const encryptMs: number[] = [];
      const readMs: number[] = [];
      const matchMs: number[] = [];
      const decryptMs: number[] = [];
      let maxError1to1 = 0;
      let vectorSize = 0;
      let scoreSize = 0;
      for (let i = 0; i < matchRuns + 3; i++) {
        const template = random(dims);
        const noise = random(dims);
        const probe = unitVector(template.map((x, k) => x + 0.75 * noise[k]!));
        const templateBytes = device.encryptMatchVector(template);
        const [probeBytes, encrypt] = timed(() => device.encryptMatchVector(probe));
        const [[p, t], read] = timed(() => [readEncrypted(ctx, probeBytes, HeKind.matchVector), readEncrypted(ctx, templateBytes, HeKind.matchVector)] as const);
        const [result, match] = timed(() => matcher.match(p, t));
        p.dispose();
        t.dispose();
        const scoreBytes = result.toBytesAndDispose();
        const [score, decrypt] = timed(() => device.decryptMatchScore(scoreBytes));
        maxError1to1 = Math.max(maxError1to1, Math.abs(score - innerProduct(probe, template)));
        vectorSize = probeBytes.length;
        scoreSize = scoreBytes.length;
        if (i < 3) continue;
        encryptMs.push(encrypt);
        readMs.push(read);
        matchMs.push(match);
        decryptMs.push(decrypt);
      }

      // 1:N: enrolment with the public key, then the search itself on the loaded gallery.
      const layout = keys.searchLayout(dims);
      const gallery = Array.from({ length: templates }, () => random(dims));
      log(`he: encrypting a gallery of ${templates} templates (${Math.ceil(templates / layout.groupSize)} groups of ${layout.groupSize}) with the public key`);
      const [groupBytes, galleryEncryptMs] = timed(() => chunkTemplates(gallery, layout.groupSize).map((g) => enroller.encryptGalleryGroup(g)));
      const groups = groupBytes.map((b) => readEncrypted(ctx, b, HeKind.galleryGroup));
      const probe = random(dims);
      const [queryBytes, queryEncryptMs] = timed(() => device.encryptSearchQuery(probe));
      const query = readEncrypted(ctx, queryBytes, HeKind.searchQuery);
      let maxErrorSearch = 0;
      let searchDecryptMs = 0;
      let scoresSize = 0;
      const searchMs: number[] = [];
      try {
        matcher.search(query, groups.slice(0, 1)).forEach((r) => r.dispose());
        log(`he: ${searchRuns} searches over ${templates} templates`);
        for (let run = 0; run < searchRuns; run++) {
          const [results, ms] = timed(() => matcher.search(query, groups));
          searchMs.push(ms);
          const resultBytes = results.map((r) => r.toBytesAndDispose());
          if (run > 0) continue;
          scoresSize = resultBytes[0]!.length;
          const [scores, ms2] = timed(() => resultBytes.flatMap((b) => [...device.decryptSearchScores(b)]));
          searchDecryptMs = ms2;
          if (scores.length !== templates) throw new Error(`internal: ${scores.length} scores for ${templates} templates`);
          scores.forEach((s, i) => (maxErrorSearch = Math.max(maxErrorSearch, Math.abs(s - innerProduct(probe, gallery[i]!)))));
        }
      } finally {
        query.dispose();
        for (const g of groups) g.dispose();
      }

      const match1to1 = median(matchMs);
      const search = median(searchMs);
      const search1000 = templates === SEARCH_GOAL_TEMPLATES ? search : null;
      const maxError = Math.max(maxError1to1, maxErrorSearch);
      const ms = (x: number) => round(x, 3);
      return {
        parameters: {
          name: HE_PARAMETERS.name,
          poly_modulus_degree: HE_PARAMETERS.polyModulusDegree,
          coeff_modulus_bits: HE_PARAMETERS.coeffModulusBits,
          scale_bits: HE_PARAMETERS.scaleBits,
          security_bits: HE_PARAMETERS.securityBits,
          slots: ctx.slotCount,
        },
        dims,
        runs: { match: matchRuns, search: searchRuns },
        keygen_ms: ms(keygenMs),
        encrypt_ms: ms(median(encryptMs)),
        read_ms: ms(median(readMs)),
        match_1to1_ms: ms(match1to1),
        decrypt_ms: ms(median(decryptMs)),
        search_templates: templates,
        search_chunk: layout.chunk,
        search_groups: groups.length,
        gallery_encrypt_ms: ms(galleryEncryptMs),
        query_encrypt_ms: ms(queryEncryptMs),
        search_ms: ms(search),
        search_1000_ms: search1000 === null ? null : ms(search1000),
        search_decrypt_ms: ms(searchDecryptMs),
        max_abs_error: maxError,
        max_abs_error_1to1: maxError1to1,
        max_abs_error_search: maxErrorSearch,
        sizes_bytes: {
          public_key: keyParts[0]!,
          relin_keys: keyParts[1]!,
          galois_keys: keyParts[2]!,
          evaluation_keys: evaluationBytes.length,
          secret_key: secretKeySize,
          match_vector: vectorSize,
          match_score: scoreSize,
          search_query: queryBytes.length,
          gallery_group: groupBytes[0]!.length,
          gallery: groupBytes.reduce((n, b) => n + b.length, 0),
          search_scores: scoresSize,
        },
        goals: {
          match_1to1_ms: { max: HE_GOAL_MATCH_MS, met: match1to1 < HE_GOAL_MATCH_MS },
          search_1000_ms: { max: HE_GOAL_SEARCH_MS, met: search1000 === null ? null : search1000 < HE_GOAL_SEARCH_MS },
          max_abs_error: { max: HE_GOAL_MAX_ERROR, met: maxError < HE_GOAL_MAX_ERROR },
        },
      };
    } finally {
      enroller.dispose();
      keys.dispose();
      device.dispose();
    }
  } finally {
    ctx.dispose();
  }
}
