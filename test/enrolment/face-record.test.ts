/**
 * Face enrolment records (src/enrolment/face-record.ts): a strict parser with
 * every field capped, and a MAC under the face secret. What users depend on:
 * a record that was changed never silently gives a match (TamperedError when
 * the owner's face decodes it, no match otherwise), a damaged or hostile
 * record is refused as E_FORMAT before any work, and nothing in a record
 * crashes verification with an untyped error.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { BiosealError } from '../../src/errors.js';
import { enrolFace, verifyFace } from '../../src/enrolment/face.js';
import {
  checkEnrolmentName,
  FACE_RECORD_FORMAT,
  findFaceEnrolmentById,
  listFaceEnrolments,
  loadFaceEnrolment,
  parseFaceEnrolment,
  removeFaceEnrolment,
  saveFaceEnrolment,
  serializeFaceEnrolment,
  verifyFaceEnrolment,
  type FaceEnrolment,
} from '../../src/enrolment/face-record.js';
import { CHEAP_PARAMS, Person } from './synthetic.js';
import { biosealError, faceDir, faceFiles, tempHome } from './helpers.js';

const owner = new Person(2001);
const stranger = new Person(2002);

type Json = Record<string, any>;

const t = tempHome();
let text: string;
let record: FaceEnrolment;

before(async () => {
  const r = await enrolFace({ home: t.home, name: 'owner', samples: owner.samples(5), params: CHEAP_PARAMS });
  text = readFileSync(r.file, 'utf8');
  record = parseFaceEnrolment(text);
});
after(() => t.cleanup());

/** The stored record as JSON, changed by `edit`, serialised again. */
function edited(edit: (o: Json) => void): string {
  const o = JSON.parse(text) as Json;
  edit(o);
  return JSON.stringify(o);
}

function b64(o: Json, key: string, change: (b: Buffer) => Buffer, holder: Json = o): void {
  holder[key] = change(Buffer.from(holder[key] as string, 'base64')).toString('base64');
}

/** What verifying a face against a (possibly changed) record gives: match, no-match, or an error code. */
async function outcome(recordText: string, who: Person = owner): Promise<string> {
  let e: FaceEnrolment;
  try {
    e = parseFaceEnrolment(recordText);
  } catch (error) {
    return error instanceof BiosealError ? `parse:${error.code}` : `parse:untyped ${(error as Error).name}: ${(error as Error).message}`;
  }
  try {
    const r = await verifyFace(e, [who.capture()]);
    return r.match ? 'match' : 'no-match';
  } catch (error) {
    return error instanceof BiosealError ? error.code : `untyped ${(error as Error).name}: ${(error as Error).message}`;
  }
}

describe('round trip', () => {
  test('serialise then parse gives the same record, and the MAC verifies under the face secret', async () => {
    assert.deepEqual(parseFaceEnrolment(serializeFaceEnrolment(record)), record);
    assert.equal(serializeFaceEnrolment(record), text);
    const m = await verifyFace(record, [owner.capture()]);
    assert.ok(m.secret);
    verifyFaceEnrolment(record, m.secret);
    assert.throws(() => verifyFaceEnrolment(record, new Uint8Array(32)), biosealError('E_TAMPERED'));
  });

  test('the record names its format and version 1', () => {
    const o = JSON.parse(text) as Json;
    assert.equal(o.format, FACE_RECORD_FORMAT);
    assert.equal(o.format, 'bioseal-face-enrolment');
    assert.equal(o.version, 1);
  });

  test('the untouched record matches the owner and not a stranger', async () => {
    assert.equal(await outcome(text), 'match');
    assert.equal(await outcome(text, stranger), 'no-match');
  });
});

describe('a tampered record never gives a match', () => {
  // Fields the owner's face still decodes through: the MAC catches them.
  const macCaught: [string, (o: Json) => void][] = [
    ['one commitment bit flipped', (o) => b64(o, 'commitment', (b) => ((b[3]! ^= 0x10), b))],
    ['two indices swapped', (o) => b64(o, 'indices', (b) => Buffer.concat([b.subarray(4, 8), b.subarray(0, 4), b.subarray(8)]))],
    ['the name', (o) => (o.name = 'mallory')],
    ['the id', (o) => (o.id = 'f'.repeat(32))],
    ['the creation date', (o) => (o.created = '2001-01-01T00:00:00.000Z')],
    ['the mac', (o) => b64(o, 'mac', (b) => ((b[0]! ^= 1), b))],
    ['more projected outputs (same prefix)', (o) => (o.projection.outputs = 4096)],
  ];
  for (const [what, edit] of macCaught) {
    test(`${what}: TamperedError on the owner's face, no match for a stranger`, async () => {
      assert.equal(await outcome(edited(edit)), 'E_TAMPERED');
      assert.equal(await outcome(edited(edit), stranger), 'no-match');
    });
  }

  // Fields that change the transform, the code or the secret: nothing decodes.
  const noMatch: [string, (o: Json) => void][] = [
    ['the projection seed', (o) => b64(o, 'seed', (b) => ((b[0]! ^= 1), b), o.projection)],
    ['the seed (one bit of the last byte)', (o) => b64(o, 'seed', (b) => ((b[31]! ^= 0x80), b), o.projection)],
    ['the salt', (o) => b64(o, 'salt', (b) => ((b[0]! ^= 1), b))],
    ['the check value', (o) => b64(o, 'check', (b) => ((b[5]! ^= 4), b))],
    ['the Argon2id passes', (o) => (o.code.kdfPasses = 2)],
    ['the Argon2id memory', (o) => (o.code.kdfMemoryKiB = 128)],
    ['the code (t = 29: a supercode)', (o) => (o.code.t = 29)],
    ['the code (t = 20, another supercode)', (o) => (o.code.t = 20)],
    ['the embedder', (o) => (o.embedder = 'faceres-aligned')],
    ['the cohort', (o) => (o.cohort = 'lfw-2024')],
  ];
  for (const [what, edit] of noMatch) {
    test(`${what}: no match for the owner or a stranger`, async () => {
      const changed = edited(edit);
      assert.equal(await outcome(changed), 'no-match');
      assert.equal(await outcome(changed, stranger), 'no-match');
    });
  }

  test("a record whose commitment, salt and check are swapped for a stranger's: the owner gets no match", async () => {
    const other = tempHome();
    try {
      const r = await enrolFace({ home: other.home, name: 'owner', samples: stranger.samples(4), params: CHEAP_PARAMS });
      const theirs = JSON.parse(readFileSync(r.file, 'utf8')) as Json;
      const changed = edited((o) => {
        for (const k of ['commitment', 'salt', 'check', 'indices', 'projection']) o[k] = theirs[k];
      });
      assert.equal(await outcome(changed), 'no-match');
      // The stranger decodes it, but the MAC (made under the owner's secret) catches the swap.
      assert.equal(await outcome(changed, stranger), 'E_TAMPERED');
    } finally {
      other.cleanup();
    }
  });

  test('structurally broken changes (block count, field size) are E_FORMAT', async () => {
    assert.equal(await outcome(edited((o) => (o.code.blocks = 1))), 'parse:E_FORMAT');
    assert.equal(await outcome(edited((o) => (o.code.m = 9))), 'parse:E_FORMAT');
    assert.equal(await outcome(edited((o) => b64(o, 'commitment', (b) => b.subarray(1)))), 'parse:E_FORMAT');
  });

  test('a code that does not exist (t too large for n) is refused as E_FORMAT, not a crash at verification', async () => {
    // BCH(255, t=128) has no message bits; BCH(31, t=16) neither.
    assert.equal(await outcome(edited((o) => (o.code.t = 128))), 'parse:E_FORMAT');
    const tiny = edited((o) => {
      o.code.m = 5;
      o.code.t = 16;
      o.code.blocks = 16;
      b64(o, 'indices', (b) => b.subarray(0, 31 * 16 * 4));
      b64(o, 'commitment', (b) => b.subarray(0, 62));
    });
    assert.equal(await outcome(tiny), 'parse:E_FORMAT');
  });

  test('projected outputs that are not a multiple of the padded embedding size are E_FORMAT, not a crash', async () => {
    assert.equal(await outcome(edited((o) => (o.projection.outputs = 3000))), 'parse:E_FORMAT');
  });

  test('a changed embedding dimension gives no match (or a typed error), not a crash', async () => {
    const r = await outcome(edited((o) => (o.dimensions = 512)));
    assert.ok(r === 'no-match' || r.startsWith('parse:E_') || /^E_[A-Z_]+$/.test(r), `got ${r}`);
  });
});

describe('the parser refuses malformed records as E_FORMAT', () => {
  const cases: [string, () => string][] = [
    ['larger than 256 KiB', () => text.replace('{', '{' + ' '.repeat(256 * 1024))],
    ['not JSON', () => '{"format": "bioseal-face-enrolment",'],
    ['empty', () => ''],
    ['a JSON array', () => `[${text}]`],
    ['JSON null', () => 'null'],
    ['a JSON string', () => JSON.stringify(text)],
    ['another format string', () => edited((o) => (o.format = 'bioseal-face-enrolment-v2'))],
    ['no format', () => edited((o) => delete o.format)],
    ['version 2', () => edited((o) => (o.version = 2))],
    ['version "1" (a string)', () => edited((o) => (o.version = '1'))],
    ['no version', () => edited((o) => delete o.version)],
    ['a name that is not a string', () => edited((o) => (o.name = 42))],
    ['an id that is not 32 lower-case hex digits', () => edited((o) => (o.id = 'ABCDEF'.padEnd(32, '0')))],
    ['an id of 33 hex digits', () => edited((o) => (o.id = '0'.repeat(33)))],
    ['a created date that is not a string', () => edited((o) => (o.created = 1700000000))],
    ['a created date over 8192 characters', () => edited((o) => (o.created = 'x'.repeat(8193)))],
    ['a cohort that is not a string', () => edited((o) => (o.cohort = null))],
    ['an embedder that is not a string', () => edited((o) => (o.embedder = ['x']))],
    ['dimensions 0', () => edited((o) => (o.dimensions = 0))],
    ['dimensions 8193', () => edited((o) => (o.dimensions = 8193))],
    ['fractional dimensions', () => edited((o) => (o.dimensions = 1023.5))],
    ['dimensions as a string', () => edited((o) => (o.dimensions = '1024'))],
    ['no projection', () => edited((o) => delete o.projection)],
    ['a projection that is an array', () => edited((o) => (o.projection = [1, 2]))],
    ['a seed of 31 bytes', () => edited((o) => b64(o, 'seed', (b) => b.subarray(1), o.projection))],
    ['a seed of 33 bytes', () => edited((o) => b64(o, 'seed', (b) => Buffer.concat([b, Buffer.from([0])]), o.projection))],
    ['a seed that is not base64', () => edited((o) => (o.projection.seed = '!'.repeat(44)))],
    ['a seed in base64url', () => edited((o) => (o.projection.seed = '-_'.repeat(21) + 'AA'))],
    ['outputs 0', () => edited((o) => (o.projection.outputs = 0))],
    ['outputs 65537', () => edited((o) => (o.projection.outputs = 65537))],
    ['fewer outputs than template bits', () => edited((o) => (o.projection.outputs = 256))],
    ['no code', () => edited((o) => delete o.code)],
    ['m = 4', () => edited((o) => (o.code.m = 4))],
    ['m = 11', () => edited((o) => (o.code.m = 11))],
    ['t = 0', () => edited((o) => (o.code.t = 0))],
    ['t = 129', () => edited((o) => (o.code.t = 129))],
    ['blocks = 0', () => edited((o) => (o.code.blocks = 0))],
    ['blocks = 17', () => edited((o) => (o.code.blocks = 17))],
    ['kdfMemoryKiB = 7', () => edited((o) => (o.code.kdfMemoryKiB = 7))],
    ['kdfMemoryKiB over 1 GiB', () => edited((o) => (o.code.kdfMemoryKiB = 1024 * 1024 + 1))],
    ['kdfPasses = 0', () => edited((o) => (o.code.kdfPasses = 0))],
    ['kdfPasses = 33', () => edited((o) => (o.code.kdfPasses = 33))],
    ['indices one entry short', () => edited((o) => b64(o, 'indices', (b) => b.subarray(4)))],
    ['an index out of range', () => edited((o) => b64(o, 'indices', (b) => (b.writeUInt32BE(2048, 8), b)))],
    ['a repeated index', () => edited((o) => b64(o, 'indices', (b) => (b.writeUInt32BE(b.readUInt32BE(0), 4), b)))],
    ['indices that are not base64', () => edited((o) => (o.indices = `${o.indices as string}*`))],
    ['indices with a newline inside', () => edited((o) => (o.indices = (o.indices as string).replace(/^(.{40})/, '$1\n')))],
    ['a commitment one byte long', () => edited((o) => b64(o, 'commitment', (b) => Buffer.concat([b, Buffer.from([0])])))],
    ['a salt of 15 bytes', () => edited((o) => b64(o, 'salt', (b) => b.subarray(1)))],
    ['a check of 31 bytes', () => edited((o) => b64(o, 'check', (b) => b.subarray(1)))],
    ['a mac of 33 bytes', () => edited((o) => b64(o, 'mac', (b) => Buffer.concat([b, Buffer.from([0])])))],
    ['no mac', () => edited((o) => delete o.mac)],
    ['no salt', () => edited((o) => delete o.salt)],
  ];

  test('every cap and type check, one field at a time', () => {
    for (const [what, make] of cases) {
      assert.throws(() => parseFaceEnrolment(make()), biosealError('E_FORMAT'), what);
    }
  });

  test('a name that breaks the naming rule inside a record is E_FORMAT too (a damaged record, not a usage error)', () => {
    for (const name of ['../../etc/passwd', '', 'x'.repeat(65), 'has space']) {
      assert.throws(() => parseFaceEnrolment(edited((o) => (o.name = name))), biosealError('E_FORMAT'), JSON.stringify(name));
    }
  });

  test('boundary values inside the caps parse', () => {
    for (const edit of [(o: Json) => (o.code.kdfPasses = 32), (o: Json) => (o.code.kdfMemoryKiB = 8), (o: Json) => (o.projection.outputs = 65536), (o: Json) => (o.name = 'a'.repeat(64))]) {
      assert.doesNotThrow(() => parseFaceEnrolment(edited(edit)));
    }
  });
});

describe('the record store', () => {
  test('loads by name, lists, finds by id, and removes', async () => {
    const h = tempHome();
    try {
      const a = await enrolFace({ home: h.home, name: 'a', samples: owner.samples(3), params: CHEAP_PARAMS });
      const b = await enrolFace({ home: h.home, name: 'b', samples: stranger.samples(3), params: CHEAP_PARAMS });
      assert.equal(serializeFaceEnrolment(loadFaceEnrolment(h.home, 'a')), serializeFaceEnrolment(a.enrolment));
      assert.deepEqual(listFaceEnrolments(h.home).map((e) => e.name), ['a', 'b']);
      assert.equal(findFaceEnrolmentById(h.home, b.enrolment.id)?.name, 'b');
      assert.equal(findFaceEnrolmentById(h.home, '0'.repeat(32)), undefined);
      removeFaceEnrolment(h.home, 'a');
      assert.deepEqual(faceFiles(h.home), ['b.json']);
    } finally {
      h.cleanup();
    }
  });

  test('a missing enrolment is E_USAGE with the command to make one; a damaged one is E_FORMAT', () => {
    const h = tempHome();
    try {
      assert.throws(() => loadFaceEnrolment(h.home, 'nobody'), biosealError('E_USAGE', /bioseal enroll face/));
      assert.throws(() => loadFaceEnrolment(h.home, '../x'), biosealError('E_USAGE'));
      writeFileSync(path.join(faceDir(h.home), 'broken.json'), '{"format": "bioseal-face-enrolment", "version": 1');
      assert.throws(() => loadFaceEnrolment(h.home, 'broken'), biosealError('E_FORMAT'));
    } finally {
      h.cleanup();
    }
  });

  test('listing skips damaged records and ignores other files', async () => {
    const h = tempHome();
    try {
      await saveFaceEnrolment(h.home, record);
      writeFileSync(path.join(faceDir(h.home), 'broken.json'), 'not json');
      writeFileSync(path.join(faceDir(h.home), 'notes.txt'), 'hello');
      writeFileSync(path.join(faceDir(h.home), 'other.json'), edited((o) => (o.version = 9)));
      assert.deepEqual(listFaceEnrolments(h.home).map((e) => e.id), [record.id]);
    } finally {
      h.cleanup();
    }
  });

  test('saving refuses to replace a record unless asked', async () => {
    const h = tempHome();
    try {
      await saveFaceEnrolment(h.home, record);
      await assert.rejects(saveFaceEnrolment(h.home, record), biosealError('E_EXISTS'));
      await saveFaceEnrolment(h.home, record, { overwrite: true });
      assert.deepEqual(faceFiles(h.home), ['owner.json']);
    } finally {
      h.cleanup();
    }
  });

  test('enrolment names: 1-64 of letters, digits, ".", "_", "-", not starting with a symbol', () => {
    for (const ok of ['default', 'a', 'Alice.Work_2-laptop', 'x'.repeat(64), '0']) assert.doesNotThrow(() => checkEnrolmentName(ok));
    for (const bad of ['', '.', '..', '-x', '_x', 'a/b', 'a\\b', 'x'.repeat(65), 'é', 'a b', 'a\0b']) {
      assert.throws(() => checkEnrolmentName(bad), biosealError('E_USAGE'), JSON.stringify(bad));
    }
  });
});
