/**
 * Update manifests and rotation statements as documents: signing and
 * verifying, every signed field protected, the one canonical file layout,
 * and strict parsing of malformed, unsigned and oversized input (fuzzed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  MANIFEST_FORMAT,
  manifestDocument,
  manifestHash,
  parseManifest,
  readManifestFile,
  signManifest,
  verifyManifestSignature,
  type UpdateManifest,
} from '../../src/updates/manifest.js';
import { createRotation, readRotationFile, rotationDocument, verifyRotation, writeRotationFile } from '../../src/updates/rotation.js';
import { MAX_DOCUMENT_BYTES, serializeDocument, signedMessage } from '../../src/updates/document.js';
import { encodePublisherKey } from '../../src/keys/publisher.js';
import { BiosealError } from '../../src/errors.js';
import { makePublisher, makeTempDir } from './fixtures.js';

const tmp = makeTempDir();
after(() => tmp.cleanup());
const A = makePublisher();
const B = makePublisher();

const isCode = (code: string) => (e: unknown) => e instanceof BiosealError && e.code === code;

const BODY = {
  name: 'face-detector',
  version: 7,
  file: { name: 'face-detector.bseal', size: 1234, sha256: 'ab'.repeat(32) },
  policy: 'keyfile | recovery & face',
  issuedAt: new Date(Date.UTC(2025, 0, 1)),
  expiresAt: new Date(Date.UTC(2025, 3, 1)),
};

function sample(): UpdateManifest {
  return signManifest(BODY, A.secret);
}

/** The manifest's JSON document as a mutable plain object. */
const docOf = (m: UpdateManifest): any => JSON.parse(serializeDocument(manifestDocument(m)));

describe('manifest signatures', () => {
  test('a signed manifest verifies, survives its file round trip and names its publisher', async () => {
    const m = sample();
    assert.ok(verifyManifestSignature(m));
    assert.deepEqual(m.publisher, A.key);
    const file = tmp.p('sample.json');
    writeFileSync(file, serializeDocument(manifestDocument(m)));
    const back = await readManifestFile(file);
    assert.ok(verifyManifestSignature(back));
    assert.equal(manifestHash(back), manifestHash(m));
  });

  test('the signature covers the canonical body with the format as domain separator', () => {
    const m = sample();
    const body = docOf(m).body;
    const text = new TextDecoder().decode(signedMessage(MANIFEST_FORMAT, body));
    assert.ok(text.startsWith(`${MANIFEST_FORMAT}\0{"expiresAt":`), text);
    assert.ok(!text.includes(' '.repeat(2)));
  });

  // Every signed field, changed to another well-formed value: the signature no longer verifies.
  const tampers: Record<string, (body: any) => void> = {
    name: (b) => (b.name = 'face-detector2'),
    version: (b) => (b.version = 8),
    'file.name': (b) => (b.file.name = 'other.bseal'),
    'file.size': (b) => (b.file.size = 1235),
    'file.sha256': (b) => (b.file.sha256 = 'cd'.repeat(32)),
    policy: (b) => (b.policy = 'keyfile'),
    issuedAt: (b) => (b.issuedAt = '2025-01-01T00:00:01Z'),
    expiresAt: (b) => (b.expiresAt = '2035-04-01T00:00:00Z'),
    publisher: (b) => (b.publisher = encodePublisherKey(B.key)),
  };
  for (const [field, tamper] of Object.entries(tampers)) {
    test(`changing ${field} breaks the signature`, () => {
      const doc = docOf(sample());
      tamper(doc.body);
      const m = parseManifest(doc);
      assert.equal(verifyManifestSignature(m), false);
    });
  }

  test('a signature made by another key than the named publisher fails', () => {
    const doc = docOf(signManifest(BODY, B.secret));
    doc.body.publisher = encodePublisherKey(A.key);
    assert.equal(verifyManifestSignature(parseManifest(doc)), false);
  });

  test('a flipped signature bit fails', () => {
    const doc = docOf(sample());
    doc.signature = (doc.signature[0] === '0' ? '1' : '0') + doc.signature.slice(1);
    assert.equal(verifyManifestSignature(parseManifest(doc)), false);
  });
});

describe('manifest parsing', () => {
  test('unsigned manifests are E_SIGNATURE', () => {
    for (const sig of [undefined, '', null]) {
      const doc = docOf(sample());
      if (sig === undefined) delete doc.signature;
      else doc.signature = sig;
      assert.throws(() => parseManifest(doc), isCode('E_SIGNATURE'), String(sig));
    }
    const doc = docOf(sample());
    doc.signature = doc.signature.toUpperCase();
    assert.throws(() => parseManifest(doc), isCode('E_SIGNATURE'));
  });

  const malformed: Record<string, (doc: any) => void> = {
    'another format': (d) => (d.format = 'bioseal-update-manifest/2'),
    'an unknown top-level field': (d) => (d.extra = 1),
    'an unknown body field': (d) => (d.body.comment = 'x'),
    'a missing body field': (d) => delete d.body.expiresAt,
    'a version of 0': (d) => (d.body.version = 0),
    'a fractional version': (d) => (d.body.version = 1.5),
    'a version beyond 2^53': (d) => (d.body.version = 2 ** 53),
    'a version as text': (d) => (d.body.version = '7'),
    'a name with a slash': (d) => (d.body.name = '../etc'),
    'a name with upper case': (d) => (d.body.name = 'Face'),
    'a file name with a directory': (d) => (d.body.file.name = 'dir/face.bseal'),
    'a hidden file name': (d) => (d.body.file.name = '.face.bseal'),
    'a short digest': (d) => (d.body.file.sha256 = 'ab'),
    'an upper-case digest': (d) => (d.body.file.sha256 = 'AB'.repeat(32)),
    'a zero size': (d) => (d.body.file.size = 0),
    'a non-ASCII policy': (d) => (d.body.policy = 'keyfile\u0000'),
    'a bad timestamp': (d) => (d.body.issuedAt = '2025-01-01'),
    'expiry before issue': (d) => (d.body.expiresAt = '2024-12-31T00:00:00Z'),
    'a bad publisher key': (d) => (d.body.publisher = d.body.publisher.slice(0, -1) + (d.body.publisher.endsWith('a') ? 'b' : 'a')),
    'rotations not a list': (d) => (d.rotations = {}),
    'nine rotations': (d) => (d.rotations = Array.from({ length: 9 }, () => rotationDocument(createRotation(A.secret, B.key)))),
    'a body that is a list': (d) => (d.body = []),
    'a file that is a string': (d) => (d.body.file = 'face.bseal'),
  };
  for (const [what, mutate] of Object.entries(malformed)) {
    test(`${what} is E_FORMAT`, () => {
      const doc = docOf(sample());
      mutate(doc);
      assert.throws(() => parseManifest(doc), isCode('E_FORMAT'));
    });
  }

  test('documents that are not objects are E_FORMAT', () => {
    for (const value of ['manifest', 7, null, [], true]) assert.throws(() => parseManifest(value), isCode('E_FORMAT'), String(value));
  });

  test('files must be in the one canonical layout', async () => {
    const file = tmp.p('layout.json');
    const text = serializeDocument(manifestDocument(sample()));
    const variants = {
      compact: JSON.stringify(JSON.parse(text)),
      'no final newline': text.trimEnd(),
      'reordered fields': JSON.stringify((({ signature, format, body, rotations }) => ({ signature, format, body, rotations }))(JSON.parse(text)), null, 2) + '\n',
      'duplicate key (second value wins in JSON.parse)': text.replace('"version": 7,', '"version": 7,\n    "version": 7,'),
      'escaped spelling of a string': text.replace('"face-detector"', '"face\\u002ddetector"'),
    };
    for (const [what, variant] of Object.entries(variants)) {
      assert.notEqual(variant, text, what);
      writeFileSync(file, variant);
      await assert.rejects(readManifestFile(file), isCode('E_FORMAT'), what);
    }
    writeFileSync(file, text);
    await readManifestFile(file);
  });

  test('oversized, empty, binary and non-JSON files are E_FORMAT; missing ones E_IO', async () => {
    const file = tmp.p('bad.json');
    const text = serializeDocument(manifestDocument(sample()));
    for (const [what, bytes] of [
      ['oversized', Buffer.concat([Buffer.from(text), Buffer.alloc(MAX_DOCUMENT_BYTES, 0x20)])],
      ['empty', Buffer.alloc(0)],
      ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
      ['truncated', Buffer.from(text.slice(0, text.length / 2))],
    ] as const) {
      writeFileSync(file, bytes);
      await assert.rejects(readManifestFile(file), isCode('E_FORMAT'), what);
    }
    await assert.rejects(readManifestFile(tmp.p('absent.json')), isCode('E_IO'));
    await assert.rejects(readManifestFile(tmp.dir), (e: unknown) => e instanceof BiosealError);
  });

  test('fuzz: random byte edits of a manifest file are refused with a typed error, or still verify only if unchanged', async () => {
    const file = tmp.p('fuzz.json');
    const original = Buffer.from(serializeDocument(manifestDocument(sample())));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(original.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), async (edits) => {
        const bytes = Buffer.from(original);
        for (const [at, value] of edits) bytes[at] = value;
        writeFileSync(file, bytes);
        try {
          const m = await readManifestFile(file);
          // Parsed: then its signature verifies only if nothing signed changed.
          if (verifyManifestSignature(m)) assert.equal(manifestHash(m), manifestHash(sample()));
        } catch (error) {
          assert.ok(error instanceof BiosealError, `untyped error: ${String(error)}`);
          assert.ok(['E_FORMAT', 'E_SIGNATURE'].includes(error.code), error.code);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('rotation statements', () => {
  let file: string;
  before(async () => {
    file = tmp.p('rotation.json');
    await writeRotationFile(file, createRotation(A.secret, B.key));
  });

  test('a statement is signed by the old key, names both keys and round-trips', async () => {
    const s = await readRotationFile(file);
    assert.deepEqual(s.from, A.key);
    assert.deepEqual(s.to, B.key);
    assert.ok(verifyRotation(s));
  });

  test('changing either key or the time breaks it; self-rotation and unsigned statements are refused', async () => {
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    const C = makePublisher();
    for (const [field, value] of [['to', encodePublisherKey(C.key)], ['issuedAt', '2001-01-01T00:00:00Z']] as const) {
      const d = structuredClone(doc);
      d.body[field] = value;
      writeFileSync(tmp.p('r2.json'), serializeDocument(d));
      assert.equal(verifyRotation(await readRotationFile(tmp.p('r2.json'))), false, field);
    }
    assert.throws(() => createRotation(A.secret, A.key), isCode('E_FORMAT'));
    const unsigned = structuredClone(doc);
    delete unsigned.signature;
    writeFileSync(tmp.p('r3.json'), serializeDocument(unsigned));
    await assert.rejects(readRotationFile(tmp.p('r3.json')), isCode('E_SIGNATURE'));
    const self = structuredClone(doc);
    self.body.to = self.body.from;
    writeFileSync(tmp.p('r4.json'), serializeDocument(self));
    await assert.rejects(readRotationFile(tmp.p('r4.json')), isCode('E_FORMAT'));
    // A manifest is not a rotation statement, and a rotation's signature is not valid as a manifest's.
    writeFileSync(tmp.p('r5.json'), serializeDocument(manifestDocument(sample())));
    await assert.rejects(readRotationFile(tmp.p('r5.json')), isCode('E_FORMAT'));
  });
});
