/**
 * The daemon over real HTTP and its Unix socket: unlock, inference, tokens,
 * locking (including a request in flight when the lock lands), bad input, and
 * one daemon per state directory.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDaemon, type Daemon } from '../../src/daemon/server.js';
import { request, type Reply } from '../helpers/daemon-request.js';
import { buildDemoModel } from '../../src/onnx/model-builder.js';
import { createSessionFromMemory, runModel } from '../../src/onnx/session.js';
import { sealModel } from '../../src/operations/seal.js';

const PASSPHRASE = 'correct horse battery staple';
const INPUT = { input: { type: 'float32', dims: [1, 4], data: [0.5, -1, 2, 0.25] } };

describe('bioseal daemon', () => {
  let dir: string;
  let home: string;
  let model: string;
  let key: Uint8Array;
  let daemon: Daemon;
  let expected: unknown;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-daemon-'));
    home = path.join(dir, 'home');
    model = path.join(dir, 'demo.bseal');
    key = new Uint8Array(randomBytes(32));
    await sealModel({ input: buildDemoModel(), output: model, policies: ['keyfile', 'recovery'], keyFiles: [key], passphrase: PASSPHRASE, home });
    const plain = await createSessionFromMemory(buildDemoModel());
    expected = await runModel(plain, INPUT);
    await plain.release();
    daemon = await startDaemon({ home, port: 0 });
  });
  after(async () => {
    await daemon?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const load = (name: string, keyBytes = key) =>
    request(daemon, 'POST', '/v1/models', { body: { name, path: model, unlock: { keyfile: Buffer.from(keyBytes).toString('base64') } } });

  test('starts locked: inference is refused with 423 E_LOCKED before any unlock', async () => {
    const s = await request(daemon, 'GET', '/v1/session');
    assert.equal(s.status, 200);
    assert.equal(s.body.state, 'locked');
    const r = await request(daemon, 'POST', '/v1/models/demo/infer', { body: { inputs: INPUT }, token: 'A'.repeat(43) });
    assert.equal(r.status, 423);
    assert.equal(r.body.error.code, 'E_LOCKED');
  });

  test('a wrong key file does not unlock (401 E_AUTH); the right one does and inference matches onnxruntime', async () => {
    const wrong = await load('demo', new Uint8Array(randomBytes(32)));
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.code, 'E_AUTH');
    const ok = await load('demo');
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.match(ok.body.token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(ok.body.model.name, 'demo');
    assert.deepEqual(ok.body.model.inputs, ['input']);
    const r = await request(daemon, 'POST', '/v1/models/demo/infer', { body: { inputs: INPUT }, token: ok.body.token });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.outputs, expected);
    const list = await request(daemon, 'GET', '/v1/models', { token: ok.body.token });
    assert.deepEqual(list.body.models.map((m: { name: string }) => m.name), ['demo']);
    const again = await load('demo');
    assert.equal(again.status, 409, 'a loaded name is not silently replaced');
  });

  test('forged or missing tokens: 401; bad requests: clear errors with fitting statuses', async () => {
    const { body } = await load('bad-input');
    const token = body.token as string;
    const forged = await request(daemon, 'POST', '/v1/models/bad-input/infer', { body: { inputs: INPUT }, token: Buffer.from(randomBytes(32)).toString('base64url') });
    assert.equal(forged.status, 401);
    const none = await request(daemon, 'GET', '/v1/models');
    assert.equal(none.status, 401);
    const cases: [string, Parameters<typeof request>[3], number, string][] = [
      ['/v1/models/bad-input/infer', { raw: '{"inputs": ', token }, 400, 'E_USAGE'],
      ['/v1/models/bad-input/infer', { body: { inputs: { input: { type: 'float32', dims: [1, 5], data: [1, 2, 3, 4, 5] } } }, token }, 400, 'E_USAGE'],
      ['/v1/models/bad-input/infer', { body: { inputs: { input: { type: 'int32', dims: [1, 4], data: [1, 2, 3, 4] } } }, token }, 400, 'E_USAGE'],
      ['/v1/models/bad-input/infer', { body: {}, token }, 400, 'E_USAGE'],
      ['/v1/models/nope/infer', { body: { inputs: INPUT }, token }, 404, 'E_NOT_FOUND'],
      ['/v1/models/bad-input/infer', { raw: 'x'.repeat(40 * 1024 * 1024), token }, 413, 'E_TOO_LARGE'],
      ['/v1/models/bad-input/infer', { raw: JSON.stringify({ inputs: INPUT }), token, headers: { 'content-type': 'text/plain' } }, 400, 'E_USAGE'],
      ['/v1/models', { body: { name: '../etc', path: model, unlock: {} } }, 400, 'E_USAGE'],
      ['/v1/models', { body: { name: 'x', path: model, unlock: { keyfile: 'not base64!' } } }, 400, 'E_USAGE'],
      ['/v1/models', { body: { name: 'x', path: model, unlock: { pin: '1234' } } }, 400, 'E_USAGE'],
      ['/v1/models', { body: { name: 'x', path: path.join(dir, 'missing.bseal'), unlock: { passphrase: 'x' } } }, 500, 'E_IO'],
      ['/v1/nothing', {}, 404, 'E_NOT_FOUND'],
    ];
    for (const [url, options, status, code] of cases) {
      const r = await request(daemon, 'POST', url, options);
      assert.equal(r.status, status, `${url} ${JSON.stringify(options).slice(0, 120)}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, code);
      assert.equal(typeof r.body.error.message, 'string');
    }
    const method = await request(daemon, 'PUT', '/v1/lock');
    assert.equal(method.status, 405);
    const health = await request(daemon, 'GET', '/v1/health');
    assert.equal(health.status, 200, 'still serving after the bad requests');
  });

  test('a request naming another host is refused (DNS rebinding)', async () => {
    const r = await request(daemon, 'GET', '/v1/session', { headers: { host: `evil.example:${daemon.port}` } });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'E_FORBIDDEN');
  });

  test('the Unix socket serves the same API and is owner-only', async () => {
    assert.equal(statSync(daemon.socketPath).mode & 0o777, 0o600);
    const r = await request({ socketPath: daemon.socketPath }, 'GET', '/v1/session');
    assert.equal(r.status, 200);
  });

  test('lock: every later request gets 423, old tokens die, models are released; a new unlock gives a new token', async () => {
    const { body } = await load('to-lock');
    const locked = await request(daemon, 'POST', '/v1/lock');
    assert.equal(locked.status, 200);
    assert.equal(locked.body.state, 'locked');
    assert.ok(locked.body.released >= 1);
    const r = await request(daemon, 'POST', '/v1/models/to-lock/infer', { body: { inputs: INPUT }, token: body.token });
    assert.equal(r.status, 423);
    assert.equal(r.body.error.code, 'E_LOCKED');
    assert.match(r.body.error.message, /step-up required/);
    const s = await request(daemon, 'GET', '/v1/session');
    assert.equal(s.body.state, 'locked');
    assert.equal(s.body.models, 0);
    const relock = await load('to-lock');
    assert.equal(relock.status, 201);
    const old = await request(daemon, 'POST', '/v1/models/to-lock/infer', { body: { inputs: INPUT }, token: body.token });
    assert.equal(old.status, 401, 'a token from before the lock stays dead');
    const fresh = await request(daemon, 'POST', '/v1/models/to-lock/infer', { body: { inputs: INPUT }, token: relock.body.token });
    assert.equal(fresh.status, 200);
  });

  test('a request in flight when the lock lands is not served', async () => {
    const { body } = await load('in-flight');
    // Headers and half the body now, the lock, then the rest of the body.
    const payload = JSON.stringify({ inputs: INPUT });
    const reply = new Promise<Reply>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: daemon.port, method: 'POST', path: '/v1/models/in-flight/infer', headers: { 'content-type': 'application/json', authorization: `Bearer ${body.token}`, 'content-length': String(payload.length) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
        },
      );
      req.on('error', reject);
      req.write(payload.slice(0, 10), () => {
        void request(daemon, 'POST', '/v1/lock').then(() => req.end(payload.slice(10)));
      });
    });
    const r = await reply;
    assert.equal(r.status, 423);
    assert.equal(r.body.error.code, 'E_LOCKED');
  });

  test('a lock that lands while the model runs answers 423, not the run cut short', async () => {
    const { body } = await load('mid-run');
    const models = daemon.session.models;
    const infer = models.infer;
    // The lock comes in while the inference session is running (and releases it).
    models.infer = (name, inputs) => {
      const running = infer.call(models, name, inputs);
      void daemon.session.lock('command', 'test: lock during inference');
      return running;
    };
    try {
      const r = await request(daemon, 'POST', '/v1/models/mid-run/infer', { body: { inputs: INPUT }, token: body.token });
      assert.equal(r.status, 423, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'E_LOCKED');
    } finally {
      models.infer = infer;
    }
  });

  test('one daemon per state directory; after it stops, the state can be served again', async () => {
    await assert.rejects(startDaemon({ home, port: 0 }), (e: Error & { code?: string }) => e.code === 'E_EXISTS' && /another bioseal daemon/.test(e.message));
    await daemon.close();
    daemon = await startDaemon({ home, port: 0 });
    const r = await request(daemon, 'GET', '/v1/session');
    assert.equal(r.body.state, 'locked', 'a restart starts locked');
  });

  test('trust: an unlock gives trust from its factors, explained; the policy decides, and names the step-up', async () => {
    const ok = await load('trusted');
    assert.equal(ok.status, 201);
    assert.ok(ok.body.trust > 0.8 && ok.body.trust < 1, `a key file unlock gives about 0.89, got ${ok.body.trust}`);
    const s = await request(daemon, 'GET', '/v1/session');
    assert.equal(s.body.lastChange.event, 'unlock');
    assert.deepEqual(s.body.lastChange.trust.signals.map((x: { factor: string }) => x.factor), ['keyfile']);
    assert.match(s.body.lastChange.explanation, /keyfile/);
    const restricted = await request(daemon, 'POST', '/v1/models', {
      body: { name: 'secret', path: model, sensitivity: 'restricted', unlock: { keyfile: Buffer.from(key).toString('base64') } },
    });
    assert.equal(restricted.status, 403, JSON.stringify(restricted.body));
    assert.equal(restricted.body.error.code, 'E_POLICY');
    assert.match(restricted.body.error.step_up.description, /face or passkey \(seen within 300 s\)/);
    const list = await request(daemon, 'GET', '/v1/models', { token: ok.body.token });
    assert.ok(!list.body.models.some((m: { name: string }) => m.name === 'secret'), 'a denied load leaves nothing loaded');
  });

  test('evidence: typing enrolled for the run raises or lowers trust with an explanation; bad evidence is refused', async () => {
    // Enrolling typing is an enrolment change: the default policy asks for the recovery passphrase or a passkey.
    const ok = await request(daemon, 'POST', '/v1/models', { body: { name: 'typing', path: model, unlock: { passphrase: PASSPHRASE } } });
    assert.equal(ok.status, 201);
    const typist = (seed: number, hold: number, gap: number) => {
      let down = 0;
      return Array.from({ length: 60 }, (_, i) => {
        const jitter = ((i * 7919 + seed * 104729) % 13) - 6;
        down += gap + jitter;
        return { key: 'abcdefgh'[i % 8]!, down, up: down + hold + (jitter % 3) };
      });
    };
    const enrol = await request(daemon, 'POST', '/v1/enrolments/keystroke', { body: { samples: [1, 2, 3, 4, 5].map((k) => typist(k, 90, 160)), model: 'typing' }, token: ok.body.token });
    assert.equal(enrol.status, 201, JSON.stringify(enrol.body));
    const owner = await request(daemon, 'POST', '/v1/evidence', { body: { type: 'keystroke', events: typist(9, 90, 160) }, token: ok.body.token });
    assert.equal(owner.status, 200, JSON.stringify(owner.body));
    const other = await request(daemon, 'POST', '/v1/evidence', { body: { type: 'keystroke', events: typist(9, 40, 420) }, token: ok.body.token });
    assert.equal(other.status, 200);
    const contribution = (r: Reply) => r.body.explanation.signals.find((x: { factor: string }) => x.factor === 'keystroke').contribution;
    assert.ok(contribution(owner) > 0, 'the owner\'s rhythm raises trust');
    assert.ok(contribution(other) < 0, 'another rhythm lowers it');
    assert.match(other.body.explanation.summary, /keystroke/);
    const history = await request(daemon, 'GET', '/v1/trust', { token: ok.body.token });
    assert.ok(history.body.history.length >= 3);
    for (const bad of [{ type: 'smell' }, { type: 'keystroke', events: 'abc' }, { type: 'face', image: '***' }]) {
      const r = await request(daemon, 'POST', '/v1/evidence', { body: bad, token: ok.body.token });
      assert.equal(r.status, 400, JSON.stringify(bad));
    }
  });

  test('trust that decays below the threshold locks the session by itself', async () => {
    await daemon.close();
    daemon = await startDaemon({ home, port: 0, trust: { halfLifeSeconds: 1, lockThreshold: 0.5 } });
    assert.equal((await load('decaying')).status, 201);
    for (let i = 0; i < 400 && !daemon.session.locked; i++) await new Promise((r) => setTimeout(r, 25));
    const s = await request(daemon, 'GET', '/v1/session');
    assert.equal(s.body.state, 'locked');
    assert.equal(s.body.lockReason, 'trust');
  });

  test('a policy file that does not parse or validate keeps the daemon from starting, with the parser\'s message', async () => {
    await daemon.close();
    const bad = path.join(dir, 'bad.cedar');
    writeFileSync(bad, 'permit (principal, action == Action::"model:infer", resource) when { context.trust >= };');
    await assert.rejects(startDaemon({ home, port: 0, policyFile: bad }), (e: Error & { code?: string }) => e.code === 'E_POLICY' && /bad\.cedar/.test(e.message));
    const strict = path.join(dir, 'strict.cedar');
    writeFileSync(strict, '@id("infer-high")\n@minTrust("0.95")\n@stepup("face|passkey")\npermit (principal, action == Action::"model:infer", resource) when { context.trust >= 950 };\npermit (principal, action in [Action::"model:load", Action::"session:unlock"], resource);\n');
    daemon = await startDaemon({ home, port: 0, policyFile: strict });
    const ok = await load('strict');
    assert.equal(ok.status, 201);
    const r = await request(daemon, 'POST', '/v1/models/strict/infer', { body: { inputs: INPUT }, token: ok.body.token });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'E_POLICY');
    assert.match(r.body.error.step_up.description, /trust 0\.95 needed/);
  });

  test('every unlock, decision, lock and trust change is in the audit log, and the log verifies', async () => {
    await daemon.close();
    const { openAuditLog } = await import('../../src/audit/index.js');
    const log = await openAuditLog(home, { readOnly: true });
    try {
      const types = new Set(log.entries().map((e) => `${e.type}:${e.decision}`));
      for (const t of ['daemon:start', 'daemon:stop', 'unlock:allow', 'unlock:fail', 'decision:allow', 'decision:deny', 'lock:command', 'lock:trust', 'trust:raised', 'trust:lowered']) {
        assert.ok(types.has(t), `${t} recorded (have: ${[...types].join(', ')})`);
      }
      assert.equal(log.verify().ok, true);
    } finally {
      log.close();
    }
    daemon = await startDaemon({ home, port: 0 });
  });

  test('idle timeout locks the session', async () => {
    await daemon.close();
    daemon = await startDaemon({ home, port: 0, idleTimeoutMs: 50 });
    assert.equal((await load('idle')).status, 201);
    // Poll for the lock rather than assume a timing.
    for (let i = 0; i < 200 && !daemon.session.locked; i++) await new Promise((r) => setTimeout(r, 25));
    const s = await request(daemon, 'GET', '/v1/session');
    assert.equal(s.body.state, 'locked');
    assert.equal(s.body.lockReason, 'idle');
  });
});
