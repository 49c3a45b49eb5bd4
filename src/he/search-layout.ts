/**
 * How a 1:N search packs templates into slots, so that one multiplication and
 * a few rotations yield many scores at once.
 *
 * The dimensions are cut into chunks of `chunk` (a power of two). A gallery
 * group holds m = slots / chunk templates; its ciphertext for chunk c puts
 * component c·chunk + p of template b in slot p·m + b. The query's ciphertext
 * for chunk c puts component c·chunk + p of the probe in slots p·m .. p·m + m-1
 * (each component repeated m times). The service multiplies query and group
 * chunk by chunk and adds the products (no rotation yet), relinearises and
 * rescales once, then folds with log2(chunk) rotations by m, 2m, .., slots/2:
 * slot b then holds the score of template b.
 *
 * chunk trades rotations against query size: the query is ceil(d / chunk)
 * ciphertexts, each group costs log2(chunk) rotations. With chunk = d it is
 * the plain layout (one query ciphertext, slots/d templates per group, log2(d)
 * rotations each). At d = 1024 the default chunk of 32 makes a query of 32
 * ciphertexts (4 MiB) and costs 5 rotations per 128 templates: a search over
 * 1,000 templates took about 430 ms here, against 600 ms with chunk 64 (2 MiB
 * queries) and 6.4 s with chunk = d (one 128 KiB query ciphertext, 10
 * rotations per 4 templates). The multiplications, about d·n/slots of them,
 * cost the same in every layout.
 */
import { MAX_DIMENSIONS } from './embedding.js';
import { MAX_ENVELOPE_PARTS } from './envelope.js';

/** The default chunk: see the file comment. */
export const DEFAULT_SEARCH_CHUNK = 32;

export interface SearchLayout {
  readonly dims: number;
  readonly chunk: number;
  readonly slots: number;
  /** Templates per gallery group: slots / chunk. */
  readonly groupSize: number;
  /** Ciphertexts per query and per group: ceil(dims / chunk). */
  readonly parts: number;
  /** The left rotations of the fold: groupSize, 2·groupSize, .., slots/2. */
  readonly rotations: readonly number[];
}

/** The layout for `dims` dimensions. @throws RangeError when chunk is not a power of two from 1 to slots, or dims out of range. */
export function searchLayout(dims: number, chunk: number, slots: number): SearchLayout {
  if (!Number.isInteger(dims) || dims < 1 || dims > MAX_DIMENSIONS) throw new RangeError(`search dimensions must be 1 to ${MAX_DIMENSIONS}`);
  if (!Number.isInteger(chunk) || chunk < 1 || chunk > slots || (chunk & (chunk - 1)) !== 0) {
    throw new RangeError(`search chunk must be a power of two from 1 to ${slots}`);
  }
  const parts = Math.ceil(dims / chunk);
  if (parts > MAX_ENVELOPE_PARTS) throw new RangeError(`${dims} dimensions in chunks of ${chunk} make more than ${MAX_ENVELOPE_PARTS} ciphertexts: use a larger chunk`);
  const groupSize = slots / chunk;
  const rotations: number[] = [];
  for (let step = groupSize; step < slots; step *= 2) rotations.push(step);
  return Object.freeze({ dims, chunk, slots, groupSize, parts, rotations: Object.freeze(rotations) });
}

/** The slots of the query's ciphertext for chunk `part`. */
export function querySlots(layout: SearchLayout, probe: Float64Array, part: number): Float64Array {
  const { chunk, groupSize, slots } = layout;
  const out = new Float64Array(slots);
  for (let p = 0; p < chunk; p++) {
    const k = part * chunk + p;
    if (k >= probe.length) break;
    out.fill(probe[k]!, p * groupSize, (p + 1) * groupSize);
  }
  return out;
}

/** The slots of a group's ciphertext for chunk `part`; templates fill the first slots b < templates.length. */
export function groupSlots(layout: SearchLayout, templates: readonly Float64Array[], part: number): Float64Array {
  const { chunk, groupSize, slots } = layout;
  if (templates.length < 1 || templates.length > groupSize) throw new RangeError(`a gallery group holds 1 to ${groupSize} templates`);
  const out = new Float64Array(slots);
  templates.forEach((t, b) => {
    for (let p = 0; p < chunk; p++) {
      const k = part * chunk + p;
      if (k >= t.length) break;
      out[p * groupSize + b] = t[k]!;
    }
  });
  return out;
}
