/**
 * `applyUpdate` on a device: what is accepted and installed, and every way an
 * update is refused (untrusted, wrongly signed, tampered, expired, not yet
 * valid, downgraded, replayed, wrong bytes, not a sealed file, damaged state,
 * concurrent update), each time leaving the installed model and state exactly
 * as they were.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { applyUpdate, MAX_CLOCK_SKEW_MS } from '../../src/updates/apply.js';
import { listInstalledModels } from '../../src/updates/list.js';
import { readInstalledState } from '../../src/updates/state.js';
import { addTrustedPublisher, removeTrustedPublisher } from '../../src/updates/trust-store.js';
import { createRotation } from '../../src/updates/rotation.js';
import { checkModel } from '../../src/operations/open.js';
import { BiosealError } from '../../src/errors.js';
import { makeKeyFile, makePublisher, makeTempDir, sealFixture, writeSignedManifest } from './fixtures.js';

const tmp = makeTempDir();
after(() => tmp.cleanup());
const A = makePublisher();
const B = makePublisher();
const NAME = 'classifier';
let KEY: string;
let MODEL_1: string;
let MODEL_2: string;
let home: string;

const isCode = (code: string, pattern?: RegExp) => (e: unknown) =>
  e instanceof BiosealError && e.code === code && (!pattern || pattern.test(e.message));

before(async () => {
  KEY = await makeKeyFile(tmp.p('owner.key'));
  MODEL_1 = await sealFixture(tmp.p('model-1.bseal'), randomBytes(10_000), KEY);
  MODEL_2 = await sealFixture(tmp.p('model-2.bseal'), randomBytes(20_000), KEY);
});

let homeCount = 0;
beforeEach(() => {
  home = tmp.p(`home-${homeCount++}`);
});

/** Everything under the home that an update may change: the state text and the model directory. */
function snapshot(): { state: string | undefined; files: Record<string, string> } {
  const stateFile = path.join(home, 'updates', 'installed.json');
  const dir = path.join(home, 'models', NAME);
  const files: Record<string, string> = {};
  if (existsSync(dir)) for (const f of readdirSync(dir)) files[f] = createHash('sha256').update(readFileSync(path.join(dir, f))).digest('hex');
  return { state: existsSync(stateFile) ? readFileSync(stateFile, 'utf8') : undefined, files };
}

/** Installs MODEL_1 as version `version`, signed by A. */
async function installFirst(version = 1): Promise<void> {
  const { file } = await writeSignedManifest({ model: MODEL_1, name: NAME, version, publisher: A });
  await applyUpdate({ manifest: file, trust: [A.key], home });
}

/** Asserts that applying `manifest` fails with `code` and changes nothing. */
async function refused(options: Parameters<typeof applyUpdate>[0], code: string, pattern?: RegExp): Promise<void> {
  const before = snapshot();
  await assert.rejects(applyUpdate({ home, ...options }), isCode(code, pattern));
  assert.deepEqual(snapshot(), before, 'a refused update changes nothing');
}

describe('accepted updates', () => {
  test('a valid update is installed, listed and opens', async () => {
    await installFirst();
    const [entry] = await listInstalledModels(home);
    assert.equal(entry?.name, NAME);
    assert.equal(entry.version, 1);
    assert.equal(entry.path, path.join(home, 'models', NAME, 'v1.bseal'));
    assert.deepEqual(readFileSync(entry.path), readFileSync(MODEL_1));
    const r = await checkModel(entry.path, { keyFiles: [KEY] });
    assert.equal(r.info.layout.plaintextLength, 10_000);
  });

  test('a newer version replaces the old one, whose files go only after the switch', async () => {
    await installFirst();
    const { file } = await writeSignedManifest({ model: MODEL_2, name: NAME, version: 5, publisher: A });
    const r = await applyUpdate({ manifest: file, trust: [A.key], home });
    assert.equal(r.previousVersion, 1);
    assert.deepEqual(readdirSync(path.join(home, 'models', NAME)).sort(), ['v5.bseal', 'v5.manifest.json']);
    assert.equal((await checkModel(r.path, { keyFiles: [KEY] })).info.layout.plaintextLength, 20_000);
    const state = await readInstalledState(home);
    assert.equal(state.models.get(NAME)?.version, 5);
  });

  test('keys in the trust store are trusted without --trust', async () => {
    await addTrustedPublisher(home, A.key);
    const { file } = await writeSignedManifest({ model: MODEL_1, name: NAME, version: 1, publisher: A });
    await applyUpdate({ manifest: file, home });
    await removeTrustedPublisher(home, A.key);
    const next = await writeSignedManifest({ model: MODEL_2, name: NAME, version: 2, publisher: A });
    await refused({ manifest: next.file }, 'E_SIGNATURE', /no trusted publisher key/);
  });

  test('the sealed file can be given apart from the manifest', async () => {
    const { file } = await writeSignedManifest({ model: MODEL_1, name: NAME, version: 1, publisher: A, output: tmp.p('elsewhere.json') });
    const copy = tmp.p('sub', 'renamed.bseal');
    mkdirSync(path.dirname(copy), { recursive: true });
    writeFileSync(copy, readFileSync(MODEL_1));
    await applyUpdate({ manifest: file, model: copy, trust: [A.key], home });
  });

  test('a manifest issued slightly in the future (clock skew) is accepted', async () => {
    const now = new Date();
    const issuedAt = new Date(Math.floor((now.getTime() + MAX_CLOCK_SKEW_MS / 2) / 1000) * 1000);
    const { file } = await writeSignedManifest({ model: MODEL_1, name: NAME, version: 1, publisher: A, body: { issuedAt } });
    await applyUpdate({ manifest: file, trust: [A.key], home, now });
  });
});

describe('refused updates leave everything as it was', () => {
  test('untrusted key: E_SIGNATURE', async () => {
    await installFirst();
    const { file } = await writeSignedManifest({ model: MODEL_2, name: NAME, version: 2, publisher: B });
    await refused({ manifest: file, trust: [A.key] }, 'E_SIGNATURE', /not a trusted publisher key/);
  });

  test('signed by another key than the one it names: E_SIGNATURE', async () => {
    await installFirst();
    const { file } = await writeSignedManifest({ model: MODEL_2, name: NAME, version: 2, publisher: B });
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    doc.body.publisher = JSON.parse(readFileSync((await writeSignedManifest({ model: MODEL_2, name: NAME, version: 2, publisher: A, output: tmp.p('a.json') })).file, 'utf8')).body.publisher;
    writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
    await refused({ manifest: file, trust: [A.key] }, 'E_SIGNATURE', /does not verify/);
  });

  test('a field changed after signing (a version bump): E_SIGNATURE', async () => {
    await installFirst();
    const { file } = await writeSignedManifest({ model: MODEL_2, name: NAME, version: 2, publisher: A });
    writeFileSync(file, readFileSync(file, 'utf8').replace('"version": 2', '"version": 20'));
    await refused({ manifest: file, trust: [A.key] }, 'E_SIGNATURE', /does not verify/);
  });

  test('unsigned: E_SIGNATURE', async () => {
    const { file } = await writeSignedManifest({ model: MODEL_1, name: NAME, version: 1, publisher: A });
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    delete doc.signature;
    writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
    await refused({ manifest: file, trust: [A.key] }, 'E_SIGNATURE', /not signed/);
  });

  test('expired, or issued in the future: E_EXPIRED', async () => {
    await installFirst();
    const now = new Date();
    const past = await writeSignedManifest({
      model: MODEL_2,
      name: NAME,
      version: 2,
      publisher: A,
      body: { issuedAt: new Date(Date.UTC(2020, 0, 1)), expiresAt: new Date(Date.UTC(2020, 1, 1)) },
    });
    await refused({ manifest: past.file, trust: [A.key] }, 'E_EXPIRED', /expired/);
    // The same manifest was valid then.
    const future = await writeSignedManifest({ model: MODEL_2, name: NAME, version: 3, publisher: A, now: new Date(now.getTime() + 86_400_000) });
    await refused({ manifest: future.file, trust: [A.key], now }, 'E_EXPIRED', /not valid yet/);
    await refused({ manifest: future.file, trust: [A.key], now: new Date(now.getTime() + 400 * 86_400_000) }, 'E_EXPIRED', /expired/);
  });

  test('downgrade and replays: E_ROLLBACK', async () => {
    const v1 = await writeSignedManifest({ model: MODEL_1, name: NAME, version: 1, publisher: A, output: tmp.p('v1.json') });
    const v3 = await writeSignedManifest({ model: MODEL_2, name: NAME, version: 3, publisher: A, output: tmp.p('v3.json') });
    await applyUpdate({ manifest: v1.file, trust: [A.key], home });
    await applyUpdate({ manifest: v3.file, trust: [A.key], home });
    await refused({ manifest: v3.file, trust: [A.key] }, 'E_ROLLBACK', /already installed from this manifest: refusing a replay/);
    await refused({ manifest: v1.file, trust: [A.key] }, 'E_ROLLBACK', /not newer than the installed version 3: refusing a downgrade/);
    // Another manifest for the installed version number (even for other bytes, even by another trusted key).
    const again = await writeSignedManifest({ model: MODEL_1, name: NAME, version: 3, publisher: B, output: tmp.p('v3b.json') });
    await refused({ manifest: again.file, trust: [A.key, B.key] }, 'E_ROLLBACK', /refusing a replay/);
    // Versions are per name: version 1 of another model is fine.
    const other = await writeSignedManifest({ model: MODEL_1, name: 'other-model', version: 1, publisher: A });
    await applyUpdate({ manifest: other.file, trust: [A.key], home });
  });

  test('sealed file changed, extended, truncated, swapped or missing: E_DIGEST / E_IO', async () => {
    await installFirst();
    const { file } = await writeSignedManifest({ model: MODEL_2, name: NAME, version: 2, publisher: A, output: tmp.p('digest.json') });
    const victim = tmp.p('model-2.bseal');
    const original = readFileSync(victim);
    try {
      const flipped = Buffer.from(original);
      flipped[flipped.length - 100]! ^= 0x01;
      writeFileSync(victim, flipped);
      await refused({ manifest: file, trust: [A.key] }, 'E_DIGEST', /does not match/);
      writeFileSync(victim, original);
      appendFileSync(victim, Buffer.from([0]));
      await refused({ manifest: file, trust: [A.key] }, 'E_DIGEST', /larger than/);
      truncateSync(victim, original.length - 1);
      await refused({ manifest: file, trust: [A.key] }, 'E_DIGEST', /bytes, the manifest names/);
      writeFileSync(victim, original);
      await refused({ manifest: file, model: MODEL_1, trust: [A.key] }, 'E_DIGEST');
      await refused({ manifest: file, model: tmp.p('absent.bseal'), trust: [A.key] }, 'E_IO');
    } finally {
      writeFileSync(victim, original);
    }
  });

  test('bytes that match but are not a sealed file: E_FORMAT, nothing recorded', async () => {
    await installFirst();
    const junk = tmp.p('junk.bseal');
    writeFileSync(junk, randomBytes(5000));
    const { file } = await writeSignedManifest({ model: junk, name: NAME, version: 2, publisher: A });
    await refused({ manifest: file, trust: [A.key] }, 'E_FORMAT');
  });

  test('a damaged state is refused, not reset', async () => {
    await installFirst(4);
    const stateFile = path.join(home, 'updates', 'installed.json');
    writeFileSync(stateFile, readFileSync(stateFile, 'utf8').replace('"version": 4', '"version": "4"'));
    const { file } = await writeSignedManifest({ model: MODEL_2, name: NAME, version: 2, publisher: A });
    await refused({ manifest: file, trust: [A.key] }, 'E_FORMAT', /not reset automatically/);
    rmSync(stateFile);
    writeFileSync(stateFile, '');
    await refused({ manifest: file, trust: [A.key] }, 'E_FORMAT');
  });

  test('a running update holds the lock; a dead one does not', async () => {
    await installFirst();
    const lock = path.join(home, 'updates', 'lock');
    const { file } = await writeSignedManifest({ model: MODEL_2, name: NAME, version: 2, publisher: A });
    writeFileSync(lock, `${process.pid}\n`);
    await refused({ manifest: file, trust: [A.key] }, 'E_IO', /another update is in progress/);
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(lock, `${dead}\n`);
    await applyUpdate({ manifest: file, trust: [A.key], home });
    assert.equal(existsSync(lock), false);
  });
});

describe('publisher key rotation', () => {
  test('a chain shipped in the manifest is accepted and remembered; the old key is then retired', async () => {
    await installFirst();
    const rotation = createRotation(A.secret, B.key);
    const v2 = await writeSignedManifest({ model: MODEL_2, name: NAME, version: 2, publisher: B, rotations: [rotation] });
    const r = await applyUpdate({ manifest: v2.file, trust: [A.key], home });
    assert.deepEqual(r.trustedRoot, A.key);
    assert.equal(r.chain.length, 1);
    // Later manifests by B need no statement: the device remembers the rotation.
    const v3 = await writeSignedManifest({ model: MODEL_1, name: NAME, version: 3, publisher: B });
    await applyUpdate({ manifest: v3.file, trust: [A.key], home });
    // A may no longer sign, nor hand over to another key.
    const byA = await writeSignedManifest({ model: MODEL_2, name: NAME, version: 4, publisher: A });
    await refused({ manifest: byA.file, trust: [A.key] }, 'E_SIGNATURE', /retired/);
    const C = makePublisher();
    const hijack = await writeSignedManifest({ model: MODEL_2, name: NAME, version: 4, publisher: C, rotations: [createRotation(A.secret, C.key)] });
    await refused({ manifest: hijack.file, trust: [A.key] }, 'E_SIGNATURE', /conflicting/);
  });

  test('a broken chain (statement not signed by the trusted key) is refused', async () => {
    await installFirst();
    const C = makePublisher();
    const wrong = { ...createRotation(C.secret, B.key), from: A.key };
    const v2 = await writeSignedManifest({ model: MODEL_2, name: NAME, version: 2, publisher: B });
    await refused({ manifest: v2.file, trust: [A.key], rotations: [wrong] }, 'E_SIGNATURE', /does not verify/);
    await refused({ manifest: v2.file, trust: [A.key], rotations: [createRotation(C.secret, B.key)] }, 'E_SIGNATURE', /no chain/);
  });
});
