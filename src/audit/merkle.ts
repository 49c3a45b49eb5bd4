/**
 * The Merkle tree of the audit log, exactly as RFC 6962 §2.1 defines it:
 * leaves hashed as SHA-256(0x00 || entry), interior nodes as
 * SHA-256(0x01 || left || right), the empty tree as SHA-256(""), and a tree
 * of n > 1 leaves split at k, the largest power of two smaller than n.
 *
 * `MerkleTree` appends leaf hashes incrementally and keeps every complete
 * (perfect, aligned) subtree hash, level by level, in flat byte arrays. The
 * root at any earlier size, audit paths (§2.1.1) and consistency proofs
 * (§2.1.2) then cost O(log² n) hashes, never a pass over the leaves.
 */
import { createHash } from 'node:crypto';

/** Length of every hash in the tree (SHA-256). */
export const HASH_LENGTH = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** RFC 6962 §2.1: MTH({}) = SHA-256() = e3b0c442...b855. */
export const EMPTY_ROOT: Uint8Array = new Uint8Array(createHash('sha256').digest());

/** RFC 6962 §2.1: the hash of a leaf, SHA-256(0x00 || entry). */
export function leafHash(entry: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(LEAF_PREFIX).update(entry).digest());
}

/** RFC 6962 §2.1: the hash of an interior node, SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest());
}

/** The largest power of two strictly smaller than n (n ≥ 2): RFC 6962's split point k. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** A growable array of 32-byte hashes in one buffer (a tree level). */
class HashArray {
  private buf = new Uint8Array(HASH_LENGTH * 16);
  length = 0;

  push(hash: Uint8Array): void {
    if ((this.length + 1) * HASH_LENGTH > this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf.set(hash, this.length * HASH_LENGTH);
    this.length++;
  }

  /** A view of hash i (valid until the next push). */
  at(i: number): Uint8Array {
    return this.buf.subarray(i * HASH_LENGTH, (i + 1) * HASH_LENGTH);
  }
}

/**
 * An append-only RFC 6962 Merkle tree over leaf hashes.
 *
 * @example
 * const tree = new MerkleTree();
 * tree.append(leafHash(bytes));
 * const proof = tree.inclusionProof(0, tree.size);
 */
export class MerkleTree {
  /** levels[h][i]: the hash of the perfect subtree of 2^h leaves starting at leaf i·2^h. */
  private readonly levels: HashArray[] = [new HashArray()];

  /** Builds a tree from leaf hashes. */
  static fromLeafHashes(hashes: Iterable<Uint8Array>): MerkleTree {
    const tree = new MerkleTree();
    for (const h of hashes) tree.append(h);
    return tree;
  }

  /** Number of leaves. */
  get size(): number {
    return this.levels[0]!.length;
  }

  /** The leaf hash at `index`. */
  leaf(index: number): Uint8Array {
    this.checkIndex(index, this.size, 'leaf index');
    return this.levels[0]!.at(index).slice();
  }

  /** Appends a leaf hash (32 bytes), completing every subtree it closes. */
  append(hash: Uint8Array): void {
    if (hash.length !== HASH_LENGTH) throw new RangeError(`a leaf hash is ${HASH_LENGTH} bytes, not ${hash.length}`);
    let level = 0;
    let index = this.levels[0]!.length;
    this.levels[0]!.push(hash);
    // A right child closes its parent: hash the pair one level up, and so on.
    while (index % 2 === 1) {
      const row = this.levels[level]!;
      const parent = nodeHash(row.at(index - 1), row.at(index));
      level++;
      (this.levels[level] ??= new HashArray()).push(parent);
      index = (index - 1) / 2;
    }
  }

  /** RFC 6962 §2.1: the Merkle Tree Hash of the first `size` leaves (default: all). */
  root(size = this.size): Uint8Array {
    this.checkSize(size, 'tree size');
    return size === 0 ? EMPTY_ROOT.slice() : this.subtree(0, size);
  }

  /**
   * RFC 6962 §2.1.1: the audit path PATH(m, D[0:size]) for leaf `index` in the
   * tree of the first `size` leaves.
   * @throws RangeError when index ≥ size or size > this.size.
   */
  inclusionProof(index: number, size = this.size): Uint8Array[] {
    this.checkSize(size, 'tree size');
    this.checkIndex(index, size, 'leaf index');
    const proof: Uint8Array[] = [];
    this.path(index, 0, size, proof);
    return proof;
  }

  /**
   * RFC 6962 §2.1.2: the consistency proof PROOF(m, D[0:n]) that the tree of
   * the first m leaves is a prefix of the tree of the first n. Empty when
   * m = 0 or m = n.
   * @throws RangeError when m > n or n > this.size.
   */
  consistencyProof(m: number, n = this.size): Uint8Array[] {
    this.checkSize(n, 'second tree size');
    this.checkSize(m, 'first tree size');
    if (m > n) throw new RangeError(`first tree size ${m} is larger than the second, ${n}`);
    const proof: Uint8Array[] = [];
    if (m > 0 && m < n) this.subproof(m, 0, n, true, proof);
    return proof;
  }

  /**
   * MTH(D[start:end]) for a range of the RFC 6962 decomposition: every such
   * range starts at a multiple of its split point, so its perfect parts are
   * stored and only the right edge is hashed anew.
   */
  private subtree(start: number, end: number): Uint8Array {
    const n = end - start;
    const level = Math.log2(n);
    if (Number.isInteger(level) && start % n === 0) {
      return this.levels[level]!.at(start / n).slice();
    }
    const k = splitPoint(n);
    return nodeHash(this.subtree(start, start + k), this.subtree(start + k, end));
  }

  /** §2.1.1 PATH(m, D[start:end]), appended to `out` (deepest sibling first). */
  private path(m: number, start: number, end: number, out: Uint8Array[]): void {
    const n = end - start;
    if (n === 1) return;
    const k = splitPoint(n);
    if (m < k) {
      this.path(m, start, start + k, out);
      out.push(this.subtree(start + k, end));
    } else {
      this.path(m - k, start + k, end, out);
      out.push(this.subtree(start, start + k));
    }
  }

  /** §2.1.2 SUBPROOF(m, D[start:end], b), appended to `out`. */
  private subproof(m: number, start: number, end: number, complete: boolean, out: Uint8Array[]): void {
    const n = end - start;
    if (m === n) {
      if (!complete) out.push(this.subtree(start, end));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      this.subproof(m, start, start + k, complete, out);
      out.push(this.subtree(start + k, end));
    } else {
      this.subproof(m - k, start + k, end, false, out);
      out.push(this.subtree(start, start + k));
    }
  }

  private checkSize(size: number, what: string): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.size) {
      throw new RangeError(`${what} ${size} is outside the tree (0..${this.size})`);
    }
  }

  private checkIndex(index: number, size: number, what: string): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
      throw new RangeError(`${what} ${index} is outside a tree of ${size} leaves`);
    }
  }
}
