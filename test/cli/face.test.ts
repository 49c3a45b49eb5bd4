/**
 * The face factor end to end through the real `bioseal` CLI and the real
 * face model (Human on tfjs WASM, loaded offline from node_modules):
 * enroll face, verify face, seal --policy "face & recovery" --face, check
 * --face, inspect, and the typed errors for bad enrolment input.
 *
 * Images: no dataset is needed. The photos come from the demo pictures the
 * @vladmandic/face-api npm package ships (group photos of different people).
 * They hold only one photo of each person, so the three enrolment images and
 * the genuine probe are made from ONE photo of person A by different crops,
 * rescales and brightness changes (sharp). That is honest for testing the
 * plumbing (decode, detect, embed, protect, seal, unlock) but says nothing
 * about accuracy across real captures; `bioseal eval face` on a dataset does.
 * The impostor is a different person from another demo photo.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';

import { EXIT_CODES, exitCodeFor } from '../../src/cli/exit-codes.js';
import { AttemptLimiter } from '../../src/factors/rate-limit.js';
import { EXIT, assertError, assertOk, makeWorkspace, runCli, writePassphrase, type CliOptions, type CliResult } from '../helpers/cli.js';

const ws = makeWorkspace('bioseal-face-cli-');
after(() => ws.cleanup());
const cli = (args: readonly string[], o: CliOptions = {}) => runCli(args, { home: ws.home, cwd: ws.dir, timeoutMs: 120_000, ...o });

function faceApiDemo(file: string): string {
  let dir = path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api'));
  while (path.basename(dir) !== 'face-api') dir = path.dirname(dir);
  return path.join(dir, 'demo', file);
}

/** Person A in sample1.jpg and person B in sample6.jpg: face boxes [x, y, w, h] in the 1920 px photos. */
const PERSON_A = { photo: 'sample1.jpg', box: [333, 316, 352, 352] } as const;
const PERSON_B = { photo: 'sample6.jpg', box: [177, 456, 360, 361] } as const;

/** A JPEG of the face with `margin` x its box around it, `size` px square, brightness scaled by `gain`. */
async function faceJpeg(who: typeof PERSON_A | typeof PERSON_B, out: string, o: { margin: number; size: number; gain?: number }): Promise<string> {
  const [x, y, w, h] = who.box;
  const side = Math.round(Math.max(w, h) * o.margin);
  const left = Math.max(0, Math.round(x + w / 2 - side / 2));
  const top = Math.max(0, Math.round(y + h / 2 - side / 2));
  await sharp(faceApiDemo(who.photo))
    .extract({ left, top, width: side, height: side })
    .resize(o.size, o.size)
    .linear(o.gain ?? 1, 0)
    .jpeg({ quality: 92 })
    .toFile(out);
  return out;
}

const ENROL_DIR = ws.p('enrol');
const PROBE_A = ws.p('probe-a.jpg');
const PROBE_B = ws.p('probe-b.jpg');
const MODEL = ws.p('model.bin');
const SEALED = ws.p('model.bseal');
const PASS_FILE = ws.p('pass.txt');
const FACE_DIR = path.join(ws.home, 'enrolments', 'face');
let enrolmentId = '';

before(async () => {
  mkdirSync(ENROL_DIR);
  await Promise.all([
    faceJpeg(PERSON_A, path.join(ENROL_DIR, 'a1.jpg'), { margin: 1.8, size: 320 }),
    faceJpeg(PERSON_A, path.join(ENROL_DIR, 'a2.jpg'), { margin: 1.6, size: 360, gain: 0.9 }),
    faceJpeg(PERSON_A, path.join(ENROL_DIR, 'a3.jpg'), { margin: 2.0, size: 300, gain: 1.1 }),
    faceJpeg(PERSON_A, PROBE_A, { margin: 1.7, size: 340, gain: 1.05 }),
    faceJpeg(PERSON_B, PROBE_B, { margin: 1.8, size: 320 }),
  ]);
  writeFileSync(path.join(ENROL_DIR, 'notes.txt'), 'not an image: ignored');
  writeFileSync(MODEL, Buffer.alloc(100_000, 7));
  writePassphrase(PASS_FILE, 'face and recovery passphrase');
});

/** A face/enrolment error: non-zero exit, one JSON error document with this code, a message naming what is wrong. */
function assertFaceError(r: CliResult, code: string, message?: RegExp): string {
  const show = `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
  assert.notEqual(r.code, 0, show);
  assert.ok(r.json?.error, `--json error document on stdout; ${show}`);
  assert.equal(r.json.error.code, code, show);
  const m = r.json.error.message as string;
  assert.ok(m.length > 5, `the message says what went wrong; ${show}`);
  assert.doesNotMatch(m, /internal error|undefined|\[object /, show);
  if (message) assert.match(m, message, show);
  return m;
}

/** A directory holding the given files (copied or written). */
function dirWith(name: string, files: Record<string, string | Buffer>): string {
  const dir = ws.p(name);
  mkdirSync(dir);
  for (const [f, content] of Object.entries(files)) writeFileSync(path.join(dir, f), typeof content === 'string' ? readFileSync(content) : content);
  return dir;
}

describe('bioseal face commands: help', () => {
  test('enroll --help and verify --help describe the commands and exit 0', async () => {
    const [e, v] = await Promise.all([cli(['enroll', '--help']), cli(['verify', '--help'])]);
    assertOk(e, 'enroll --help');
    assert.match(e.stdout, /Usage:\n  bioseal enroll face --images DIR/);
    assert.match(e.stdout, /--name NAME/);
    assert.match(e.stdout, /--force/);
    assertOk(v, 'verify --help');
    assert.match(v.stdout, /Usage: bioseal verify face IMAGE/);
    assert.match(v.stdout, /Exits 0 only on a match/);
  });

  test('seal and check --help list --face', async () => {
    const [s, c] = await Promise.all([cli(['seal', '--help']), cli(['check', '--help'])]);
    assert.match(s.stdout, /--face IMAGE/);
    assert.match(s.stdout, /\(face never alone/);
    assert.match(c.stdout, /--face IMAGE/);
  });
});

describe('enrol, verify, seal, check with a real face', () => {
  test('enroll face --images DIR enrols from the three images (other files ignored)', async () => {
    const r = await cli(['enroll', 'face', '--images', ENROL_DIR, '--json']);
    assertOk(r, 'enroll face');
    assert.equal(r.json.ok, true);
    assert.equal(r.json.name, 'default');
    assert.equal(r.json.images, 3);
    assert.equal(r.json.embedder, 'faceres-aligned');
    assert.match(r.json.id, /^[0-9a-f]{32}$/);
    assert.ok(r.json.consistency > 0.35);
    enrolmentId = r.json.id;
    assert.equal(r.json.file, path.join(FACE_DIR, 'default.json'));
    assert.deepEqual(readdirSync(FACE_DIR), ['default.json']);
    assert.equal(statSync(r.json.file).mode & 0o777, 0o600);
    const stored = JSON.parse(readFileSync(r.json.file, 'utf8'));
    assert.equal(stored.format, 'bioseal-face-enrolment');
    assert.equal(stored.embedder, 'faceres-aligned');
  });

  test('verify face on another picture of the same person: MATCH, exit 0', async () => {
    const r = await cli(['verify', 'face', PROBE_A, '--json']);
    assertOk(r, 'verify genuine');
    assert.equal(r.json.match, true);
    assert.equal(r.json.decision, 'match');
    assert.equal(r.json.enrolment, 'default');
    assert.ok(r.json.score > 0.8 && r.json.score <= 1);
    assert.equal(r.json.liveness.passed, true);
  });

  test("verify face on a different person's photo: NO MATCH, exit 3", async () => {
    const r = await cli(['verify', 'face', PROBE_B]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /^NO MATCH: the face does not match the enrolment/m);
    assert.match(r.stdout, /score: +0\.000/);
    assert.match(r.stdout, /liveness: passed/);
  });

  test('seal --policy "face & recovery" --face IMG --passphrase-file F', async () => {
    const r = await cli(['seal', MODEL, '-o', SEALED, '--policy', 'face & recovery', '--face', PROBE_A, '--passphrase-file', PASS_FILE, '--json']);
    assertOk(r, 'seal');
    assert.equal(r.json.slotCount, 1);
    assert.ok(existsSync(SEALED));
  });

  test('inspect shows the face factor and its enrolment id', async () => {
    const r = await cli(['inspect', SEALED, '--json']);
    assertOk(r, 'inspect');
    assert.deepEqual(r.json.slots[0].factors, ['face', 'recovery']);
    assert.deepEqual(r.json.slots[0].details[0], { enrolment: enrolmentId });
    const text = await cli(['inspect', SEALED]);
    assert.match(text.stdout, new RegExp(`slot 0: face & recovery\\s+face\\(enrolment=${enrolmentId}\\)`));
  });

  test('check --face IMG --passphrase-file F opens for the owner', async () => {
    const r = await cli(['check', SEALED, '--face', PROBE_A, '--passphrase-file', PASS_FILE, '--json']);
    assertOk(r, 'check genuine');
    assert.equal(r.json.ok, true);
    assert.equal(r.json.plaintextLength, 100_000);
  });

  test('check with another person\'s face, or with no face, is E_AUTH', async () => {
    assertError(await cli(['check', SEALED, '--face', PROBE_B, '--passphrase-file', PASS_FILE]), 'E_AUTH');
    assertError(await cli(['check', SEALED, '--passphrase-file', PASS_FILE]), 'E_AUTH');
  });

  test('seal --policy face (a face alone) is E_POLICY; --allow-weak-policy is the explicit override', async () => {
    assertError(await cli(['seal', MODEL, '-o', ws.p('weak.bseal'), '--policy', 'face', '--face', PROBE_A]), 'E_POLICY', { message: /face/ });
    assert.equal(existsSync(ws.p('weak.bseal')), false);
  });

  test('after repeated failed face attempts (persisted), verify and check are E_RATE_LIMIT (exit 10) at once', async () => {
    const limiter = new AttemptLimiter(ws.home);
    const key = `face:${enrolmentId}`;
    // 12 failures: the delay is then at its one-hour cap, so however slowly the commands start, it has not run out.
    for (let i = 0; i < 12; i++) limiter.recordFailure(key);
    try {
      const v = await cli(['verify', 'face', PROBE_A]);
      assertError(v, 'E_RATE_LIMIT', { message: /try again in \d+ s/ });
      const c = await cli(['check', SEALED, '--face', PROBE_A, '--passphrase-file', PASS_FILE, '--json']);
      assertError(c, 'E_RATE_LIMIT', { json: true });
    } finally {
      limiter.recordSuccess(key);
    }
  });

  test('enrolling the same name again without --force is E_EXISTS and keeps the enrolment', async () => {
    const before = readFileSync(path.join(FACE_DIR, 'default.json'), 'utf8');
    assertError(await cli(['enroll', 'face', '--images', ENROL_DIR, '--json']), 'E_EXISTS', { json: true, message: /--force/ });
    assert.equal(readFileSync(path.join(FACE_DIR, 'default.json'), 'utf8'), before);
  });
});

describe('bioseal enroll face: bad input gives typed errors and no half-written enrolment', () => {
  const enrolments = () => (existsSync(FACE_DIR) ? readdirSync(FACE_DIR).sort() : []);
  let baseline: string[] = [];
  before(() => {
    baseline = enrolments();
  });
  const nothingWritten = () => assert.deepEqual(enrolments(), baseline, 'no new or temporary file in enrolments/face');

  test('usage errors: no factor, another factor, no --images, an empty dir, a dir with no images, a missing dir', async () => {
    assertError(await cli(['enroll']), 'E_USAGE');
    assertError(await cli(['enroll', 'fingerprint', '--images', ENROL_DIR]), 'E_USAGE', { message: /fingerprint/ });
    assertError(await cli(['enroll', 'face']), 'E_USAGE', { message: /--images/ });
    assertError(await cli(['enroll', 'face', '--images', dirWith('empty', {}), '--name', 'x']), 'E_USAGE', { message: /no images/ });
    assertError(await cli(['enroll', 'face', '--images', dirWith('text-only', { 'a.txt': Buffer.from('x') }), '--name', 'x']), 'E_USAGE', { message: /no images/ });
    assertError(await cli(['enroll', 'face', '--images', ws.p('does-not-exist'), '--name', 'x']), 'E_IO');
    assertError(await cli(['enroll', 'face', '--images', PROBE_A, '--name', 'x']), 'E_IO', { message: /not a directory/ });
    nothingWritten();
  });

  let fake: CliResult;
  test('a file named .jpg that is not an image: E_IMAGE', async () => {
    const dir = dirWith('fake', { 'a1.jpg': path.join(ENROL_DIR, 'a1.jpg'), 'a2.jpg': path.join(ENROL_DIR, 'a2.jpg'), 'broken-one.jpg': Buffer.from('hello, not a JPEG') });
    fake = await cli(['enroll', 'face', '--images', dir, '--name', 'fake']);
    assert.notEqual(fake.code, 0, fake.stderr);
    assert.match(fake.stderr, /^bioseal: .+ \[E_IMAGE\]$/m);
    nothingWritten();
  });

  test('a failed enrolment prints nothing on stdout in text mode (progress goes to stderr), like every other command', () => {
    assert.equal(fake.stdout, '', `stdout should be empty on an error; stderr: ${fake.stderr}`);
  });

  test('an image error names the file it came from', () => {
    assert.match(fake.stderr, /^bioseal: .*broken-one\.jpg.* \[E_IMAGE\]$/m);
  });

  test('a truncated JPEG: E_IMAGE', async () => {
    const whole = readFileSync(path.join(ENROL_DIR, 'a1.jpg'));
    const dir = dirWith('truncated', { 'a2.jpg': path.join(ENROL_DIR, 'a2.jpg'), 'a3.jpg': path.join(ENROL_DIR, 'a3.jpg'), 'cut.jpg': whole.subarray(0, whole.length >> 1) });
    assertFaceError(await cli(['enroll', 'face', '--images', dir, '--name', 'cut', '--json']), 'E_IMAGE', /truncated|corrupt/);
    nothingWritten();
  });

  test('a group photo (several faces): E_FACE_MULTIPLE', async () => {
    const dir = dirWith('group', { 'a1.jpg': path.join(ENROL_DIR, 'a1.jpg'), 'a2.jpg': path.join(ENROL_DIR, 'a2.jpg'), 'group.jpg': faceApiDemo('sample1.jpg') });
    assertFaceError(await cli(['enroll', 'face', '--images', dir, '--name', 'group', '--json']), 'E_FACE_MULTIPLE', /faces/);
    nothingWritten();
  });

  test('a picture too dark to use: E_FACE_QUALITY, saying so and naming the file', async () => {
    const dir = dirWith('dark', { 'a1.jpg': path.join(ENROL_DIR, 'a1.jpg'), 'a2.jpg': path.join(ENROL_DIR, 'a2.jpg') });
    await faceJpeg(PERSON_A, path.join(dir, 'z-dark.jpg'), { margin: 1.8, size: 320, gain: 0.1 });
    assertFaceError(await cli(['enroll', 'face', '--images', dir, '--name', 'dark', '--json']), 'E_FACE_QUALITY', /z-dark\.jpg.*too dark/);
    nothingWritten();
  });

  test('two people in the enrolment set: E_ENROLMENT naming the images that disagree', async () => {
    const dir = dirWith('two-people', { 'a1.jpg': path.join(ENROL_DIR, 'a1.jpg'), 'a2.jpg': path.join(ENROL_DIR, 'a2.jpg'), 'b.jpg': PROBE_B });
    assertFaceError(await cli(['enroll', 'face', '--images', dir, '--name', 'two', '--json']), 'E_ENROLMENT', /b\.jpg.*same person/);
    nothingWritten();
  });
});

describe('exit codes of the face errors', () => {
  test('every face error code has its own exit code, not 1 (E_INTERNAL: "a bug, please report it")', () => {
    const codes = ['E_IMAGE', 'E_FACE_NOT_FOUND', 'E_FACE_MULTIPLE', 'E_FACE_QUALITY', 'E_ENROLMENT'];
    for (const code of codes) {
      const exit = exitCodeFor(code);
      assert.notEqual(exit, 0, code);
      assert.notEqual(exit, EXIT.E_INTERNAL, `${code} exits ${exit}, the code for internal bugs`);
    }
    const all = Object.values(EXIT_CODES);
    assert.equal(new Set(all).size, all.length, 'exit codes are distinct');
  });
});
