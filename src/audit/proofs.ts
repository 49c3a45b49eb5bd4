/**
 * Verifying Merkle proofs without the tree: the algorithms of RFC 9162
 * §2.1.3.2 (inclusion) and §2.1.4.2 (consistency), which check the proofs
 * that RFC 6962 §2.1.1 and §2.1.2 define. A witness that holds only an old
 * signed head can check with these that a newer head extends it.
 *
 * Sizes are JavaScript safe integers; halving uses division, not 32-bit shifts.
 */
import { HASH_LENGTH, nodeHash } from './merkle.js';
import { constantTimeEqual } from '../util/bytes.js';

const isOdd = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);

function wellFormed(hashes: readonly Uint8Array[]): boolean {
  return hashes.every((h) => h.length === HASH_LENGTH);
}

/**
 * RFC 9162 §2.1.3.2: whether `proof` shows that the leaf with hash `leaf` is
 * at `index` in the tree of `size` leaves whose root is `root`.
 */
export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  if (leaf.length !== HASH_LENGTH || root.length !== HASH_LENGTH || !wellFormed(proof)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && constantTimeEqual(r, root);
}

/**
 * RFC 9162 §2.1.4.2: whether `proof` shows that the tree of `firstSize`
 * leaves with root `firstRoot` is a prefix of the tree of `secondSize`
 * leaves with root `secondRoot`.
 *
 * The trivial cases follow RFC 9162 §2.1.4: every tree extends the empty
 * tree (empty proof), and a tree extends itself when the roots are equal
 * (empty proof). A shrinking tree is never consistent.
 */
export function verifyConsistency(
  firstSize: number,
  secondSize: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(firstSize) || !Number.isSafeInteger(secondSize) || firstSize < 0 || secondSize < firstSize) return false;
  if (firstRoot.length !== HASH_LENGTH || secondRoot.length !== HASH_LENGTH || !wellFormed(proof)) return false;
  if (firstSize === 0) return proof.length === 0;
  if (firstSize === secondSize) return proof.length === 0 && constantTimeEqual(firstRoot, secondRoot);
  // 1. An empty path proves nothing.
  if (proof.length === 0) return false;
  // 2. When the first tree is a perfect subtree, its root starts the path.
  const path = Number.isInteger(Math.log2(firstSize)) ? [firstRoot, ...proof] : [...proof];
  // 3-4.
  let fn = firstSize - 1;
  let sn = secondSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // 5.
  let fr = path[0]!;
  let sr = path[0]!;
  // 6.
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // 7.
  return sn === 0 && constantTimeEqual(fr, firstRoot) && constantTimeEqual(sr, secondRoot);
}
