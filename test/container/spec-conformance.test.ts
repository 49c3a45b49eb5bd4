/**
 * docs/FORMAT.md conformance: an independent reader written from the
 * specification alone (node:crypto and @noble/curves, no bioseal key schedule,
 * parser or AEAD code) opens the committed signed vector: parses the header
 * (§2), derives the KEK and unwraps (§3.2, §3.3), checks the commitment and
 * MAC (§3.1, §2.4, §2.5), decrypts every chunk (§4, §4.1) and verifies the
 * publisher signature (§5). If the code and the spec ever drift apart, this
 * test says where.
 */
import assert from 'node:assert/strict';
import { createDecipheriv, createHash, createHmac, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const vectors = path.join(root, 'test', 'vectors');
const index = JSON.parse(readFileSync(path.join(vectors, 'vectors.json'), 'utf8')) as {
  vectors: { name: string; file: string; secrets: { keyfiles: string[] }; publisher: string | null; expect: { sha256?: string; plaintextLength?: number } }[];
};

const hkdf = (ikm: Buffer, salt: Buffer, info: Buffer) => Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
const sha256 = (...parts: Buffer[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
const label = (s: string) => Buffer.from(s, 'latin1');
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);

/** Opens a sealed file following docs/FORMAT.md only. Returns the plaintext and the signature verdict. */
function specOpen(file: Buffer, keyFile: Buffer): { plaintext: Buffer; signed: boolean; signatureValid: boolean } {
  // §2.1 core
  assert.deepEqual([...file.subarray(0, 8)], [0x89, 0x42, 0x53, 0x45, 0x41, 0x4c, 0x0d, 0x0a]);
  assert.equal(file[8], 1);
  assert.equal(file[9], 1);
  const flags = file[10]!;
  assert.equal(flags & ~1, 0);
  const chunkLog2 = file[11]!;
  const length = Number(file.readBigUInt64BE(12));
  const fileId = file.subarray(20, 36);
  const commitment = file.subarray(36, 68);
  const core = file.subarray(0, 68);
  const slotCount = file[68]!;
  const area = file.readUInt32BE(69);
  const signed = (flags & 1) === 1;
  const H = 73 + area + (signed ? 128 : 0) + 64;
  // §2.5 checksum
  assert.deepEqual(sha256(file.subarray(0, H - 32)), file.subarray(H - 32, H));
  // §2.2 slots
  let at = 73;
  let dataKey: Buffer | undefined;
  for (let s = 0; s < slotCount; s++) {
    const n = file.readUInt32BE(at);
    const body = file.subarray(at + 4, at + 4 + n);
    at += 4 + n;
    const k = body[0]!;
    let p = 1;
    const factors: { name: string; params: Buffer }[] = [];
    for (let f = 0; f < k; f++) {
      const m = body[p]!;
      const name = body.subarray(p + 1, p + 1 + m).toString('latin1');
      const plen = body.readUInt16BE(p + 1 + m);
      factors.push({ name, params: body.subarray(p + 3 + m, p + 3 + m + plen) });
      p += 3 + m + plen;
    }
    const F = body.subarray(0, p);
    const kekSalt = body.subarray(p, p + 32);
    const wrapped = body.subarray(p + 32, p + 80);
    assert.equal(p + 80, n);
    if (dataKey || k !== 1 || factors[0]!.name !== 'keyfile') continue;
    // §6.2 key id
    if (!sha256(label('bioseal/v1 keyfile id'), keyFile).subarray(0, 8).equals(factors[0]!.params)) continue;
    // §3.2 KEK, §3.3 unwrap
    const ikm = Buffer.concat([u16(keyFile.length), keyFile]);
    const kek = hkdf(ikm, kekSalt, Buffer.concat([label('bioseal/v1 slot kek'), fileId, F]));
    const d = createDecipheriv('aes-256-gcm', kek, Buffer.alloc(12));
    d.setAAD(label('bioseal/v1 slot wrap'));
    d.setAuthTag(wrapped.subarray(32));
    dataKey = Buffer.concat([d.update(wrapped.subarray(0, 32)), d.final()]);
  }
  assert.equal(at, 73 + area);
  assert.ok(dataKey, 'a slot opened');
  // §3.1 commitment and payload key
  const P = Buffer.alloc(10);
  P[0] = 1;
  P[1] = chunkLog2;
  P.writeBigUInt64BE(BigInt(length), 2);
  assert.deepEqual(hkdf(dataKey, fileId, Buffer.concat([label('bioseal/v1 key commitment'), P])), commitment);
  const payloadKey = hkdf(dataKey, fileId, Buffer.concat([label('bioseal/v1 payload key'), P]));
  // §2.4 MAC
  const macKey = hkdf(dataKey, fileId, label('bioseal/v1 header mac key'));
  assert.deepEqual(createHmac('sha256', macKey).update(file.subarray(0, H - 64)).digest(), file.subarray(H - 64, H - 32));
  // §4 chunks, §4.1 nonces
  const c = 2 ** chunkLog2;
  const N = Math.max(1, Math.ceil(length / c));
  assert.equal(file.length, H + length + 16 * N);
  const out: Buffer[] = [];
  const hashes: Buffer[] = [];
  for (let i = 0; i < N; i++) {
    const plen = i === N - 1 ? length - i * c : c;
    const start = H + i * (c + 16);
    const sealed = file.subarray(start, start + plen + 16);
    hashes.push(sha256(sealed));
    const nonce = Buffer.alloc(12);
    nonce.writeUIntBE(i, 5, 6); // 11-byte big-endian counter (bytes 0..10); i < 2^48 here
    nonce[11] = i === N - 1 ? 1 : 0;
    const d = createDecipheriv('aes-256-gcm', payloadKey, nonce);
    d.setAuthTag(sealed.subarray(plen));
    out.push(d.update(sealed.subarray(0, plen)), d.final());
  }
  // §5.1 digest, §5.2 message, §5.3 verification
  let signatureValid = false;
  if (signed) {
    const block = file.subarray(73 + area, 73 + area + 128);
    const count = Buffer.alloc(8);
    count.writeBigUInt64BE(BigInt(N));
    const digest = sha256(label('bioseal/v1 payload digest\0'), count, ...hashes);
    assert.deepEqual(digest, block.subarray(32, 64));
    const message = Buffer.concat([label('bioseal/v1 publisher signature\0'), core, digest]);
    signatureValid = ed25519.verify(block.subarray(64, 128), message, block.subarray(0, 32), { zip215: false });
  }
  return { plaintext: Buffer.concat(out), signed, signatureValid };
}

for (const name of ['signed', 'multi-chunk', 'empty', 'chunk-plus-one', 'two-slots-keyfile']) {
  test(`an independent reader written from docs/FORMAT.md opens vector "${name}"`, () => {
    const v = index.vectors.find((x) => x.name === name)!;
    const file = readFileSync(path.join(vectors, v.file));
    const result = specOpen(file, Buffer.from(v.secrets.keyfiles[0]!, 'hex'));
    assert.equal(result.plaintext.length, v.expect.plaintextLength);
    assert.equal(sha256(result.plaintext).toString('hex'), v.expect.sha256);
    if (v.publisher) {
      assert.ok(result.signed && result.signatureValid);
      assert.equal(file.subarray(file.readUInt32BE(69) + 73, file.readUInt32BE(69) + 105).toString('hex'), v.publisher);
    }
  });
}
