/**
 * No plaintext on disk: seal a ~2 MB ONNX model with random weights, then
 * `check`, `run` and the library (openModel, createSealedSession) in child
 * processes whose TMPDIR is a fresh directory. Afterwards no file under
 * TMPDIR, the output folder or BIOSEAL_HOME may hold any piece of the model.
 *
 * The scan looks for every 64-byte window of the plaintext that starts at a
 * multiple of 16, at every offset of every file (rolling hash, then a byte
 * compare), so any leaked run of 79 or more plaintext bytes is found.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildLargeModel, largeModelSide, largeModelWeights } from '../../src/onnx/model-builder.js';
import { assertClose, assertOk, distModule, makeWorkspace, runCli, runNodeScript, type CliOptions } from '../helpers/cli.js';

const WINDOW = 64;
const STEP = 16;
const BASE = 0x01000193;

/** Polynomial hash of bytes[at, at+WINDOW), mod 2^32. */
function hashAt(bytes: Uint8Array, at: number): number {
  let h = 0;
  for (let i = 0; i < WINDOW; i++) h = (Math.imul(h, BASE) + bytes[at + i]!) >>> 0;
  return h;
}

/** BASE^(WINDOW-1) mod 2^32. */
const TOP = (() => {
  let p = 1;
  for (let i = 0; i < WINDOW - 1; i++) p = Math.imul(p, BASE) >>> 0;
  return p;
})();

class PlaintextIndex {
  private readonly windows = new Map<number, number[]>();
  constructor(private readonly plain: Uint8Array) {
    for (let at = 0; at + WINDOW <= plain.length; at += STEP) {
      // Skip low-entropy windows (runs of zeros and the like) that could match innocent bytes.
      if (new Set(plain.subarray(at, at + WINDOW)).size < 24) continue;
      const h = hashAt(plain, at);
      const list = this.windows.get(h);
      if (list) list.push(at);
      else this.windows.set(h, [at]);
    }
  }

  get size(): number {
    let n = 0;
    for (const l of this.windows.values()) n += l.length;
    return n;
  }

  /** The first offset in `data` where a plaintext window occurs, or -1. */
  find(data: Uint8Array): number {
    if (data.length < WINDOW) return -1;
    let h = hashAt(data, 0);
    for (let at = 0; ; at++) {
      const candidates = this.windows.get(h);
      if (candidates) {
        for (const p of candidates) {
          if (Buffer.compare(data.subarray(at, at + WINDOW), this.plain.subarray(p, p + WINDOW)) === 0) return at;
        }
      }
      if (at + WINDOW >= data.length) return -1;
      h = (Math.imul((h - Math.imul(data[at]!, TOP)) >>> 0, BASE) + data[at + WINDOW]!) >>> 0;
    }
  }
}

/** Every regular file under `dir` (symlinks are not followed). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) out.push(...filesUnder(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

const ws = makeWorkspace('bioseal-noplain-');
after(() => ws.cleanup());

const SRC = ws.p('src'); // holds the plaintext model: the only place it may be
const OUT = ws.p('out');
const TMP = ws.p('tmpdir');
const HOME = ws.p('home');
const childOptions: CliOptions = { home: HOME, cwd: OUT, env: { TMPDIR: TMP, TMP, TEMP: TMP } };
const cli = (args: readonly string[]) => runCli(args, childOptions);

const seed = randomInt(1, 2 ** 31);
const model = buildLargeModel({ sizeBytes: 2 * 1024 * 1024, seed });
const side = largeModelSide(2 * 1024 * 1024);
const MODEL = path.join(SRC, 'model.onnx');
const KEY = path.join(OUT, 'k.key');
const PASS_FILE = path.join(OUT, 'pass.txt');
const SEALED = path.join(OUT, 'model.bseal');
const index = new PlaintextIndex(model);

before(async () => {
  for (const d of [SRC, OUT, TMP]) mkdirSync(d, { recursive: true });
  writeFileSync(MODEL, model);
  writeFileSync(PASS_FILE, 'no plaintext passphrase\n');
  assertOk(await cli(['keygen', '--key-file', KEY]));
});

describe('no plaintext on disk', () => {
  test('the scanner finds plaintext it should find (positive control)', () => {
    assert.ok(index.size > 100_000, `windows indexed: ${index.size}`);
    assert.ok(index.find(model) >= 0);
    const at = randomInt(0, model.length - 200);
    const embedded = Buffer.concat([randomBytes(37), model.subarray(at, at + 80), randomBytes(50)]);
    assert.ok(index.find(embedded) >= 0, 'an 80-byte slice at an odd offset is found');
    assert.equal(index.find(randomBytes(1 << 20)), -1, 'random bytes hold no plaintext');
  });

  test('seal, check, run and library opens leave no plaintext in TMPDIR, the output folder or BIOSEAL_HOME', async () => {
    const sealed = await cli(['seal', MODEL, '-o', SEALED, '--policy', 'keyfile | recovery', '--key-file', KEY, '--passphrase-file', PASS_FILE, '--chunk-size', '65536']);
    assertOk(sealed, 'seal');
    assertOk(await cli(['check', SEALED, '--key-file', KEY]), 'check');
    assertOk(await cli(['check', SEALED, '--passphrase-file', PASS_FILE]), 'check with the passphrase');

    // run: output = input · W, compared with the weights the model was built from.
    const x = Array.from({ length: side }, (_, i) => ((i * 7919) % 13) / 13 - 0.5);
    const inputJson = path.join(OUT, 'input.json');
    writeFileSync(inputJson, JSON.stringify({ input: { type: 'float32', dims: [1, side], data: x } }));
    const run = await cli(['run', SEALED, '--input', inputJson, '--key-file', KEY, '--json']);
    assertOk(run, 'run');
    const next = largeModelWeights(side, seed);
    const expected = new Array<number>(side).fill(0);
    for (let i = 0; i < side; i++) for (let j = 0; j < side; j++) expected[j]! += x[i]! * next();
    assertClose(run.json.outputs.output.data, expected, 1e-3);

    // The library, in a child with the same TMPDIR.
    const lib = await runNodeScript(
      `import { createHash } from 'node:crypto';
       import { openModel, createSealedSession } from ${distModule('operations/index.js')};
       const opened = await openModel(${JSON.stringify(SEALED)}, { keyFiles: [${JSON.stringify(KEY)}] });
       const digest = createHash('sha256').update(opened.bytes).digest('hex');
       opened.release();
       const { session } = await createSealedSession(${JSON.stringify(SEALED)}, { passphrase: 'no plaintext passphrase', useIdentities: false });
       const names = session.inputNames;
       await session.release();
       console.log(JSON.stringify({ digest, names }));`,
      childOptions,
    );
    assertOk(lib, 'library openModel and createSealedSession');
    assert.deepEqual(lib.json, { digest: createHash('sha256').update(model).digest('hex'), names: ['input'] });

    const scanned: string[] = [];
    for (const dir of [TMP, OUT, HOME]) {
      if (!existsSync(dir)) continue;
      for (const file of filesUnder(dir)) {
        scanned.push(path.relative(ws.dir, file));
        const at = index.find(readFileSync(file));
        assert.equal(at, -1, `${file} holds plaintext model bytes at offset ${at}`);
      }
    }
    assert.ok(scanned.includes(path.join('out', 'model.bseal')), `scanned: ${scanned.join(', ')}`);
    // The sealed file is the size of the model plus overhead, so it was really scanned in full.
    assert.ok(readFileSync(SEALED).length > model.length);
  });
});
