/**
 * End-to-end tests of the CLI contract, through real `node dist/src/cli/bin.js`
 * subprocesses: keygen, seal (policies, recipients, signatures), inspect,
 * check, run, slot, passphrase sources, help and usage errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { buildDemoModel, DEMO_BIAS, DEMO_WEIGHTS } from '../../src/onnx/model-builder.js';
import { EXIT_CODES } from '../../src/cli/exit-codes.js';
import {
  BIN,
  EXIT,
  assertClose,
  assertError,
  assertOk,
  childEnv,
  collect,
  demoExpected,
  makeWorkspace,
  modeOf,
  publisherFrom,
  recipientFrom,
  runCli,
  tempFiles,
  tempFilesFor,
  writePassphrase,
  type CliOptions,
} from '../helpers/cli.js';

const ws = makeWorkspace('bioseal-contract-');
after(() => ws.cleanup());

const cli = (args: readonly string[], o: CliOptions = {}) => runCli(args, { home: ws.home, cwd: ws.dir, ...o });

const X = [0.5, -1.2, 3.3, 0.7];
const MODEL = ws.p('demo.onnx');
const KEY = ws.p('k.key');
const OTHER_KEY = ws.p('other.key');
const PASS = 'correct horse battery staple';
const PASS_FILE = ws.p('pass.txt');
const WRONG_PASS_FILE = ws.p('wrong-pass.txt');
const INPUT_JSON = ws.p('input.json');

before(async () => {
  writeFileSync(MODEL, buildDemoModel());
  writePassphrase(PASS_FILE, PASS);
  writePassphrase(WRONG_PASS_FILE, 'not the passphrase');
  writeFileSync(INPUT_JSON, JSON.stringify({ input: { type: 'float32', dims: [1, 4], data: X } }));
  const [a, b] = await Promise.all([cli(['keygen', '--key-file', KEY]), cli(['keygen', '--key-file', OTHER_KEY])]);
  assertOk(a, 'keygen');
  assertOk(b, 'keygen');
});

/** Seals the demo model; returns the output path. */
async function seal(name: string, extra: readonly string[], o: CliOptions = {}): Promise<string> {
  const out = ws.p(name);
  const r = await cli(['seal', MODEL, '-o', out, ...extra], o);
  assertOk(r, `seal ${extra.join(' ')}`);
  return out;
}

async function inspectJson(file: string): Promise<any> {
  const r = await cli(['inspect', file, '--json']);
  assertOk(r, 'inspect --json');
  return r.json;
}

/** Probabilities printed by `run` in text mode. */
function textProbabilities(stdout: string): number[] {
  const m = /^probabilities float32\[1,3\]: (\[.*\])$/m.exec(stdout);
  assert.ok(m, `run output: ${stdout}`);
  return JSON.parse(m[1]!) as number[];
}

// The groups below use distinct file names, so they run two at a time.
describe('bioseal CLI contract', { concurrency: 2 }, () => {
  describe('exit codes', () => {
    test('each error code has its own stable exit status', () => {
      for (const [code, status] of Object.entries(EXIT)) assert.equal(EXIT_CODES[code], status, `${code}`);
      const values = Object.values(EXIT_CODES);
      assert.equal(new Set(values).size, values.length, 'exit codes must be distinct');
    });
  });

  describe('help and usage errors', () => {
    test('--help and -h exit 0 for every command listed by bioseal --help', async () => {
      const main = await cli(['--help']);
      assertOk(main, 'bioseal --help');
      const names = [...main.stdout.matchAll(/^ {2}([a-z]+) {2,}\S/gm)].map((m) => m[1]!);
      for (const required of ['init', 'keygen', 'seal', 'inspect', 'check', 'slot', 'run']) assert.ok(names.includes(required), `${required} in ${names}`);
      const results = await Promise.all([...names.map((n) => cli([n, '--help'])), cli([names[0]!, '-h'])]);
      results.forEach((r, i) => {
        const name = names[i] ?? `${names[0]} -h`;
        assertOk(r, `${name} --help`);
        assert.match(r.stdout, /^Usage/, `${name} help starts with Usage`);
        assert.equal(r.stderr, '');
      });
    });

    test('help texts document the contract options', async () => {
      const expect: Record<string, string[]> = {
        seal: ['-o', '--policy', '--recipient', '--passphrase-file', '--key-file', '--sign', '--force'],
        keygen: ['--key-file', '--publisher', '-o', '--identity', '--policy', '--force'],
        inspect: ['--json'],
        check: ['--passphrase-file', '--key-file', '--publisher', 'BIOSEAL_PASSPHRASE'],
        slot: ['list', 'add', 'remove', '--new-passphrase-file', '--policy', '--recipient'],
        run: ['--input', '--passphrase-file', '--key-file', '--json'],
      };
      await Promise.all(
        Object.entries(expect).map(async ([name, words]) => {
          const r = await cli([name, '--help']);
          for (const w of words) assert.ok(r.stdout.includes(w), `${name} --help mentions ${w}`);
        }),
      );
    });

    test('no command prints the usage and exits 2', async () => {
      const r = await cli([]);
      assert.equal(r.code, EXIT.E_USAGE);
      assert.match(r.stdout, /Usage: bioseal <command>/);
    });

    test('--version exits 0', async () => {
      const r = await cli(['--version']);
      assertOk(r);
      assert.match(r.stdout, /^bioseal \d+\.\d+\.\d+/);
    });

    test('the built bin runs as a program (npx bioseal, the npm bin link): executable, with a node shebang', async () => {
      assert.ok((statSync(BIN).mode & 0o111) !== 0, `${BIN} is not executable: npm run build marks it so`);
      assert.match(readFileSync(BIN, 'utf8'), /^#!\/usr\/bin\/env node\n/);
      const r = await collect(spawn(BIN, ['--version'], { env: childEnv({ home: ws.home }) }));
      assertOk(r);
      assert.match(r.stdout, /^bioseal \d+\.\d+\.\d+/);
    });

    test('unknown command and unknown options are E_USAGE (exit 2), also as JSON', async () => {
      const cases: [string[], boolean][] = [
        [['frobnicate'], false],
        [['frobnicate', '--json'], true],
        [['seal', MODEL, '-o', ws.p('x.bseal'), '--policy', 'keyfile', '--key-file', KEY, '--bogus'], false],
        [['seal', MODEL, '-o', ws.p('x.bseal'), '--policy', 'keyfile', '--key-file', KEY, '--bogus', '--json'], true],
        [['keygen', '--nope'], false],
        [['inspect', MODEL, '--nope', '--json'], true],
        [['check', MODEL, '--nope'], false],
        [['slot', 'list', MODEL, '--nope'], false],
        [['run', MODEL, '--nope', '--json'], true],
        [['init', '--nope'], false],
      ];
      const results = await Promise.all(cases.map(([args]) => cli(args)));
      results.forEach((r, i) => assertError(r, 'E_USAGE', { json: cases[i]![1] }));
      assert.ok(!existsSync(ws.p('x.bseal')));
    });

    test('missing or surplus arguments are E_USAGE', async () => {
      const cases: string[][] = [
        ['seal', MODEL, '--policy', 'keyfile', '--key-file', KEY], // no -o
        ['seal', MODEL, '-o', ws.p('y.bseal')], // no policy or recipient
        ['seal', '-o', ws.p('y.bseal'), '--policy', 'keyfile', '--key-file', KEY], // no input
        ['seal', MODEL, MODEL, '-o', ws.p('y.bseal'), '--policy', 'keyfile', '--key-file', KEY],
        ['seal', MODEL, '-o', ws.p('y.bseal'), '--policy', 'keyfile', '--key-file', KEY, '--chunk-size', '5000'],
        ['seal', MODEL, '-o', ws.p('y.bseal'), '--policy', 'keyfile'], // keyfile factor without a key file
        ['keygen'],
        ['keygen', '--key-file', ws.p('y.key'), '--publisher', '-o', ws.p('y.pub')],
        ['keygen', '--publisher'],
        ['keygen', '--identity', 'nopolicy'],
        ['keygen', '--identity', 'bad name', '--policy', 'keyfile', '--key-file', KEY],
        ['inspect'],
        ['check'],
        ['run', MODEL], // no --input
        ['slot'],
        ['slot', 'frob', MODEL],
        ['slot', 'remove', MODEL],
        ['slot', 'remove', MODEL, 'one', '--key-file', KEY],
        ['slot', 'add', MODEL, '--key-file', KEY], // nothing to add
      ];
      const results = await Promise.all(cases.map((args) => cli(args)));
      results.forEach((r, i) => assert.equal(r.code, EXIT.E_USAGE, `${cases[i]!.join(' ')}: ${r.stderr}`));
      results.forEach((r) => assertError(r, 'E_USAGE'));
      for (const f of ['y.bseal', 'y.key', 'y.pub']) assert.ok(!existsSync(ws.p(f)), `${f} must not be written`);
    });

    test('a malformed or unknown policy is E_POLICY (exit 6)', async () => {
      for (const policy of ['keyfile |', 'bogus', 'keyfile & (recovery']) {
        const r = await cli(['seal', MODEL, '-o', ws.p('p.bseal'), '--policy', policy, '--key-file', KEY, '--passphrase-file', PASS_FILE]);
        assertError(r, 'E_POLICY');
      }
      assert.ok(!existsSync(ws.p('p.bseal')));
    });
  });

  describe('state directory', () => {
    test('BIOSEAL_HOME is created with mode 0700 (and its identities folder)', async () => {
      const home = ws.p('fresh-home', 'nested');
      const r = await cli(['keygen', '--identity', 'h1', '--policy', 'keyfile', '--key-file', KEY], { home });
      assertOk(r, 'keygen --identity');
      assert.equal(modeOf(home), 0o700);
      assert.equal(modeOf(path.join(home, 'identities')), 0o700);
    });

    test('init creates BIOSEAL_HOME 0700 and tightens a group/world-readable one', async () => {
      const home = ws.p('init-home');
      const r = await cli(['init', '--json'], { home });
      assertOk(r, 'init');
      assert.equal(r.json.home, home);
      assert.equal(modeOf(home), 0o700);
      chmodSync(home, 0o755);
      assertOk(await cli(['init'], { home }));
      assert.equal(modeOf(home), 0o700);
    });
  });

  describe('keygen', () => {
    test('--key-file writes 32 random bytes with mode 0600', async () => {
      const f = ws.p('kg1.key');
      const r = await cli(['keygen', '--key-file', f, '--json']);
      assertOk(r);
      assert.deepEqual(r.json, { ok: true, keyFile: f });
      assert.equal(statSync(f).size, 32);
      assert.equal(modeOf(f), 0o600);
      assert.notDeepEqual(readFileSync(f), readFileSync(KEY), 'two key files differ');
    });

    test('--key-file refuses to overwrite without --force; --force replaces it with a new 0600 key', async () => {
      const f = ws.p('kg2.key');
      assertOk(await cli(['keygen', '--key-file', f]));
      const before = readFileSync(f);
      assertError(await cli(['keygen', '--key-file', f]), 'E_EXISTS', { message: /--force/ });
      assertError(await cli(['keygen', '--key-file', f, '--json']), 'E_EXISTS', { json: true });
      assert.deepEqual(readFileSync(f), before, 'untouched without --force');
      chmodSync(f, 0o644);
      assertOk(await cli(['keygen', '--key-file', f, '--force']));
      assert.equal(statSync(f).size, 32);
      assert.notDeepEqual(readFileSync(f), before, 'replaced with --force');
      assert.equal(modeOf(f), 0o600, 'a replaced key file is 0600 too');
      assert.deepEqual(tempFilesFor(f), []);
    });

    test('--publisher -o FILE writes FILE (0600) and FILE.pub; refuses clashes; --force replaces both', async () => {
      const f = ws.p('pubA');
      const r = await cli(['keygen', '--publisher', '-o', f, '--json']);
      assertOk(r);
      assert.equal(modeOf(f), 0o600);
      assert.match(readFileSync(f, 'utf8'), /^biosealsec1[a-z0-9]+\n?$/);
      const pub = publisherFrom(readFileSync(`${f}.pub`, 'utf8'));
      assert.equal(r.json.publicKey, pub);
      const text = await cli(['keygen', '--publisher', '-o', ws.p('pubB')]);
      assertOk(text);
      assert.equal(publisherFrom(text.stdout), publisherFrom(readFileSync(ws.p('pubB.pub'), 'utf8')));

      const secret = readFileSync(f);
      assertError(await cli(['keygen', '--publisher', '-o', f]), 'E_EXISTS');
      assert.deepEqual(readFileSync(f), secret);
      assert.equal(publisherFrom(readFileSync(`${f}.pub`, 'utf8')), pub);

      // Only FILE.pub exists: still refused, and no secret key is left behind.
      const lone = ws.p('pubC');
      writeFileSync(`${lone}.pub`, 'keep me\n');
      assertError(await cli(['keygen', '--publisher', '-o', lone]), 'E_EXISTS');
      assert.ok(!existsSync(lone), 'no half key pair');
      assert.equal(readFileSync(`${lone}.pub`, 'utf8'), 'keep me\n');

      const forced = await cli(['keygen', '--publisher', '-o', f, '--force', '--json']);
      assertOk(forced);
      assert.notDeepEqual(readFileSync(f), secret);
      assert.notEqual(forced.json.publicKey, pub);
      assert.equal(publisherFrom(readFileSync(`${f}.pub`, 'utf8')), forced.json.publicKey);
      assert.equal(modeOf(f), 0o600);
    });

    test('--identity NAME --policy EXPR prints the recipient; refuses to replace it without --force', async () => {
      const r = await cli(['keygen', '--identity', 'kg-id', '--policy', 'keyfile', '--key-file', KEY]);
      assertOk(r);
      const recipient = recipientFrom(r.stdout);
      assert.equal(r.stdout.trim().split('\n').at(-1), recipient, 'the recipient is printed on its own last line');
      assertError(await cli(['keygen', '--identity', 'kg-id', '--policy', 'keyfile', '--key-file', KEY]), 'E_EXISTS');
      const j = await cli(['keygen', '--identity', 'kg-id', '--policy', 'keyfile', '--key-file', KEY, '--force', '--json']);
      assertOk(j);
      assert.match(j.json.recipient, /^bioseal1[a-z0-9]+$/);
      assert.notEqual(j.json.recipient, recipient, '--force makes a new identity');
      const init = await cli(['init', '--json']);
      assert.ok(init.json.identities.some((i: { name: string; recipient: string }) => i.name === 'kg-id' && i.recipient === j.json.recipient));
    });
  });

  describe('seal, inspect and check with policies', () => {
    let either: string;
    let both: string;
    before(async () => {
      either = await seal('either.bseal', ['--policy', 'keyfile | recovery', '--key-file', KEY, '--passphrase-file', PASS_FILE]);
      both = await seal('both.bseal', ['--policy', 'keyfile & recovery', '--key-file', KEY, '--passphrase-file', PASS_FILE]);
    });

    test('seal --json reports what was written', async () => {
      const out = ws.p('sealjson.bseal');
      const r = await cli(['seal', MODEL, '-o', out, '--policy', 'keyfile', '--key-file', KEY, '--json']);
      assertOk(r);
      assert.equal(r.json.ok, true);
      assert.equal(r.json.plaintextLength, statSync(MODEL).size);
      assert.equal(r.json.slotCount, 1);
      assert.equal(r.json.sealedLength, statSync(out).size);
      assert.equal(r.json.signed, false);
    });

    test('"keyfile | recovery" gives two slots, each opening the file alone', async () => {
      const d = await inspectJson(either);
      assert.deepEqual(d.slots.map((s: { factors: string[] }) => s.factors), [['keyfile'], ['recovery']]);
      assert.equal(d.plaintextLength, statSync(MODEL).size);
      assert.equal(d.fileSize, statSync(either).size);
      assert.equal(d.signature.status, 'unsigned');
      assert.equal(typeof d.slots[0].details[0].keyId, 'string');
      assert.equal(d.slots[1].details[0].kdf, 'argon2id');

      const byKey = await cli(['check', either, '--key-file', KEY, '--json']);
      assertOk(byKey);
      assert.equal(byKey.json.ok, true);
      assert.equal(byKey.json.slot, 0);
      assert.equal(byKey.json.plaintextLength, statSync(MODEL).size);
      const byPass = await cli(['check', either, '--passphrase-file', PASS_FILE, '--json']);
      assertOk(byPass);
      assert.equal(byPass.json.slot, 1);
      const text = await cli(['check', either, '--key-file', KEY]);
      assertOk(text);
      assert.match(text.stdout, /^OK /);

      assertError(await cli(['check', either, '--key-file', OTHER_KEY]), 'E_AUTH');
      assertError(await cli(['check', either, '--passphrase-file', WRONG_PASS_FILE]), 'E_AUTH');
      assertError(await cli(['check', either]), 'E_AUTH');
      assertError(await cli(['check', either, '--key-file', OTHER_KEY, '--json']), 'E_AUTH', { json: true });
    });

    test('"keyfile & recovery" gives one slot that needs both factors', async () => {
      const d = await inspectJson(both);
      assert.equal(d.slots.length, 1);
      assert.deepEqual([...d.slots[0].factors].sort(), ['keyfile', 'recovery']);
      assertError(await cli(['check', both, '--key-file', KEY]), 'E_AUTH');
      assertError(await cli(['check', both, '--passphrase-file', PASS_FILE]), 'E_AUTH');
      assertError(await cli(['check', both, '--key-file', OTHER_KEY, '--passphrase-file', PASS_FILE]), 'E_AUTH');
      assertOk(await cli(['check', both, '--key-file', KEY, '--passphrase-file', PASS_FILE]));
    });

    test('inspect prints format, sizes, slots and signature status in text', async () => {
      const r = await cli(['inspect', either]);
      assertOk(r);
      assert.match(r.stdout, /format v1/);
      assert.match(r.stdout, new RegExp(`plaintext:\\s+${statSync(MODEL).size} bytes`));
      assert.match(r.stdout, /signature:\s+unsigned/);
      assert.match(r.stdout, /slot 0: keyfile/);
      assert.match(r.stdout, /slot 1: recovery/);
      assertError(await cli(['inspect', ws.p('missing.bseal')]), 'E_IO');
      assertError(await cli(['inspect', MODEL]), 'E_FORMAT');
    });

    test('seal refuses to overwrite without --force and replaces with it', async () => {
      const before = readFileSync(either);
      const r = await cli(['seal', MODEL, '-o', either, '--policy', 'keyfile', '--key-file', KEY]);
      assertError(r, 'E_EXISTS', { message: /--force/ });
      assert.deepEqual(readFileSync(either), before);
      const target = ws.p('forced.bseal');
      writeFileSync(target, before);
      const oldId = (await inspectJson(target)).fileId;
      assertOk(await cli(['seal', MODEL, '-o', target, '--policy', 'keyfile', '--key-file', OTHER_KEY, '--force']));
      const d = await inspectJson(target);
      assert.notEqual(d.fileId, oldId);
      assert.deepEqual(d.slots.map((s: { factors: string[] }) => s.factors), [['keyfile']]);
      assertOk(await cli(['check', target, '--key-file', OTHER_KEY]));
      assertError(await cli(['check', target, '--key-file', KEY]), 'E_AUTH');
      assert.deepEqual(tempFilesFor(target), []);
      assert.deepEqual(tempFilesFor(either), []);
    });

    test('check refuses changed, truncated and foreign files', async () => {
      const bytes = readFileSync(either);
      const payload = Buffer.from(bytes);
      payload[payload.length - 10]! ^= 0x01;
      writeFileSync(ws.p('t-payload.bseal'), payload);
      assertError(await cli(['check', ws.p('t-payload.bseal'), '--key-file', KEY]), 'E_TAMPERED');
      const header = Buffer.from(bytes);
      header[40]! ^= 0x80;
      writeFileSync(ws.p('t-header.bseal'), header);
      const h = await cli(['check', ws.p('t-header.bseal'), '--key-file', KEY]);
      assert.ok(h.code === EXIT.E_TAMPERED || h.code === EXIT.E_FORMAT, h.stderr);
      writeFileSync(ws.p('t-trunc.bseal'), bytes.subarray(0, bytes.length - 1));
      assertError(await cli(['check', ws.p('t-trunc.bseal'), '--key-file', KEY]), 'E_TAMPERED');
      writeFileSync(ws.p('t-long.bseal'), Buffer.concat([bytes, Buffer.from([0])]));
      const long = await cli(['check', ws.p('t-long.bseal'), '--key-file', KEY]);
      assert.ok(long.code === EXIT.E_TAMPERED || long.code === EXIT.E_FORMAT, long.stderr);
      assertError(await cli(['check', MODEL, '--key-file', KEY]), 'E_FORMAT');
      assertError(await cli(['check', ws.p('t-payload.bseal'), '--key-file', KEY, '--json']), 'E_TAMPERED', { json: true });
    });

    test('sealing with three or more slots works (policy branches plus a recipient)', async () => {
      // Regression: a header whose slot area outgrows ByteWriter's initial 256 bytes crashed with
      // "internal error: offset is out of bounds" (src/util/bytes.ts ByteWriter.bytes/u8/u16/u32/u64).
      const out = ws.p('three.bseal');
      const r = await cli(['seal', MODEL, '-o', out, '--policy', 'keyfile | recovery', '--policy', 'keyfile & recovery', '--key-file', KEY, '--passphrase-file', PASS_FILE]);
      assertOk(r, 'seal with three slots');
      const d = await inspectJson(out);
      assert.equal(d.slots.length, 3);
      assertOk(await cli(['check', out, '--passphrase-file', PASS_FILE]));
    });
  });

  describe('passphrase sources', () => {
    test('BIOSEAL_PASSPHRASE seals and opens recovery slots; --passphrase-file takes precedence', async () => {
      const out = ws.p('env.bseal');
      assertOk(await cli(['seal', MODEL, '-o', out, '--policy', 'recovery'], { env: { BIOSEAL_PASSPHRASE: PASS } }));
      assertOk(await cli(['check', out], { env: { BIOSEAL_PASSPHRASE: PASS } }));
      assertOk(await cli(['check', out, '--passphrase-file', PASS_FILE]), 'the env passphrase is the one sealed');
      assertError(await cli(['check', out], { env: { BIOSEAL_PASSPHRASE: 'wrong' } }), 'E_AUTH');
      assertOk(await cli(['check', out, '--passphrase-file', PASS_FILE], { env: { BIOSEAL_PASSPHRASE: 'wrong' } }));
      const run = await cli(['run', out, '--input', INPUT_JSON, '--json'], { env: { BIOSEAL_PASSPHRASE: PASS } });
      assertOk(run);
      assertClose(run.json.outputs.probabilities.data, demoExpected(X, DEMO_WEIGHTS, DEMO_BIAS));
    });

    test('with no passphrase source and no terminal, seal fails fast with E_USAGE naming the options', async () => {
      const r = await cli(['seal', MODEL, '-o', ws.p('nopass.bseal'), '--policy', 'recovery']);
      assertError(r, 'E_USAGE', { message: /--passphrase-file|BIOSEAL_PASSPHRASE/ });
      assert.ok(!existsSync(ws.p('nopass.bseal')));
    });

    test('an empty passphrase file is refused', async () => {
      writeFileSync(ws.p('empty-pass.txt'), '');
      const r = await cli(['seal', MODEL, '-o', ws.p('ep.bseal'), '--policy', 'recovery', '--passphrase-file', ws.p('empty-pass.txt')]);
      assertError(r, 'E_USAGE');
      assert.ok(!existsSync(ws.p('ep.bseal')));
    });

    test('on a terminal the passphrase is asked twice, without echo', async (t) => {
      // util-linux `script` gives the CLI a pseudo-terminal; we type when the prompt appears.
      const out = ws.p('tty.bseal');
      const typed = 'typed-on-a-tty-7Qx';
      const command = [process.execPath, BIN, 'seal', MODEL, '-o', out, '--policy', 'recovery'].map((a) => `'${a}'`).join(' ');
      const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: ws.dir, env: childEnv({ home: ws.home }), stdio: ['pipe', 'pipe', 'pipe'] });
      let seen = '';
      let answered = 0;
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        seen += d;
        const prompts = (seen.match(/passphrase: /gi) ?? []).length;
        while (answered < prompts && answered < 2) {
          answered++;
          child.stdin.write(`${typed}\r`);
        }
        if (answered === 2 && /sealed /.test(seen)) child.stdin.end();
      });
      const r = await collect(child, { timeoutMs: 30_000, interactive: true });
      if (r.code !== 0 && /script: .*(not found|No such file)/.test(r.stderr)) {
        t.skip('util-linux script is not available');
        return;
      }
      assert.equal(answered, 2, `asked twice; output: ${JSON.stringify(seen)}`);
      assert.match(seen, /Repeat passphrase/);
      assert.ok(!seen.includes(typed), `the passphrase must not be echoed: ${JSON.stringify(seen)}`);
      assert.ok(existsSync(out), `sealed; output: ${JSON.stringify(seen)} ${r.stderr}`);
      writePassphrase(ws.p('typed.txt'), typed);
      assertOk(await cli(['check', out, '--passphrase-file', ws.p('typed.txt')]));
    });
  });

  describe('recipients (identities)', () => {
    const ID_KEY = ws.p('alice.key');
    const ID_PASS = ws.p('alice-pass.txt');
    let recipient: string;
    let sealed: string;
    before(async () => {
      assertOk(await cli(['keygen', '--key-file', ID_KEY]));
      writePassphrase(ID_PASS, 'alice recovery words');
      const r = await cli(['keygen', '--identity', 'alice', '--policy', 'keyfile | recovery', '--key-file', ID_KEY, '--passphrase-file', ID_PASS]);
      assertOk(r, 'keygen --identity');
      recipient = recipientFrom(r.stdout);
      sealed = await seal('for-alice.bseal', ['--recipient', recipient]);
    });

    test('a recipient slot names the recipient in inspect', async () => {
      const d = await inspectJson(sealed);
      assert.equal(d.slots.length, 1);
      assert.deepEqual(d.slots[0].factors, ['recipient']);
      assert.equal(d.slots[0].details[0].recipient, recipient);
    });

    test('check and run open it through the identity\'s own factors', async () => {
      const k = await cli(['check', sealed, '--key-file', ID_KEY, '--json']);
      assertOk(k);
      assert.equal(k.json.slot, 0);
      assertOk(await cli(['check', sealed, '--passphrase-file', ID_PASS]));
      assertOk(await cli(['check', sealed], { env: { BIOSEAL_PASSPHRASE: 'alice recovery words' } }));
      const run = await cli(['run', sealed, '--input', INPUT_JSON, '--key-file', ID_KEY]);
      assertOk(run);
      assertClose(textProbabilities(run.stdout), demoExpected(X, DEMO_WEIGHTS, DEMO_BIAS));
    });

    test('other factors, or another BIOSEAL_HOME without the identity, cannot open it', async () => {
      assertError(await cli(['check', sealed, '--key-file', KEY]), 'E_AUTH');
      assertError(await cli(['check', sealed, '--passphrase-file', PASS_FILE]), 'E_AUTH');
      assertError(await cli(['check', sealed]), 'E_AUTH');
      assertError(await cli(['check', sealed, '--key-file', ID_KEY], { home: ws.p('other-home') }), 'E_AUTH');
    });

    test('policies and recipients combine into separate slots', async () => {
      const out = await seal('mixed.bseal', ['--policy', 'keyfile', '--key-file', KEY, '--recipient', recipient]);
      const d = await inspectJson(out);
      assert.deepEqual(d.slots.map((s: { factors: string[] }) => s.factors), [['keyfile'], ['recipient']]);
      assert.equal((await cli(['check', out, '--key-file', KEY, '--json'])).json.slot, 0);
      assert.equal((await cli(['check', out, '--key-file', ID_KEY, '--json'])).json.slot, 1);
    });

    test('a malformed recipient is refused without writing anything', async () => {
      const r = await cli(['seal', MODEL, '-o', ws.p('badr.bseal'), '--recipient', 'bioseal1notarecipient']);
      assert.ok(r.code === EXIT.E_FORMAT || r.code === EXIT.E_USAGE, r.stderr);
      assert.ok(!existsSync(ws.p('badr.bseal')));
    });
  });

  describe('publisher signatures', () => {
    const PUB = ws.p('publisher.key');
    const OTHER = ws.p('other-publisher.key');
    let signed: string;
    let unsigned: string;
    let pubText: string;
    before(async () => {
      assertOk(await cli(['keygen', '--publisher', '-o', PUB]));
      assertOk(await cli(['keygen', '--publisher', '-o', OTHER]));
      pubText = publisherFrom(readFileSync(`${PUB}.pub`, 'utf8'));
      signed = await seal('signed.bseal', ['--policy', 'keyfile', '--key-file', KEY, '--sign', PUB]);
      unsigned = await seal('unsigned.bseal', ['--policy', 'keyfile', '--key-file', KEY]);
    });

    test('inspect shows a valid signature and the publisher', async () => {
      const d = await inspectJson(signed);
      assert.deepEqual(d.signature, { status: 'valid', publisher: pubText });
      const r = await cli(['inspect', signed]);
      assertOk(r);
      assert.match(r.stdout, new RegExp(`signature:\\s+valid \\(publisher ${pubText}\\)`));
    });

    test('check --publisher accepts the right key (file or text) and refuses another with E_SIGNATURE', async () => {
      const byFile = await cli(['check', signed, '--key-file', KEY, '--publisher', `${PUB}.pub`, '--json']);
      assertOk(byFile);
      assert.equal(byFile.json.signer, pubText);
      assertOk(await cli(['check', signed, '--key-file', KEY, '--publisher', pubText]));
      assertError(await cli(['check', signed, '--key-file', KEY, '--publisher', `${OTHER}.pub`]), 'E_SIGNATURE');
      assertError(await cli(['check', signed, '--key-file', KEY, '--publisher', `${OTHER}.pub`, '--json']), 'E_SIGNATURE', { json: true });
      assertError(await cli(['check', unsigned, '--key-file', KEY, '--publisher', `${PUB}.pub`]), 'E_SIGNATURE');
    });

    test('run --publisher enforces the signature too', async () => {
      const ok = await cli(['run', signed, '--input', INPUT_JSON, '--key-file', KEY, '--publisher', `${PUB}.pub`, '--json']);
      assertOk(ok);
      assertClose(ok.json.outputs.probabilities.data, demoExpected(X, DEMO_WEIGHTS, DEMO_BIAS));
      assertError(await cli(['run', signed, '--input', INPUT_JSON, '--key-file', KEY, '--publisher', `${OTHER}.pub`]), 'E_SIGNATURE');
    });

    test('a changed payload makes the signature invalid in inspect (exit 7) and fails check', async () => {
      const bytes = readFileSync(signed);
      bytes[bytes.length - 5]! ^= 0x04;
      const t = ws.p('signed-tampered.bseal');
      writeFileSync(t, bytes);
      const r = await cli(['inspect', t, '--json']);
      assert.equal(r.code, EXIT.E_SIGNATURE, r.stderr);
      assert.equal(r.json.signature.status, 'invalid');
      const c = await cli(['check', t, '--key-file', KEY, '--publisher', `${PUB}.pub`]);
      assert.ok(c.code === EXIT.E_TAMPERED || c.code === EXIT.E_SIGNATURE, c.stderr);
    });

    test('--sign with something that is not a publisher secret key is refused', async () => {
      const a = await cli(['seal', MODEL, '-o', ws.p('bad-sign.bseal'), '--policy', 'keyfile', '--key-file', KEY, '--sign', `${PUB}.pub`]);
      assertError(a, 'E_FORMAT');
      assertError(await cli(['seal', MODEL, '-o', ws.p('bad-sign.bseal'), '--policy', 'keyfile', '--key-file', KEY, '--sign', ws.p('nope.key')]), 'E_IO');
      assert.ok(!existsSync(ws.p('bad-sign.bseal')));
    });

    test('adding a slot keeps the signature valid', async () => {
      const copy = ws.p('signed-slot.bseal');
      writeFileSync(copy, readFileSync(signed));
      assertOk(await cli(['slot', 'add', copy, '--policy', 'recovery', '--key-file', KEY, '--new-passphrase-file', PASS_FILE]));
      const d = await inspectJson(copy);
      assert.equal(d.signature.status, 'valid');
      assert.equal(d.slots.length, 2);
      assertOk(await cli(['check', copy, '--passphrase-file', PASS_FILE, '--publisher', `${PUB}.pub`]));
    });
  });

  describe('run', () => {
    let sealed: string;
    before(async () => {
      sealed = await seal('run.bseal', ['--policy', 'keyfile | recovery', '--key-file', KEY, '--passphrase-file', PASS_FILE]);
    });

    test('text output matches softmax(x·W + b) of the demo model', async () => {
      const r = await cli(['run', sealed, '--input', INPUT_JSON, '--key-file', KEY]);
      assertOk(r);
      assertClose(textProbabilities(r.stdout), demoExpected(X, DEMO_WEIGHTS, DEMO_BIAS));
    });

    test('--json output carries type, dims and data', async () => {
      const x = [-2, 0.25, 1, 4];
      const input = ws.p('input2.json');
      writeFileSync(input, JSON.stringify({ input: { type: 'float32', dims: [1, 4], data: x } }));
      const r = await cli(['run', sealed, '-i', input, '--passphrase-file', PASS_FILE, '--json']);
      assertOk(r);
      const p = r.json.outputs.probabilities;
      assert.equal(p.type, 'float32');
      assert.deepEqual(p.dims, [1, 3]);
      assertClose(p.data, demoExpected(x, DEMO_WEIGHTS, DEMO_BIAS));
    });

    test('bad inputs and bad models give typed errors, as JSON with --json', async () => {
      writeFileSync(ws.p('bad.json'), '{not json');
      assertError(await cli(['run', sealed, '--input', ws.p('bad.json'), '--key-file', KEY]), 'E_USAGE');
      assertError(await cli(['run', sealed, '--input', ws.p('missing.json'), '--key-file', KEY]), 'E_IO');
      writeFileSync(ws.p('wrongname.json'), JSON.stringify({ nope: { type: 'float32', dims: [1, 4], data: X } }));
      assertError(await cli(['run', sealed, '--input', ws.p('wrongname.json'), '--key-file', KEY, '--json']), 'E_USAGE', { json: true });
      assertError(await cli(['run', sealed, '--input', INPUT_JSON, '--key-file', OTHER_KEY, '--json']), 'E_AUTH', { json: true });
      // A sealed file whose plaintext is not an ONNX model.
      writeFileSync(ws.p('not-onnx.bin'), 'plain text, not a model');
      const notModel = ws.p('not-onnx.bseal');
      assertOk(await cli(['seal', ws.p('not-onnx.bin'), '-o', notModel, '--policy', 'keyfile', '--key-file', KEY]));
      assertError(await cli(['run', notModel, '--input', INPUT_JSON, '--key-file', KEY]), 'E_MODEL');
    });
  });

  describe('slot list, add, remove', () => {
    const NEW_PASS = ws.p('new-pass.txt');
    before(() => {
      writePassphrase(NEW_PASS, 'a brand new recovery passphrase');
    });

    test('list shows the slots and their factors (text and --json)', async () => {
      const f = await seal('list.bseal', ['--policy', 'keyfile | recovery', '--key-file', KEY, '--passphrase-file', PASS_FILE]);
      const t = await cli(['slot', 'list', f]);
      assertOk(t);
      assert.match(t.stdout, /^slot 0: keyfile/m);
      assert.match(t.stdout, /^slot 1: recovery/m);
      const j = await cli(['slot', 'list', f, '--json']);
      assertOk(j);
      assert.equal(j.json.file, f);
      assert.deepEqual(j.json.slots.map((s: { index: number; factors: string[] }) => [s.index, s.factors]), [[0, ['keyfile']], [1, ['recovery']]]);
    });

    test('add a recovery slot with --new-passphrase-file, then remove by index', async () => {
      const f = await seal('slots.bseal', ['--policy', 'keyfile', '--key-file', KEY]);
      chmodSync(f, 0o600);
      const id = (await inspectJson(f)).fileId;
      const add = await cli(['slot', 'add', f, '--policy', 'recovery', '--key-file', KEY, '--new-passphrase-file', NEW_PASS, '--json']);
      assertOk(add);
      assert.equal(add.json.slots, 2);
      assert.equal(add.json.unlockedWith, 0);
      const d = await inspectJson(f);
      assert.equal(d.fileId, id, 'same file, payload not re-encrypted');
      assert.deepEqual(d.slots.map((s: { factors: string[] }) => s.factors), [['keyfile'], ['recovery']]);
      assert.equal(modeOf(f), 0o600, 'slot changes keep the file mode');
      assert.equal((await cli(['check', f, '--passphrase-file', NEW_PASS, '--json'])).json.slot, 1);
      assertError(await cli(['check', f, '--passphrase-file', PASS_FILE]), 'E_AUTH');

      const rm = await cli(['slot', 'remove', f, '0', '--passphrase-file', NEW_PASS, '--json']);
      assertOk(rm);
      assert.deepEqual(rm.json.removed, [0]);
      assert.equal(rm.json.slots, 1);
      assert.deepEqual((await inspectJson(f)).slots.map((s: { factors: string[] }) => s.factors), [['recovery']]);
      assertError(await cli(['check', f, '--key-file', KEY]), 'E_AUTH');
      assertOk(await cli(['check', f, '--passphrase-file', NEW_PASS]));
      assert.deepEqual(tempFilesFor(f), []);
    });

    test('removing the last slot, a missing index, or without unlocking is refused and leaves the file alone', async () => {
      const f = await seal('last.bseal', ['--policy', 'keyfile', '--key-file', KEY]);
      const before = readFileSync(f);
      assertError(await cli(['slot', 'remove', f, '0', '--key-file', KEY]), 'E_USAGE', { message: /last/ });
      assertError(await cli(['slot', 'remove', f, '3', '--key-file', KEY]), 'E_USAGE');
      assertError(await cli(['slot', 'remove', f, '0', '--key-file', OTHER_KEY]), 'E_USAGE');
      assertError(await cli(['slot', 'add', f, '--policy', 'recovery', '--key-file', OTHER_KEY, '--new-passphrase-file', NEW_PASS]), 'E_AUTH');
      assert.deepEqual(readFileSync(f), before);
      const two = await seal('two.bseal', ['--policy', 'keyfile | recovery', '--key-file', KEY, '--passphrase-file', PASS_FILE]);
      const twoBefore = readFileSync(two);
      assertError(await cli(['slot', 'remove', two, '1', '--key-file', OTHER_KEY]), 'E_AUTH');
      assertError(await cli(['slot', 'remove', two, '0', '1', '--key-file', KEY]), 'E_USAGE', { message: /last/ });
      assert.deepEqual(readFileSync(two), twoBefore);
      assert.deepEqual(tempFilesFor(f), []);
      assert.deepEqual(tempFilesFor(two), []);
    });

    test('add a recipient slot: the identity then opens the file', async () => {
      const idKey = ws.p('bob.key');
      assertOk(await cli(['keygen', '--key-file', idKey]));
      const r = await cli(['keygen', '--identity', 'bob', '--policy', 'keyfile', '--key-file', idKey]);
      assertOk(r);
      const f = await seal('for-bob.bseal', ['--policy', 'keyfile', '--key-file', KEY]);
      assertError(await cli(['check', f, '--key-file', idKey]), 'E_AUTH');
      assertOk(await cli(['slot', 'add', f, '--recipient', recipientFrom(r.stdout), '--key-file', KEY]));
      assert.equal((await cli(['check', f, '--key-file', idKey, '--json'])).json.slot, 1);
    });

    test('adding a third slot works', async () => {
      // Regression: fails with E_INTERNAL "offset is out of bounds" while ByteWriter cannot grow (src/util/bytes.ts).
      const f = await seal('third.bseal', ['--policy', 'keyfile | recovery', '--key-file', KEY, '--passphrase-file', PASS_FILE]);
      const before = readFileSync(f);
      const r = await cli(['slot', 'add', f, '--policy', 'recovery', '--key-file', KEY, '--new-passphrase-file', NEW_PASS]);
      if (r.code !== 0) assert.deepEqual(readFileSync(f), before, 'a failed slot add leaves the file untouched');
      assertOk(r, 'slot add to a file with two slots');
      assert.equal((await inspectJson(f)).slots.length, 3);
      assert.equal((await cli(['check', f, '--passphrase-file', NEW_PASS, '--json'])).json.slot, 2);
    });
  });
});

describe('output hygiene', () => {
  test('no atomic-write temporaries are left in the working directory', () => {
    assert.deepEqual(tempFiles(ws.dir), []);
  });
});
