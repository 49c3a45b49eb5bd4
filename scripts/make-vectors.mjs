#!/usr/bin/env node
/**
 * Generates the .bseal test vectors in test/vectors/ and their index,
 * test/vectors/vectors.json (in the spirit of age's testkit).
 *
 * Run once, after building (`npx tsc -p tsconfig.json`):
 *
 *     node scripts/make-vectors.mjs
 *
 * Sealing is randomised (data key, file id, slot salts), so every run gives
 * different bytes; the generated files are committed and
 * test/container/vectors.test.ts checks them without regenerating anything.
 * A reader in another language needs only vectors.json and the files: the
 * secrets to try, the publisher key to pin, and the expected outcome.
 *
 * Secrets are fixed and public (they protect nothing): key files are
 * SHA-256 of a label, the passphrase is plain text, the publisher secret is
 * SHA-256 of a label.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'test', 'vectors');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'bioseal-vectors-'));

// Cheap Argon2id (recorded in the recovery slot; readers use what the slot says).
process.env.BIOSEAL_ARGON2_MEMORY_KIB = '8192';
process.env.BIOSEAL_HOME = path.join(scratch, 'home');

const dist = (p) => import(path.join(root, 'dist', 'src', p));
const { sealFile } = await dist('container/seal.js');
const { parseHeader, headerLengthFromPrefix, coreOf } = await dist('container/format.js');
const { encodeHeader, deriveKeyCommitment } = await dist('container/keyschedule.js');
const { unlockHeader } = await dist('container/open.js');
const { publisherPublicKey } = await dist('container/signature.js');
const { slotMaterialForBranch, factorProvider } = await dist('factors/registry.js');
const { passphraseBytes } = await dist('factors/inputs.js');

const sha256 = (data) => createHash('sha256').update(data).digest();
const hex = (b) => Buffer.from(b).toString('hex');

const KEYFILE = sha256('bioseal/v1 test vector keyfile 1');
const WRONG_KEYFILE = sha256('bioseal/v1 test vector keyfile 2');
const PASSPHRASE = 'correct horse battery staple';
const WRONG_PASSPHRASE = 'correct horse battery stapler';
const PUBLISHER_SECRET = sha256('bioseal/v1 test vector publisher');
const PUBLISHER = publisherPublicKey(new Uint8Array(PUBLISHER_SECRET));
const OTHER_PUBLISHER = publisherPublicKey(new Uint8Array(sha256('bioseal/v1 test vector other publisher')));

/** Plaintext of n bytes: SHA-256("bioseal/v1 test vector plaintext" || u32be(block)) for block = 0, 1, ..., truncated. */
function plaintext(n) {
  const out = Buffer.alloc(n);
  for (let block = 0; block * 32 < n; block++) {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(block);
    sha256(Buffer.concat([Buffer.from('bioseal/v1 test vector plaintext'), counter])).copy(out, block * 32);
  }
  return out;
}

const keyfileSlot = (key) => slotMaterialForBranch(['keyfile'], { keyFiles: [new Uint8Array(key)] });
const recoverySlot = () => slotMaterialForBranch(['recovery'], { passphrase: async () => passphraseBytes(PASSPHRASE) });

async function seal(name, size, options = {}) {
  const file = path.join(scratch, name);
  await sealFile({
    input: new Uint8Array(plaintext(size)),
    output: file,
    chunkLog2: 12,
    slots: options.slots ?? [await keyfileSlot(KEYFILE)],
    signingKey: options.signed ? new Uint8Array(PUBLISHER_SECRET) : undefined,
  });
  return new Uint8Array(readFileSync(file));
}

function headerLength(bytes) {
  return headerLengthFromPrefix(bytes);
}

function fixChecksum(bytes, length = headerLength(bytes)) {
  sha256(bytes.subarray(0, length - 32)).copy(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), length - 32);
  return bytes;
}

function setByte(bytes, at, value, fix = true) {
  const out = bytes.slice();
  const length = headerLength(bytes);
  out[at] = value;
  return fix ? fixChecksum(out, length) : out;
}

async function dataKeyOf(bytes) {
  const header = parseHeader(bytes.subarray(0, headerLength(bytes)));
  const { dataKey } = await unlockHeader(header, factorProvider({ keyFiles: [new Uint8Array(KEYFILE)] }));
  return { header, dataKey };
}

const files = new Map();
const vectors = [];

function addFile(file, bytes) {
  if (files.has(file)) throw new Error(`duplicate file ${file}`);
  files.set(file, bytes);
}

function ok(size) {
  return { result: 'ok', plaintextLength: size, sha256: hex(sha256(plaintext(size))) };
}

function error(code) {
  return { result: 'error', code };
}

/**
 * header: outcome of parseHeader on the first headerLengthFromPrefix(file) bytes ("ok" or an error code).
 * expect: outcome of opening the file with `secrets` (and `publisher` pinned when given).
 */
function vector(name, file, description, expect, extra = {}) {
  vectors.push({
    name,
    file,
    description,
    secrets: extra.secrets ?? { keyfiles: [hex(KEYFILE)], passphrase: null },
    publisher: extra.publisher ?? null,
    header: extra.header ?? 'ok',
    expect,
    ...(extra.signature ? { signature: extra.signature } : {}),
  });
}

// ---- valid files -----------------------------------------------------------

for (const [name, size, description] of [
  ['empty', 0, 'empty payload: one chunk holding only a 16-byte tag, sealed with the last-chunk flag'],
  ['one-byte', 1, '1-byte payload in one chunk'],
  ['one-chunk', 4096, 'exactly one full 4 KiB chunk (the full chunk is the last one)'],
  ['chunk-plus-one', 4097, 'one full 4 KiB chunk and a final 1-byte chunk'],
  ['multi-chunk', 10000, 'three 4 KiB-chunk payload: two full chunks and a final 1808-byte chunk'],
]) {
  addFile(`${name}.bseal`, await seal(`${name}.bseal`, size));
  vector(name, `${name}.bseal`, description, ok(size));
}
const oneByte = files.get('one-byte.bseal');
const multi = files.get('multi-chunk.bseal');

addFile('two-slots.bseal', await seal('two-slots.bseal', 1000, { slots: [await keyfileSlot(KEYFILE), await recoverySlot()] }));
vector('two-slots-keyfile', 'two-slots.bseal', 'two slots (keyfile | recovery), opened with the key file', ok(1000));
vector('two-slots-passphrase', 'two-slots.bseal', 'two slots (keyfile | recovery), opened with the passphrase through Argon2id (slot 1)', ok(1000), {
  secrets: { keyfiles: [], passphrase: PASSPHRASE },
});
vector('two-slots-wrong-passphrase', 'two-slots.bseal', 'two slots, a wrong passphrase and no key file', error('E_AUTH'), {
  secrets: { keyfiles: [], passphrase: WRONG_PASSPHRASE },
});
vector('two-slots-wrong-keyfile', 'two-slots.bseal', 'two slots, a wrong key file and no passphrase', error('E_AUTH'), {
  secrets: { keyfiles: [hex(WRONG_KEYFILE)], passphrase: null },
});

addFile('signed.bseal', await seal('signed.bseal', 5000, { signed: true }));
vector('signed', 'signed.bseal', 'publisher-signed (Ed25519) file, publisher pinned', ok(5000), { publisher: hex(PUBLISHER), signature: 'valid' });
vector('signed-unpinned', 'signed.bseal', 'publisher-signed file opened without pinning a publisher (the signature is still verified)', ok(5000), {
  signature: 'valid',
});
vector('signed-wrong-publisher', 'signed.bseal', 'signed file, a different publisher pinned', error('E_SIGNATURE'), {
  publisher: hex(OTHER_PUBLISHER),
  signature: 'valid',
});
vector('unsigned-publisher-required', 'multi-chunk.bseal', 'unsigned file, a publisher pinned', error('E_SIGNATURE'), {
  publisher: hex(PUBLISHER),
  signature: 'unsigned',
});
vector('wrong-key', 'multi-chunk.bseal', 'valid file, a key file that matches no slot', error('E_AUTH'), {
  secrets: { keyfiles: [hex(WRONG_KEYFILE)], passphrase: null },
});

// ---- header mutations (base: one-byte.bseal; checksum recomputed unless noted) ----

const headerMutations = [
  ['bad-magic', setByte(oneByte, 1, 0x62), 'magic "\\x89bSEAL\\r\\n" (lower-case b)'],
  ['version-2', setByte(oneByte, 8, 2), 'format version 2'],
  ['unknown-suite', setByte(oneByte, 9, 2), 'cipher suite 2'],
  ['unknown-flag', setByte(oneByte, 10, 0x02), 'flags 0x02 (undefined flag bit)'],
  ['chunk-log2-11', setByte(oneByte, 11, 11), 'chunk size 2^11, below the minimum 2^12'],
  ['chunk-log2-25', setByte(oneByte, 11, 25), 'chunk size 2^25, above the maximum 2^24'],
  ['slot-count-0', setByte(oneByte, 68, 0), 'slot count 0'],
  ['slot-count-2', setByte(oneByte, 68, 2), 'slot count 2 with one slot in the slot area'],
];
for (const [name, bytes, description] of headerMutations) {
  addFile(`${name}.bseal`, bytes);
  vector(name, `${name}.bseal`, `${description}; checksum recomputed`, error('E_FORMAT'), { header: 'E_FORMAT' });
}
{
  const b = oneByte.slice();
  Buffer.from(b.buffer).writeUInt32BE(256 * 1024 + 1, 69);
  addFile('slot-area-too-large.bseal', b.subarray(0, 73));
  vector('slot-area-too-large', 'slot-area-too-large.bseal', 'a 73-byte prefix announcing a slot area of 256 KiB + 1 (refused before reading it)', error('E_FORMAT'), {
    header: 'E_FORMAT',
  });
}
addFile('truncated-header.bseal', oneByte.subarray(0, 100));
vector('truncated-header', 'truncated-header.bseal', 'file cut inside the slot area (100 bytes)', error('E_FORMAT'), { header: 'E_FORMAT' });
addFile('short-file.bseal', oneByte.subarray(0, 40));
vector('short-file', 'short-file.bseal', 'a 40-byte file, shorter than the fixed 73-byte prefix', error('E_FORMAT'), { header: 'E_FORMAT' });
{
  const h = headerLength(oneByte);
  const b = oneByte.slice();
  b[h - 1] ^= 0x01;
  addFile('wrong-checksum.bseal', b);
  vector('wrong-checksum', 'wrong-checksum.bseal', 'last bit of the header checksum flipped', error('E_TAMPERED'), { header: 'E_TAMPERED' });
  addFile('flipped-mac.bseal', setByte(oneByte, h - 64, oneByte[h - 64] ^ 0x80));
  vector('flipped-mac', 'flipped-mac.bseal', 'one bit of the header MAC flipped, checksum recomputed: parses, fails authentication', error('E_TAMPERED'));
  addFile('flipped-commitment.bseal', setByte(oneByte, 36, oneByte[36] ^ 0x01));
  vector('flipped-commitment', 'flipped-commitment.bseal', 'one bit of the key commitment flipped, checksum recomputed', error('E_TAMPERED'));
  addFile('length-mismatch.bseal', setByte(oneByte, 19, 2));
  vector('length-mismatch', 'length-mismatch.bseal', 'plaintext length 1 -> 2, checksum recomputed: the file is one byte short', error('E_TAMPERED'));
  addFile('flipped-file-id.bseal', setByte(oneByte, 20, oneByte[20] ^ 0x01));
  vector('flipped-file-id', 'flipped-file-id.bseal', 'one bit of the file id flipped, checksum recomputed: every slot KEK changes, so no slot opens (indistinguishable from a wrong key)', error('E_AUTH'));
}

// ---- payload mutations (base: multi-chunk.bseal, 3 chunks of 4 KiB) ----

{
  const h = headerLength(multi);
  const sc = 4096 + 16;
  const chunk = (i) => multi.subarray(h + i * sc, Math.min(h + (i + 1) * sc, multi.length));
  const cat = (...parts) => new Uint8Array(Buffer.concat(parts));
  const add = (name, bytes, description, extra) => {
    addFile(`${name}.bseal`, bytes);
    vector(name, `${name}.bseal`, description, error('E_TAMPERED'), extra);
  };
  add('swapped-chunks', cat(multi.subarray(0, h), chunk(1), chunk(0), chunk(2)), 'chunks 0 and 1 swapped');
  add('duplicated-chunk', cat(multi.subarray(0, h), chunk(0), chunk(0), chunk(2)), 'chunk 0 written twice, chunk 1 dropped (same length)');
  add('truncated-last-chunk', multi.subarray(0, multi.length - 1), 'last byte (of the final tag) removed');
  add('dropped-last-chunk', multi.subarray(0, h + 2 * sc), 'file cut at a chunk boundary: the final chunk is missing');
  add('appended-bytes', cat(multi, Uint8Array.of(0)), 'one zero byte appended after the final chunk');
  const flipped = multi.slice();
  flipped[h + sc + 100] ^= 0x04;
  add('flipped-payload-bit', flipped, 'one ciphertext bit of chunk 1 flipped');
  // Same key file, same length, different content: the header opens, chunk 0 does not.
  const other = await seal('other.bseal', 10000);
  add('header-from-other-file', cat(other.subarray(0, headerLength(other)), multi.subarray(h)), 'the header of another file sealed with the same key file and length, on this payload');

  // A key holder drops the final chunk and rewrites the header: new length, recomputed commitment, valid MAC and checksum.
  const { header, dataKey } = await dataKeyOf(multi);
  const core = { ...coreOf(header), plaintextLength: 8192n };
  const rewritten = encodeHeader(dataKey, { ...core, keyCommitment: deriveKeyCommitment(dataKey, core) }, header.slots);
  add('keyholder-truncation', cat(rewritten, chunk(0), chunk(1)), 'a data-key holder dropped the final chunk and rewrote the header (length 8192, commitment, MAC, checksum all recomputed): the payload key is bound to the length');
}
{
  const signed = files.get('signed.bseal');
  const { header, dataKey } = await dataKeyOf(signed);
  const sig = header.signature;
  const bad = sig.signature.slice();
  bad[0] ^= 0x01;
  const rewritten = encodeHeader(dataKey, coreOf(header), header.slots, { ...sig, signature: bad });
  addFile('signed-bad-signature.bseal', new Uint8Array(Buffer.concat([rewritten, signed.subarray(headerLength(signed))])));
  vector('signed-bad-signature', 'signed-bad-signature.bseal', 'signature bytes changed by a data-key holder (header MAC and checksum valid)', error('E_SIGNATURE'), {
    publisher: hex(PUBLISHER),
    signature: 'invalid',
  });
}

// ---- write ------------------------------------------------------------------

mkdirSync(outDir, { recursive: true });
for (const f of readdirSync(outDir)) if (f.endsWith('.bseal')) rmSync(path.join(outDir, f));
for (const [file, bytes] of files) writeFileSync(path.join(outDir, file), bytes);
const index = {
  format: 'bioseal .bseal v1 test vectors (docs/FORMAT.md)',
  generator: 'scripts/make-vectors.mjs',
  notes: [
    'secrets.keyfiles: key files to offer, each 32 bytes as hex; secrets.passphrase: recovery passphrase (UTF-8, NFC) or null.',
    'publisher: Ed25519 public key (hex) that must have signed the file, or null for no requirement.',
    'header: outcome of parseHeader on the first headerLengthFromPrefix(file) bytes (the whole file when shorter): "ok" or an error code.',
    'expect: outcome of opening (and of checking) the whole file: "ok" with the plaintext length and SHA-256, or the error code.',
    'signature (optional): outcome of verifying the publisher signature without any secret: "valid", "invalid" or "unsigned".',
    'plaintexts: SHA-256("bioseal/v1 test vector plaintext" || u32be(i)) for i = 0, 1, ..., concatenated and cut to length.',
  ],
  vectors,
};
writeFileSync(path.join(outDir, 'vectors.json'), JSON.stringify(index, null, 2) + '\n');
rmSync(scratch, { recursive: true, force: true });
const total = [...files.values()].reduce((n, b) => n + b.length, 0);
console.log(`${vectors.length} vectors, ${files.size} files, ${total} bytes -> ${path.relative(root, outDir)}`);
