/**
 * Typing enrolments of the daemon over real HTTP on 127.0.0.1: stored sealed
 * to the loaded model, they survive a restart and open again when that model
 * is loaded; the file holds no timing in the clear; a changed record, or one
 * moved to another model, is refused and audited, never used; several loaded
 * models need the request to name one; removal and re-enrolment replace it;
 * unloading the model drops it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDaemon, type Daemon } from '../../src/daemon/server.js';
import { request, type Reply } from '../helpers/daemon-request.js';
import { readSealedInfo } from '../../src/container/open.js';
import { buildDemoModel } from '../../src/onnx/model-builder.js';
import { sealModel } from '../../src/operations/seal.js';
import { toHex } from '../../src/util/bytes.js';

const PASSPHRASE = 'typing enrolment passphrase';
const INPUT = { input: { type: 'float32', dims: [1, 4], data: [0.5, -1, 2, 0.25] } };

/** A synthetic typist: 60 keys over 8 letters, hold and gap in ms with a deterministic jitter; timings carry fractions. */
function typist(seed: number, hold: number, gap: number): { key: string; down: number; up: number }[] {
  let down = 0;
  return Array.from({ length: 60 }, (_, i) => {
    const jitter = ((i * 7919 + seed * 104729) % 13) - 6;
    down += gap + jitter + 0.125;
    return { key: 'abcdefgh'[i % 8]!, down, up: down + hold + (jitter % 3) + 0.25 };
  });
}

const ENROLMENT = [1, 2, 3, 4, 5].map((k) => typist(k, 90.375, 160));
const OWNER = typist(9, 90.375, 160);
const OTHER = typist(9, 40, 420);
/** The recovery passphrase alone gives the trust (0.9) the default policy asks of an enrolment change. */
const TRUST = { unlockLlr: { recovery: 7 } };

describe('daemon typing enrolments, sealed to the model', () => {
  let dir: string;
  let home: string;
  let modelA: string;
  let modelB: string;
  let idA: string;
  let idB: string;
  let daemon: Daemon;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-typing-'));
    home = path.join(dir, 'home');
    modelA = path.join(dir, 'a.bseal');
    modelB = path.join(dir, 'b.bseal');
    const key = new Uint8Array(randomBytes(32));
    // The same model sealed twice: two files with their own data keys and ids.
    for (const output of [modelA, modelB]) {
      await sealModel({ input: buildDemoModel(), output, policies: ['keyfile', 'recovery'], keyFiles: [key], passphrase: PASSPHRASE, home });
    }
    idA = toHex((await readSealedInfo(modelA)).header.fileId);
    idB = toHex((await readSealedInfo(modelB)).header.fileId);
    daemon = await startDaemon({ home, port: 0, trust: TRUST });
  });
  after(async () => {
    await daemon?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Loads a model with the recovery passphrase (which the default policy asks for to change an enrolment). */
  const load = (name: string, file: string) => request(daemon, 'POST', '/v1/models', { body: { name, path: file, unlock: { passphrase: PASSPHRASE } } });
  const enrol = (token: string, model?: string) => request(daemon, 'POST', '/v1/enrolments/keystroke', { body: { samples: ENROLMENT, ...(model && { model }) }, token });
  const evidence = (token: string, events = OWNER) => request(daemon, 'POST', '/v1/evidence', { body: { type: 'keystroke', events }, token });
  const contribution = (r: Reply) => r.body.explanation.signals.find((x: { factor: string }) => x.factor === 'keystroke').contribution;
  /** The LLR of the last keystroke sample, from the session's explanation of its last change. */
  const lastLlr = async () => {
    const s = await request(daemon, 'GET', '/v1/session');
    const m = /keystroke sample of \d+ keys: \d+ timings scored, LLR (-?\d+\.\d+)/.exec(s.body.lastChange.explanation);
    assert.ok(m, s.body.lastChange.explanation);
    return m[1];
  };
  /** The record sealed to the model with this file id (its file name is derived from the model's key, not from the id). */
  const recordOf = (fileIdHex: string) => {
    const dir = path.join(home, 'enrolments', 'keystroke');
    const names = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
    const found = names.find((f) => {
      try {
        return JSON.parse(readFileSync(path.join(dir, f), 'utf8')).data?.sealedTo === fileIdHex;
      } catch {
        return false;
      }
    });
    return path.join(dir, found ?? `none-for-${fileIdHex}.json`);
  };
  const restart = async () => {
    await daemon.close();
    daemon = await startDaemon({ home, port: 0, trust: TRUST });
  };
  const auditEntries = async (token: string) => (await request(daemon, 'GET', '/v1/audit?limit=1000', { token })).body.entries as { type: string; subject?: string; decision: string; reasons: string[]; details?: Record<string, unknown> }[];

  test('enrolled once, the typing survives a restart: loading the same model opens it, with no new enrolment', async () => {
    const a = await load('a', modelA);
    assert.equal(a.status, 201, JSON.stringify(a.body));
    assert.deepEqual(a.body.keystroke, { enrolled: false });
    const before = await evidence(a.body.token);
    assert.equal(before.status, 400);
    assert.match(before.body.error.message, /no typing is enrolled/);
    const made = await enrol(a.body.token);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.model, 'a', 'the only loaded model is the default');
    assert.equal(made.body.sealedTo, idA);
    assert.ok(contribution(await evidence(a.body.token)) > 0);
    const llrBefore = await lastLlr();

    await restart();
    const again = await load('a-again', modelA);
    assert.equal(again.status, 201);
    assert.deepEqual(again.body.keystroke, { enrolled: true });
    const owner = await evidence(again.body.token);
    assert.equal(owner.status, 200, JSON.stringify(owner.body));
    assert.ok(contribution(owner) > 0, 'the owner\'s rhythm raises trust after the restart');
    assert.equal(await lastLlr(), llrBefore, 'the profile opened after the restart scores exactly as the one enrolled');
    const other = await evidence(again.body.token, OTHER);
    assert.ok(contribution(other) < 0, 'another rhythm lowers it');
  });

  test('the stored record is owner-only and holds ciphertext only: no timing, key or mean in the clear', async () => {
    const file = recordOf(idA);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const text = readFileSync(file, 'utf8');
    const record = JSON.parse(text);
    assert.deepEqual(Object.keys(record).sort(), ['created', 'data', 'format', 'id', 'name', 'version']);
    assert.equal(record.format, 'bioseal-keystroke-enrolment');
    assert.match(record.name, /^[0-9a-f]{32}$/);
    assert.notEqual(record.name, idA, 'named from the model\'s key, not from its public file id');
    assert.equal(path.basename(file), `${record.name}.json`);
    assert.deepEqual(Object.keys(record.data).sort(), ['sealed', 'sealedTo']);
    assert.equal(record.data.sealedTo, idA);
    assert.match(record.data.sealed, /^[A-Za-z0-9+/]+={0,2}$/);
    // Every enrolled timing has a fraction, so a "." would show any number written in the clear (base64 has none).
    const holds = ENROLMENT.flat().map((e) => e.up - e.down);
    const meanHold = holds.reduce((s, h) => s + h, 0) / holds.length;
    assert.ok(!Number.isInteger(meanHold));
    for (const needle of [String(meanHold), meanHold.toFixed(2), String(ENROLMENT[0]![0]!.down), String(ENROLMENT[0]![0]!.up), '90.375', '.']) {
      assert.ok(!text.replace(record.created, '').includes(needle), `"${needle}" is not in the record`);
    }
    const sealed = Buffer.from(record.data.sealed, 'base64');
    for (const needle of ['abcdefgh', 'samples', 'down', String(ENROLMENT[0]![0]!.down)]) {
      assert.equal(sealed.indexOf(needle), -1, `"${needle}" is not in the sealed bytes`);
    }
  });

  test('another sealed model does not open it, even when the record is moved to that model\'s name', async () => {
    await restart();
    const b = await load('b', modelB);
    assert.equal(b.status, 201);
    assert.deepEqual(b.body.keystroke, { enrolled: false }, 'nothing is stored for model b');
    const none = await evidence(b.body.token);
    assert.equal(none.status, 400);
    assert.match(none.body.error.message, /no typing is enrolled/);

    // Model b's own record, overwritten with model a's, relabelled as b's.
    assert.equal((await enrol(b.body.token, 'b')).status, 201);
    const own = JSON.parse(readFileSync(recordOf(idB), 'utf8'));
    const moved = JSON.parse(readFileSync(recordOf(idA), 'utf8'));
    moved.name = own.name;
    moved.data.sealedTo = idB;
    const target = recordOf(idB);
    writeFileSync(target, JSON.stringify(moved), { mode: 0o600 });
    await restart();
    const b2 = await load('b', modelB);
    assert.equal(b2.status, 201, 'a refused enrolment does not stop the model from loading');
    assert.match(b2.body.keystroke.refused, /typing enrolment was refused/);
    const refused = await evidence(b2.body.token);
    assert.equal(refused.status, 400);
    assert.match(refused.body.error.message, /no typing is enrolled.*refused/);
    const entry = (await auditEntries(b2.body.token)).find((e) => e.type === 'enrolment' && e.decision === 'refused');
    assert.ok(entry, 'the refusal is audited');
    assert.equal(entry.details?.code, 'E_TAMPERED');
    assert.equal(entry.details?.sealedTo, idB);
    rmSync(target);
  });

  test('a changed record is refused with a clear message and an audit entry; the daemon serves on; enrolling again replaces it', async () => {
    const record = JSON.parse(readFileSync(recordOf(idA), 'utf8'));
    const sealed = Buffer.from(record.data.sealed, 'base64');
    sealed[sealed.length >> 1]! ^= 0x01;
    record.data.sealed = sealed.toString('base64');
    writeFileSync(recordOf(idA), JSON.stringify(record, null, 2));
    await restart();
    const a = await load('a', modelA);
    assert.equal(a.status, 201);
    assert.match(a.body.keystroke.refused, /refused: .*does not authenticate/);
    const refused = await evidence(a.body.token);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'E_USAGE');
    assert.match(refused.body.error.message, /no typing is enrolled/);
    const entries = await auditEntries(a.body.token);
    assert.ok(entries.some((e) => e.type === 'enrolment' && e.subject === 'keystroke' && e.decision === 'refused' && e.details?.code === 'E_TAMPERED' && e.details?.sealedTo === idA));
    const run = await request(daemon, 'POST', '/v1/models/a/infer', { body: { inputs: INPUT }, token: a.body.token });
    assert.equal(run.status, 200, 'the model works');

    // A truncated or malformed record is refused the same way.
    writeFileSync(recordOf(idA), '{"format": "bioseal-keystroke-enrolment", "version": 1');
    await restart();
    const t = await load('a', modelA);
    assert.equal(t.status, 201);
    assert.match(t.body.keystroke.refused, /not valid JSON/);

    const made = await enrol(t.body.token);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.ok(contribution(await evidence(t.body.token)) > 0, 're-enrolment is used at once');
    await restart();
    const after = await load('a', modelA);
    assert.deepEqual(after.body.keystroke, { enrolled: true }, 'and after a restart');
    const enrolled = (await auditEntries(after.body.token)).filter((e) => e.type === 'enrolment' && e.decision === 'enrolled');
    assert.ok(enrolled.some((e) => e.details?.sealedTo === idA));
  });

  test('with several models loaded the request must name one; named, the typing is sealed to that model', async () => {
    await restart();
    const a = await load('a', modelA);
    const b = await load('b', modelB);
    assert.equal(b.status, 201);
    const unnamed = await enrol(b.body.token);
    assert.equal(unnamed.status, 400);
    assert.match(unnamed.body.error.message, /2 models are loaded: name the one/);
    const unknown = await enrol(b.body.token, 'nope');
    assert.equal(unknown.status, 404);
    const bad = await enrol(b.body.token, '../a');
    assert.equal(bad.status, 400);
    const long = [1, 2, 3].map((k) => Array.from({ length: 50 }, () => typist(k, 90.375, 160)).flatMap((s, i) => s.map((e) => ({ ...e, down: e.down + i * 10_000, up: e.up + i * 10_000 }))));
    const tooLarge = await request(daemon, 'POST', '/v1/enrolments/keystroke', { body: { samples: long, model: 'b' }, token: b.body.token });
    assert.equal(tooLarge.status, 400, 'an enrolment too large to store is refused');
    assert.match(tooLarge.body.error.message, /more than the \d+ stored: enrol from fewer or shorter samples/);
    assert.ok(!existsSync(recordOf(idB)), 'and nothing is written');
    const named = await enrol(b.body.token, 'b');
    assert.equal(named.status, 201, JSON.stringify(named.body));
    assert.equal(named.body.sealedTo, idB);
    assert.ok(existsSync(recordOf(idB)) && existsSync(recordOf(idA)), 'one record per sealed model');
    assert.equal(a.status, 201);
  });

  test('unloading a model, or a lock, drops its opened typing and releases its key', async () => {
    await restart();
    const a = await load('a', modelA);
    const b = await load('b', modelB);
    const { sealer } = daemon.session.models.profileSealer('a');
    assert.equal((await evidence(b.body.token)).status, 200);
    // b's typing is the latest opened; unloading b falls back to a's, unloading a too leaves none.
    assert.equal((await request(daemon, 'DELETE', '/v1/models/b', { token: b.body.token })).status, 200);
    assert.equal((await evidence(a.body.token)).status, 200);
    assert.equal((await request(daemon, 'DELETE', '/v1/models/a', { token: a.body.token })).status, 200);
    assert.equal(sealer.released, true, 'the key is released with its model');
    assert.throws(() => sealer.seal(new Uint8Array(1), new Uint8Array(0)), /released/);
    const c = await load('c', modelB);
    const reopened = await evidence(c.body.token);
    assert.equal(reopened.status, 200, 'model b opened again has its own typing');
    const { sealer: sealerC } = daemon.session.models.profileSealer('c');
    assert.equal((await request(daemon, 'POST', '/v1/lock')).status, 200);
    assert.equal(sealerC.released, true, 'a lock releases every key');
  });

  test('DELETE removes the stored typing (audited); evidence then has none; a second DELETE is 404', async () => {
    const a = await load('a', modelA);
    assert.deepEqual(a.body.keystroke, { enrolled: true });
    const removed = await request(daemon, 'DELETE', '/v1/enrolments/keystroke?model=a', { token: a.body.token });
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    assert.ok(!existsSync(recordOf(idA)));
    const none = await evidence(a.body.token);
    assert.equal(none.status, 400);
    assert.match(none.body.error.message, /no typing is enrolled/);
    assert.equal((await request(daemon, 'DELETE', '/v1/enrolments/keystroke', { token: a.body.token })).status, 404);
    const entries = await auditEntries(a.body.token);
    assert.ok(entries.some((e) => e.type === 'enrolment' && e.subject === 'keystroke' && e.decision === 'removed' && e.details?.sealedTo === idA));
    assert.equal((await request(daemon, 'DELETE', '/v1/enrolments/keystroke')).status, 401, 'a token is required');
  });
});
