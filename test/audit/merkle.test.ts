/**
 * The audit log's Merkle tree against RFC 6962: the published Certificate
 * Transparency test vectors (transparency-dev/merkle testonly/constants.go and
 * proof/verify_test.go), then every tree size up to 40 against a second,
 * deliberately naive implementation written straight from the RFC's
 * recursive definitions, then tampered proofs that must fail.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { EMPTY_ROOT, MerkleTree, leafHash, nodeHash } from '../../src/audit/merkle.js';
import { verifyConsistency, verifyInclusion } from '../../src/audit/proofs.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

// RFC 6962 reference: leaf inputs and the root of each prefix (size 0..8).
const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(unhex);
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
// Leaf hashes (level 0 of the reference tree).
const CT_LEAF_HASHES = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
  '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
  '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
  'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
  '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
  'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
  '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
];
// Published audit paths: leaf index (0-based), tree size, path.
const CT_INCLUSION: { index: number; size: number; proof: string[] }[] = [
  { index: 0, size: 8, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { index: 5, size: 8, proof: ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
  { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  { index: 1, size: 5, proof: ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
];
// Published consistency proofs.
const CT_CONSISTENCY: { first: number; second: number; proof: string[] }[] = [
  { first: 1, second: 1, proof: [] },
  { first: 1, second: 8, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { first: 6, second: 8, proof: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
  { first: 2, second: 5, proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
  { first: 6, second: 7, proof: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
];

// ---- A naive implementation, written from RFC 6962 §2.1 as literally as possible. ----
const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const largestPowerOfTwoBelow = (n: number): number => 2 ** Math.ceil(Math.log2(n) - 1);
/** MTH(D[n]) over leaf inputs. */
function mth(d: readonly Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha256();
  if (d.length === 1) return sha256(Uint8Array.of(0), d[0]!);
  const k = largestPowerOfTwoBelow(d.length);
  return sha256(Uint8Array.of(1), mth(d.slice(0, k)), mth(d.slice(k)));
}
/** PATH(m, D[n]). */
function naivePath(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  if (d.length === 1) return [];
  const k = largestPowerOfTwoBelow(d.length);
  return m < k ? [...naivePath(m, d.slice(0, k)), mth(d.slice(k))] : [...naivePath(m - k, d.slice(k)), mth(d.slice(0, k))];
}
/** SUBPROOF(m, D[n], b). */
function naiveSubproof(m: number, d: readonly Uint8Array[], b: boolean): Uint8Array[] {
  if (m === d.length) return b ? [] : [mth(d)];
  const k = largestPowerOfTwoBelow(d.length);
  return m <= k ? [...naiveSubproof(m, d.slice(0, k), b), mth(d.slice(k))] : [...naiveSubproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
}
const naiveProof = (m: number, d: readonly Uint8Array[]): Uint8Array[] => (m === 0 || m === d.length ? [] : naiveSubproof(m, d, true));

const inputs = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => new Uint8Array([i, (i * 7) & 0xff, 0x5a]));
const treeOf = (data: readonly Uint8Array[]): MerkleTree => MerkleTree.fromLeafHashes(data.map(leafHash));
const flip = (b: Uint8Array, bit = 0): Uint8Array => {
  const c = b.slice();
  c[bit >> 3]! ^= 1 << (bit & 7);
  return c;
};

describe('RFC 6962 test vectors', () => {
  test('the empty tree hash is SHA-256 of nothing (e3b0c442...)', () => {
    assert.equal(hex(EMPTY_ROOT), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(hex(new MerkleTree().root()), CT_ROOTS[0]);
  });

  test('leaf hashes are SHA-256(0x00 || input)', () => {
    assert.deepEqual(CT_LEAVES.map((l) => hex(leafHash(l))), CT_LEAF_HASHES);
  });

  test('node hashes are SHA-256(0x01 || left || right)', () => {
    assert.equal(hex(nodeHash(unhex(CT_LEAF_HASHES[0]!), unhex(CT_LEAF_HASHES[1]!))), CT_ROOTS[2]);
  });

  test('the incremental tree gives the published root at every size 0..8, appended one by one', () => {
    const tree = new MerkleTree();
    assert.equal(hex(tree.root()), CT_ROOTS[0]);
    for (let n = 1; n <= 8; n++) {
      tree.append(leafHash(CT_LEAVES[n - 1]!));
      assert.equal(hex(tree.root()), CT_ROOTS[n], `root of size ${n}`);
      for (let m = 0; m <= n; m++) assert.equal(hex(tree.root(m)), CT_ROOTS[m], `root of size ${m} from a tree of ${n}`);
    }
  });

  test('audit paths match the published ones and verify', () => {
    const tree = treeOf(CT_LEAVES);
    for (const v of CT_INCLUSION) {
      const proof = tree.inclusionProof(v.index, v.size);
      assert.deepEqual(proof.map(hex), v.proof, `path for leaf ${v.index} in ${v.size}`);
      assert.ok(verifyInclusion(v.index, v.size, leafHash(CT_LEAVES[v.index]!), v.proof.map(unhex), unhex(CT_ROOTS[v.size]!)));
    }
  });

  test('consistency proofs match the published ones and verify (RFC 9162 §2.1.4.2)', () => {
    const tree = treeOf(CT_LEAVES);
    for (const v of CT_CONSISTENCY) {
      assert.deepEqual(tree.consistencyProof(v.first, v.second).map(hex), v.proof, `proof ${v.first} -> ${v.second}`);
      assert.ok(verifyConsistency(v.first, v.second, unhex(CT_ROOTS[v.first]!), unhex(CT_ROOTS[v.second]!), v.proof.map(unhex)));
    }
  });

  test('trivial consistency cases follow RFC 9162 §2.1.4', () => {
    const r1 = unhex(CT_ROOTS[1]!);
    const r2 = unhex(CT_ROOTS[2]!);
    assert.ok(verifyConsistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, []));
    assert.ok(verifyConsistency(0, 2, EMPTY_ROOT, r2, []), 'every tree extends the empty tree');
    assert.ok(verifyConsistency(1, 1, r1, r1, []));
    assert.ok(!verifyConsistency(1, 1, r1, r2, []), 'same size, different roots');
    assert.ok(!verifyConsistency(0, 1, EMPTY_ROOT, r1, [EMPTY_ROOT]), 'a non-empty proof for size 0');
    assert.ok(!verifyConsistency(1, 1, r1, r1, [EMPTY_ROOT]), 'a non-empty proof for equal sizes');
    assert.ok(!verifyConsistency(2, 1, r2, r1, []), 'a tree that shrank');
    assert.ok(!verifyConsistency(1, 2, r1, r2, []), 'an empty proof for a growing tree');
  });

  test('an inclusion proof for a one-leaf tree is empty, and only the leaf itself verifies', () => {
    const leaf = leafHash(CT_LEAVES[0]!);
    assert.ok(verifyInclusion(0, 1, leaf, [], leaf));
    assert.ok(!verifyInclusion(0, 1, leaf, [], EMPTY_ROOT));
    assert.ok(!verifyInclusion(0, 0, leaf, [], leaf), 'index 0 of an empty tree');
    assert.ok(!verifyInclusion(1, 1, leaf, [], leaf), 'index past the end');
    assert.ok(!verifyInclusion(0, 1, new Uint8Array(31), [], leaf), 'a short leaf hash');
  });
});

describe('every tree size up to 40 against the naive RFC 6962 implementation', () => {
  const MAX = 40;
  const data = inputs(MAX);
  const tree = treeOf(data);

  test('roots agree for every size 0..40', () => {
    for (let n = 0; n <= MAX; n++) assert.equal(hex(tree.root(n)), hex(mth(data.slice(0, n))), `size ${n}`);
  });

  test('every audit path agrees, verifies, and fails when anything about it changes', () => {
    for (let n = 1; n <= MAX; n++) {
      const root = tree.root(n);
      for (let i = 0; i < n; i++) {
        const proof = tree.inclusionProof(i, n);
        assert.deepEqual(proof.map(hex), naivePath(i, data.slice(0, n)).map(hex), `path ${i} in ${n}`);
        const leaf = leafHash(data[i]!);
        assert.ok(verifyInclusion(i, n, leaf, proof, root), `verify ${i} in ${n}`);
        assert.ok(!verifyInclusion(i, n, flip(leaf), proof, root), `tampered leaf ${i}/${n}`);
        assert.ok(!verifyInclusion(i, n, leaf, proof, flip(root, 9)), `tampered root ${i}/${n}`);
        if (i + 1 < n) assert.ok(!verifyInclusion(i + 1, n, leaf, proof, root), `wrong index ${i}/${n}`);
        assert.ok(!verifyInclusion(i, n * 2, leaf, proof, root), `wrong size ${i}/${n}`);
        if (n > 1) assert.ok(!verifyInclusion(i, Math.floor(n / 2), leaf, proof, root), `wrong size ${i}/${Math.floor(n / 2)} instead of ${n}`);
        if (n > 2 && (i ^ 2) < n) assert.ok(!verifyInclusion(i ^ 2, n, leaf, proof, root), `wrong index ${i ^ 2} instead of ${i} in ${n}`);
        assert.ok(!verifyInclusion(i, n, leaf, [...proof, root], root), `extra element ${i}/${n}`);
        for (let k = 0; k < proof.length; k++) {
          const bad = proof.slice();
          bad[k] = flip(bad[k]!, 17);
          assert.ok(!verifyInclusion(i, n, leaf, bad, root), `flipped path[${k}] ${i}/${n}`);
        }
        if (proof.length > 0) assert.ok(!verifyInclusion(i, n, leaf, proof.slice(0, -1), root), `short path ${i}/${n}`);
      }
    }
  });

  test('every consistency proof agrees, verifies, and fails when anything about it changes', () => {
    for (let n = 1; n <= MAX; n++) {
      const second = tree.root(n);
      for (let m = 0; m <= n; m++) {
        const first = tree.root(m);
        const proof = tree.consistencyProof(m, n);
        assert.deepEqual(proof.map(hex), naiveProof(m, data.slice(0, n)).map(hex), `proof ${m} -> ${n}`);
        assert.ok(verifyConsistency(m, n, first, second, proof), `verify ${m} -> ${n}`);
        if (m === 0 || m === n) continue;
        assert.ok(!verifyConsistency(m, n, flip(first), second, proof), `tampered first root ${m}->${n}`);
        assert.ok(!verifyConsistency(m, n, first, flip(second), proof), `tampered second root ${m}->${n}`);
        assert.ok(!verifyConsistency(m, n, second, first, proof), `swapped roots ${m}->${n}`);
        assert.ok(!verifyConsistency(m, n, first, second, []), `empty proof ${m}->${n}`);
        // Wrong sizes (the probes of transparency-dev/merkle's verifier tests).
        for (const [m2, n2] of [[m - 1, n], [m + 1, n], [m ^ 2, n], [m, n * 2], [m, Math.floor(n / 2)]] as const) {
          if (m2 === m && n2 === n) continue;
          assert.ok(!verifyConsistency(m2, n2, first, second, proof), `sizes ${m2}->${n2} instead of ${m}->${n}`);
        }
        assert.ok(!verifyConsistency(m, n, first, second, [...proof, first]), `trailing element ${m}->${n}`);
        assert.ok(!verifyConsistency(m, n, first, second, proof.slice(0, -1)), `truncated proof ${m}->${n}`);
        for (let k = 0; k < proof.length; k++) {
          const bad = proof.slice();
          bad[k] = flip(bad[k]!, 33);
          assert.ok(!verifyConsistency(m, n, first, second, bad), `flipped proof[${k}] ${m}->${n}`);
        }
        // A different history of the same sizes is not consistent with this one.
        const forked = treeOf([...data.slice(0, m - 1), new Uint8Array([0xff]), ...data.slice(m, n)]);
        assert.ok(!verifyConsistency(m, n, first, forked.root(n), proof), `forked history ${m}->${n}`);
      }
    }
  });

  test('out-of-range requests are refused', () => {
    assert.throws(() => tree.inclusionProof(MAX, MAX), RangeError);
    assert.throws(() => tree.inclusionProof(0, MAX + 1), RangeError);
    assert.throws(() => tree.consistencyProof(5, 4), RangeError);
    assert.throws(() => tree.root(MAX + 1), RangeError);
    assert.throws(() => tree.append(new Uint8Array(31)), RangeError);
  });
});

test('property: random leaves, any size, any pair of sizes: the incremental tree matches the naive one', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 24 }), { minLength: 1, maxLength: 40 }), fc.nat(), fc.nat(), (data, a, b) => {
      const tree = treeOf(data);
      const n = 1 + (a % data.length);
      const m = b % (n + 1);
      const i = b % n;
      assert.equal(hex(tree.root(n)), hex(mth(data.slice(0, n))));
      assert.ok(verifyInclusion(i, n, leafHash(data[i]!), tree.inclusionProof(i, n), mth(data.slice(0, n))));
      assert.ok(verifyConsistency(m, n, mth(data.slice(0, m)), mth(data.slice(0, n)), tree.consistencyProof(m, n)));
    }),
    { numRuns: 300 },
  );
});
