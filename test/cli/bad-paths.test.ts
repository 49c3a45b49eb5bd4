/**
 * The CLI on bad paths: missing, empty, directory, wrong-size, unreadable and
 * unwritable inputs and outputs. Each must fail with a clear message and its
 * own exit code, and leave nothing behind (no output, no temporary files).
 *
 * Permission cases run the CLI as an unprivileged user (uid 65534 through
 * setpriv) when the tests run as root, because root ignores file modes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { buildDemoModel } from '../../src/onnx/model-builder.js';
import {
  EXIT,
  IS_ROOT,
  assertError,
  assertOk,
  distModule,
  giveToNobody,
  listDir,
  makeNobodyDir,
  makeWorkspace,
  runCli,
  runNodeScript,
  tempFiles,
  unprivilegedUnreachable,
  writePassphrase,
  type CliOptions,
} from '../helpers/cli.js';

const ws = makeWorkspace('bioseal-badpaths-');
after(() => ws.cleanup());

const cli = (args: readonly string[], o: CliOptions = {}) => runCli(args, { home: ws.home, cwd: ws.dir, ...o });

const MODEL = ws.p('model.onnx');
const KEY = ws.p('k.key');
const PASS_FILE = ws.p('pass.txt');
let SEALED: string;

before(async () => {
  writeFileSync(MODEL, buildDemoModel());
  chmodSync(MODEL, 0o644);
  writePassphrase(PASS_FILE, 'bad paths passphrase');
  assertOk(await cli(['keygen', '--key-file', KEY]));
  SEALED = ws.p('sealed.bseal');
  assertOk(await cli(['seal', MODEL, '-o', SEALED, '--policy', 'keyfile', '--key-file', KEY]));
});

/** A fresh output directory; returns it and a function asserting it still holds exactly `expected` names. */
function outDir(name: string, owner: 'root' | 'nobody' = 'root'): { dir: string; unchanged(expected?: string[]): void } {
  const dir = owner === 'nobody' ? makeNobodyDir(ws.p(name)) : ws.p(name);
  mkdirSync(dir, { recursive: true });
  const initial = listDir(dir);
  return {
    dir,
    unchanged(expected = initial) {
      assert.deepEqual(listDir(dir), expected, `${dir} must hold only ${JSON.stringify(expected)} (nothing written, no temporaries)`);
    },
  };
}

describe('inputs that cannot be sealed', () => {
  test('a missing input is E_IO naming the file, and nothing is written', async () => {
    const o = outDir('out-missing');
    const r = await cli(['seal', ws.p('no-such-model.onnx'), '-o', `${o.dir}/x.bseal`, '--policy', 'keyfile', '--key-file', KEY]);
    assertError(r, 'E_IO', { message: /no-such-model\.onnx.*no such file/ });
    const j = await cli(['seal', ws.p('no-such-model.onnx'), '-o', `${o.dir}/x.bseal`, '--policy', 'keyfile', '--key-file', KEY, '--json']);
    assertError(j, 'E_IO', { json: true });
    o.unchanged();
  });

  test('a directory as input is E_IO ("not a regular file"), and nothing is written', async () => {
    const o = outDir('out-dirinput');
    mkdirSync(ws.p('a-directory'), { recursive: true });
    const r = await cli(['seal', ws.p('a-directory'), '-o', `${o.dir}/x.bseal`, '--policy', 'keyfile', '--key-file', KEY]);
    assertError(r, 'E_IO', { message: /not a regular file|is a directory/ });
    o.unchanged();
  });

  test('an empty input seals, checks and opens back to zero bytes', async () => {
    const empty = ws.p('empty.bin');
    writeFileSync(empty, '');
    const out = ws.p('empty.bseal');
    const s = await cli(['seal', empty, '-o', out, '--policy', 'keyfile | recovery', '--key-file', KEY, '--passphrase-file', PASS_FILE, '--json']);
    assertOk(s, 'seal of an empty file');
    assert.equal(s.json.plaintextLength, 0);
    const c = await cli(['check', out, '--key-file', KEY, '--json']);
    assertOk(c);
    assert.equal(c.json.plaintextLength, 0);
    assertOk(await cli(['check', out, '--passphrase-file', PASS_FILE]));
    const i = await cli(['inspect', out, '--json']);
    assertOk(i);
    assert.equal(i.json.plaintextLength, 0);
    const opened = await runNodeScript(
      `import { openModel } from ${distModule('operations/index.js')};
       const o = await openModel(${JSON.stringify(out)}, { keyFiles: [${JSON.stringify(KEY)}] });
       console.log(JSON.stringify({ length: o.bytes.length }));
       o.release();`,
      { home: ws.home },
    );
    assertOk(opened, 'library openModel of the empty file');
    assert.deepEqual(opened.json, { length: 0 });
    // It is not a model, so run says so with its own code.
    writeFileSync(ws.p('in.json'), JSON.stringify({ input: { type: 'float32', dims: [1, 4], data: [1, 2, 3, 4] } }));
    assertError(await cli(['run', out, '--input', ws.p('in.json'), '--key-file', KEY]), 'E_MODEL');
  });

  test('the output path of the input itself is refused, even with --force; the input is untouched', async () => {
    const copy = ws.p('self.onnx');
    writeFileSync(copy, readFileSync(MODEL));
    const r = await cli(['seal', copy, '-o', copy, '--policy', 'keyfile', '--key-file', KEY, '--force']);
    assertError(r, 'E_USAGE', { message: /input/ });
    assert.deepEqual(readFileSync(copy), readFileSync(MODEL));
  });
});

describe('key files and passphrase files', () => {
  test('a directory as key file is E_IO for seal, check and slot add', async () => {
    const o = outDir('out-keydir');
    const dir = ws.p('key-dir');
    mkdirSync(dir, { recursive: true });
    assertError(await cli(['seal', MODEL, '-o', `${o.dir}/x.bseal`, '--policy', 'keyfile', '--key-file', dir]), 'E_IO', { message: /directory/ });
    assertError(await cli(['check', SEALED, '--key-file', dir]), 'E_IO', { message: /directory/ });
    assertError(await cli(['slot', 'add', SEALED, '--policy', 'keyfile', '--key-file', KEY, '--new-key-file', dir]), 'E_IO');
    o.unchanged();
  });

  test('a key file of the wrong size is E_FORMAT saying a key file holds 32 bytes', async () => {
    const o = outDir('out-keysize');
    for (const size of [0, 31, 33, 64]) {
      const f = ws.p(`key-${size}.key`);
      writeFileSync(f, Buffer.alloc(size, 7));
      const r = await cli(['seal', MODEL, '-o', `${o.dir}/x.bseal`, '--policy', 'keyfile', '--key-file', f]);
      assertError(r, 'E_FORMAT', { message: /32 bytes/ });
    }
    assertError(await cli(['check', SEALED, '--key-file', ws.p('key-31.key')]), 'E_FORMAT');
    o.unchanged();
  });

  test('a missing key file is E_IO', async () => {
    const o = outDir('out-keymissing');
    assertError(await cli(['seal', MODEL, '-o', `${o.dir}/x.bseal`, '--policy', 'keyfile', '--key-file', ws.p('nokey.key')]), 'E_IO', { message: /nokey\.key/ });
    assertError(await cli(['check', SEALED, '--key-file', ws.p('nokey.key'), '--json']), 'E_IO', { json: true });
    o.unchanged();
  });

  test('a missing or directory passphrase file is E_IO', async () => {
    const o = outDir('out-passfile');
    const dir = ws.p('pass-dir');
    mkdirSync(dir, { recursive: true });
    assertError(await cli(['seal', MODEL, '-o', `${o.dir}/x.bseal`, '--policy', 'recovery', '--passphrase-file', ws.p('nopass.txt')]), 'E_IO');
    assertError(await cli(['seal', MODEL, '-o', `${o.dir}/x.bseal`, '--policy', 'recovery', '--passphrase-file', dir]), 'E_IO', { message: /directory/ });
    assertError(await cli(['check', SEALED, '--passphrase-file', dir]), 'E_IO');
    o.unchanged();
  });
});

describe('outputs that cannot be written', () => {
  test('an existing output without --force is E_EXISTS and the file is untouched', async () => {
    const o = outDir('out-exists');
    const target = `${o.dir}/model.bseal`;
    writeFileSync(target, 'precious bytes');
    const before = statSync(target);
    const names = listDir(o.dir);
    const r = await cli(['seal', MODEL, '-o', target, '--policy', 'keyfile', '--key-file', KEY]);
    assertError(r, 'E_EXISTS', { message: /exists.*--force/ });
    assertError(await cli(['seal', MODEL, '-o', target, '--policy', 'keyfile', '--key-file', KEY, '--json']), 'E_EXISTS', { json: true });
    assert.equal(readFileSync(target, 'utf8'), 'precious bytes');
    assert.equal(statSync(target).mtimeMs, before.mtimeMs);
    assert.equal(statSync(target).ino, before.ino);
    o.unchanged(names);
  });

  test('a directory as output is refused (E_EXISTS, or E_IO with --force) and left alone', async () => {
    const o = outDir('out-outdir');
    const target = `${o.dir}/is-a-dir`;
    mkdirSync(target);
    writeFileSync(`${target}/inside`, 'x');
    assertError(await cli(['seal', MODEL, '-o', target, '--policy', 'keyfile', '--key-file', KEY]), 'E_EXISTS');
    assertError(await cli(['seal', MODEL, '-o', target, '--policy', 'keyfile', '--key-file', KEY, '--force']), 'E_IO', { message: /directory/ });
    assert.equal(readFileSync(`${target}/inside`, 'utf8'), 'x');
    o.unchanged(['is-a-dir']);
  });

  test('an output in a missing directory is E_IO', async () => {
    const r = await cli(['seal', MODEL, '-o', ws.p('no', 'such', 'dir', 'x.bseal'), '--policy', 'keyfile', '--key-file', KEY]);
    assertError(r, 'E_IO', { message: /no such file/ });
    assert.ok(!existsSync(ws.p('no')));
  });

  test('keygen into an existing directory path refuses, and --force does not destroy it', async () => {
    const o = outDir('out-keygen-dir');
    const target = `${o.dir}/dir.key`;
    mkdirSync(target);
    assertError(await cli(['keygen', '--key-file', target]), 'E_EXISTS');
    assertError(await cli(['keygen', '--key-file', target, '--force']), 'E_IO');
    assert.ok(statSync(target).isDirectory());
    o.unchanged(['dir.key']);
  });
});

describe('permissions (run as an unprivileged user)', { skip: unprivilegedUnreachable() }, () => {
  const as = (args: readonly string[], home: string) => runCli(args, { home, cwd: ws.dir, unprivileged: true });
  let home: string;
  let key: string;
  before(() => {
    home = makeNobodyDir(ws.p('nobody-home'), 0o700);
    key = ws.p('nobody.key');
    writeFileSync(key, readFileSync(KEY));
    giveToNobody(key, 0o600);
  });

  test('the unprivileged runner really drops privileges', async (t) => {
    if (!IS_ROOT) t.diagnostic('tests are not running as root: permission cases run as the current user');
    const r = await runCli(['--version'], { home, unprivileged: true });
    assertOk(r, 'bioseal --version as the unprivileged user');
    const probe = ws.p('root-only.txt');
    writeFileSync(probe, 'x');
    chmodSync(probe, IS_ROOT ? 0o600 : 0o000);
    const read = await runCli(['check', SEALED, '--passphrase-file', probe], { home, unprivileged: true });
    assertError(read, 'E_IO', { message: /permission denied/ });
  });

  test('an unreadable input is E_IO (permission denied), and nothing is written', async () => {
    const o = outDir('out-unreadable', 'nobody');
    const secret = ws.p('unreadable.onnx');
    writeFileSync(secret, readFileSync(MODEL));
    chmodSync(secret, 0o600); // owned by root (or by us when not root, then made unreadable below)
    if (!IS_ROOT) chmodSync(secret, 0o000);
    const r = await as(['seal', secret, '-o', `${o.dir}/x.bseal`, '--policy', 'keyfile', '--key-file', key], home);
    assertError(r, 'E_IO', { message: /unreadable\.onnx.*permission denied/ });
    const j = await as(['seal', secret, '-o', `${o.dir}/x.bseal`, '--policy', 'keyfile', '--key-file', key, '--json'], home);
    assertError(j, 'E_IO', { json: true, message: /permission denied/ });
    o.unchanged([]);
  });

  test('an unreadable key file or sealed file is E_IO', async () => {
    const rootKey = ws.p('root.key');
    writeFileSync(rootKey, readFileSync(KEY));
    chmodSync(rootKey, IS_ROOT ? 0o600 : 0o000);
    assertError(await as(['check', SEALED, '--key-file', rootKey], home), 'E_IO', { message: /permission denied/ });
    const hidden = ws.p('hidden.bseal');
    writeFileSync(hidden, readFileSync(SEALED));
    chmodSync(hidden, IS_ROOT ? 0o600 : 0o000);
    assertError(await as(['check', hidden, '--key-file', key], home), 'E_IO', { message: /permission denied/ });
    assertError(await as(['inspect', hidden], home), 'E_IO', { message: /permission denied/ });
  });

  test('a read-only output directory is E_IO, and nothing is written there', async () => {
    const o = outDir('out-readonly', 'nobody');
    chmodSync(o.dir, 0o555);
    const r = await as(['seal', MODEL, '-o', `${o.dir}/x.bseal`, '--policy', 'keyfile', '--key-file', key], home);
    assertError(r, 'E_IO', { message: /permission denied/ });
    assertError(await as(['keygen', '--key-file', `${o.dir}/new.key`], home), 'E_IO', { message: /permission denied/ });
    assertError(await as(['keygen', '--publisher', '-o', `${o.dir}/pub`], home), 'E_IO', { message: /permission denied/ });
    o.unchanged([]);
  });

  test('seal --force and slot changes on a file in a read-only directory fail with E_IO and leave it intact', async () => {
    const o = outDir('out-readonly-slot', 'nobody');
    const target = `${o.dir}/owned.bseal`;
    writeFileSync(target, readFileSync(SEALED));
    giveToNobody(target, 0o644);
    chmodSync(o.dir, 0o555);
    const before = readFileSync(target);
    const newPass = ws.p('nobody-pass.txt');
    writePassphrase(newPass, 'new passphrase for nobody');
    giveToNobody(newPass, 0o600);
    assertError(await as(['slot', 'add', target, '--policy', 'recovery', '--key-file', key, '--new-passphrase-file', newPass], home), 'E_IO', {
      message: /permission denied/,
    });
    assertError(await as(['seal', MODEL, '-o', target, '--policy', 'keyfile', '--key-file', key, '--force'], home), 'E_IO', { message: /permission denied/ });
    assert.deepEqual(readFileSync(target), before);
    o.unchanged(['owned.bseal']);
    assertOk(await as(['check', target, '--key-file', key], home), 'the file still opens');
  });

  test('an unwritable BIOSEAL_HOME is E_IO for keygen --identity', async () => {
    const roHome = makeNobodyDir(ws.p('ro-parent'), 0o555);
    const r = await as(['keygen', '--identity', 'nobody-id', '--policy', 'keyfile', '--key-file', key], `${roHome}/home`);
    assertError(r, 'E_IO');
    assert.deepEqual(listDir(roHome), []);
  });
});

describe('reading sealed files that are not there or not files', () => {
  test('check, inspect, run and slot list on a missing file are E_IO', async () => {
    const missing = ws.p('missing.bseal');
    writeFileSync(ws.p('in2.json'), JSON.stringify({ input: { type: 'float32', dims: [1, 4], data: [1, 2, 3, 4] } }));
    const rs = await Promise.all([
      cli(['check', missing, '--key-file', KEY]),
      cli(['inspect', missing]),
      cli(['run', missing, '--input', ws.p('in2.json'), '--key-file', KEY]),
      cli(['slot', 'list', missing]),
      cli(['slot', 'add', missing, '--policy', 'recovery', '--key-file', KEY, '--new-passphrase-file', PASS_FILE]),
      cli(['slot', 'remove', missing, '0', '--key-file', KEY]),
    ]);
    for (const r of rs) assertError(r, 'E_IO', { message: /missing\.bseal/ });
    assert.ok(!existsSync(missing));
  });

  test('a directory given as the sealed file is refused with a typed error, not a crash', async () => {
    const dir = ws.p('sealed-dir');
    mkdirSync(dir, { recursive: true });
    for (const args of [['check', dir, '--key-file', KEY], ['inspect', dir], ['slot', 'list', dir]]) {
      const r = await cli(args);
      assert.ok(r.code === EXIT.E_IO || r.code === EXIT.E_FORMAT, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /not a regular file|is a directory/);
    }
  });

  test('no temporaries were left anywhere in the workspace', () => {
    assert.deepEqual(tempFiles(ws.dir), []);
    for (const d of listDir(ws.dir)) {
      if (statSync(ws.p(d)).isDirectory()) assert.deepEqual(tempFiles(ws.p(d)), [], d);
    }
  });
});
