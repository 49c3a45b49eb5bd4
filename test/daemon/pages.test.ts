/**
 * The daemon's web pages end to end in Debian's Chromium (playwright-core):
 * a fake camera filming a real face (YUV4MPEG2 made here from face-api's
 * demo photo, see fake-camera.ts) and a virtual WebAuthn authenticator.
 * One browser and one daemon for the file; the face model loads once.
 *
 * Covered: how the pages are served (CSP, versioned assets, content types,
 * localhost redirect, Host check); the overview and its trust graph; unlock
 * on the page; face enrolment with the liveness challenge (the challenge
 * performed passes; a still photo and the wrong action fail); passkey
 * enrolment; a denied action's step-up by face and by passkey, after which
 * the action succeeds; replayed and forged passkey touches; the audit page
 * and its verification. Screenshots go to a temporary folder (kept when
 * BIOSEAL_SCREENSHOTS names a folder).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startDaemon, type Daemon } from '../../src/daemon/server.js';
import { buildDemoModel } from '../../src/onnx/model-builder.js';
import { sealModel } from '../../src/operations/seal.js';
import { sharedEmbedder } from '../../src/biometrics/face/shared-embedder.js';
import { CHROMIUM_PATH, OFFLINE_CHROMIUM_ARGS, virtualAuthenticatorOptions } from '../../src/bench/headless-chromium.js';
import type { Challenge } from '../../src/biometrics/liveness/challenge.js';
import { buildFilms, writeVideo, type Films } from './fake-camera.js';

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

function request(port: number, method: string, urlPath: string, o: { host?: string; token?: string; body?: unknown } = {}): Promise<Reply> {
  const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        headers: {
          host: o.host ?? `localhost:${port}`,
          ...(payload !== undefined && { 'content-type': 'application/json' }),
          ...(o.token && { authorization: `Bearer ${o.token}` }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const PASSPHRASE = 'correct horse battery staple';
const SLOW = { timeout: 120_000 };

describe('the daemon\'s web pages in Chromium', () => {
  let dir: string;
  let home: string;
  let model: string;
  let keyFile: string;
  let camera: string;
  let shots: string;
  let films: Films;
  let daemon: Daemon;
  let browser: Browser;
  let page: Page;
  /** The session token the page last sent (seen on the wire, as any local observer of the page's requests would). */
  let token = '';
  const evidenceBodies: string[] = [];

  const ui = () => `http://localhost:${daemon.port}/ui/`;
  const shot = (name: string, fullPage = true) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage });
  const film = (frames: Films['idle']) => writeVideo(camera, frames);
  const view = async (name: string) => {
    await page.goto(`${ui()}#${name}`);
    await page.waitForSelector(`section#view-${name}[data-active]`, { state: 'attached' });
  };
  const text = async (selector: string) => (await page.textContent(selector)) ?? '';
  const outcome = async (selector: string, timeout = 30_000) => {
    await page.waitForSelector(`${selector}[data-state="ok"], ${selector}[data-state="failed"]`, { state: 'attached', timeout });
    return { state: await page.getAttribute(selector, 'data-state'), text: await text(selector) };
  };
  /** Polls until `check` holds (no fixed sleeps: the page polls the daemon every second). */
  const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 20_000) => {
    const end = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const graphEvents = async () => Number(await page.getAttribute('#trust-graph', 'data-events'));
  const sessionTrust = async () => JSON.parse((await request(daemon.port, 'GET', '/v1/session')).text).trust as number;

  /** Fills the unlock form and submits it (the page stays on the unlock view). */
  const unlock = async (o: { name: string; factor: 'keyfile' | 'passphrase'; sensitivity?: string; passphrase?: string }) => {
    await view('unlock');
    await page.fill('#unlock-name', o.name);
    await page.fill('#unlock-path', model);
    await page.selectOption('#unlock-sensitivity', o.sensitivity ?? 'internal');
    for (const f of ['passphrase', 'keyfile', 'face']) await page.setChecked(`input[name=factor][value=${f}]`, f === o.factor);
    if (o.factor === 'keyfile') await page.setInputFiles('#unlock-keyfile', keyFile);
    else await page.fill('#unlock-passphrase', o.passphrase ?? PASSPHRASE);
    await page.evaluate("document.getElementById('unlock-status').removeAttribute('data-state')");
    await page.click('#unlock-submit');
  };

  /** Locks with the page's button, then unlocks "demo" with the key file: trust about 0.89, no biometric seen. */
  const lockAndUnlock = async () => {
    await page.click('#lock');
    await page.waitForSelector('#state-badge[data-state="locked"]', { state: 'attached' });
    await page.waitForSelector('body[data-token="absent"]', { state: 'attached' });
    await unlock({ name: 'demo', factor: 'keyfile' });
    assert.equal((await outcome('#unlock-status')).state, 'ok');
  };

  /** Asks for a face challenge, films `frames(action)` and returns what the page says. */
  const enrolFace = async (frames: (action: Challenge) => Films['idle'], overwrite: boolean, screenshot?: string) => {
    await view('enrol');
    await page.setChecked('#face-overwrite', overwrite);
    await page.click('#face-challenge');
    await page.waitForSelector('#face-prompt:not([data-action=""])', { state: 'attached' });
    const action = (await page.getAttribute('#face-prompt', 'data-action')) as Challenge;
    assert.ok(['blink', 'turn-left', 'turn-right'].includes(action), action);
    await film(frames(action));
    await page.click('#face-start');
    await page.waitForSelector('#face-status[data-state="busy"]', { state: 'attached' });
    if (screenshot) await shot(screenshot);
    return { action, ...(await outcome('#face-status', 90_000)) };
  };

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-pages-'));
    home = path.join(dir, 'home');
    model = path.join(dir, 'demo.bseal');
    keyFile = path.join(dir, 'demo.key');
    camera = path.join(dir, 'camera.y4m');
    shots = process.env.BIOSEAL_SCREENSHOTS ?? path.join(dir, 'screenshots');
    mkdirSync(shots, { recursive: true });
    const key = new Uint8Array(randomBytes(32));
    writeFileSync(keyFile, key);
    await sealModel({ input: buildDemoModel(), output: model, policies: ['keyfile', 'recovery'], keyFiles: [key], passphrase: PASSPHRASE, home });
    const embedder = await sharedEmbedder();
    films = await buildFilms((img) => embedder.analyze(img));
    await film(films.idle);
    daemon = await startDaemon({ home, port: 0 });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [...OFFLINE_CHROMIUM_ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${camera}`],
    });
    const context = await browser.newContext({ viewport: { width: 1100, height: 860 } });
    page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', { options: virtualAuthenticatorOptions() });
    page.on('request', (r) => {
      const auth = r.headers().authorization;
      if (auth?.startsWith('Bearer ')) token = auth.slice(7);
      if (r.url().endsWith('/v1/evidence')) evidenceBodies.push(r.postData() ?? '');
    });
  });

  after(async () => {
    await browser?.close();
    await daemon?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('pages are served with a strict CSP, versioned assets and their content types; 127.0.0.1 is sent to localhost; other hosts are refused', async () => {
    const redirect = await request(daemon.port, 'GET', '/ui/', { host: `127.0.0.1:${daemon.port}` });
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.location, `http://localhost:${daemon.port}/ui/`);
    assert.equal((await request(daemon.port, 'GET', '/')).headers.location, '/ui/');
    const html = await request(daemon.port, 'GET', '/ui/');
    assert.equal(html.status, 200);
    assert.equal(html.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(html.headers['cache-control'], 'no-store');
    const csp = String(html.headers['content-security-policy']);
    for (const directive of ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) assert.ok(csp.includes(directive), csp);
    assert.ok(!csp.includes('unsafe'), csp);
    assert.equal(html.headers['x-content-type-options'], 'nosniff');
    assert.doesNotMatch(html.text, /<script>|<script(?![^>]*\ssrc=)[^>]*>|\son[a-z]+=|style=/i, 'no inline script, handler or style');
    const assets = [...html.text.matchAll(/(?:src|href)="(\/ui\/v\/[0-9a-f]{16}\/[a-z.-]+)"/g)].map((m) => m[1]!);
    assert.ok(assets.length >= 3, html.text);
    const types: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml' };
    for (const a of assets) {
      const r = await request(daemon.port, 'GET', a);
      assert.equal(r.status, 200, a);
      assert.equal(r.headers['content-type'], types[a.split('.').pop()!], a);
      assert.match(String(r.headers['cache-control']), /immutable/);
      assert.ok(r.headers['content-security-policy']);
    }
    const stale = await request(daemon.port, 'GET', assets[0]!.replace(/\/v\/[0-9a-f]{16}\//, '/v/0000000000000000/'));
    assert.equal(stale.status, 404, 'an asset of another version is not served');
    const rebinding = await request(daemon.port, 'GET', '/ui/', { host: `attacker.example:${daemon.port}` });
    assert.equal(rebinding.status, 403);
    assert.equal(JSON.parse(rebinding.text).error.code, 'E_FORBIDDEN');
    for (const [method, url] of [['GET', '/v1/audit'], ['GET', '/v1/enrolments'], ['POST', '/v1/challenges/face'], ['POST', '/v1/enrolments/face']] as const) {
      const r = await request(daemon.port, method, url, { body: method === 'POST' ? {} : undefined });
      assert.equal(r.status, 423, `${method} ${url} needs an unlocked session`);
    }
  });

  test('overview: locked at first; unlocking with a key file on the unlock page gives the page a token, and the overview shows the model and the trust graph', async () => {
    await view('overview');
    await page.waitForSelector('#state-badge[data-state="locked"]', { state: 'attached' });
    assert.equal(await page.getAttribute('body', 'data-token'), 'absent');
    await unlock({ name: 'wrong', factor: 'passphrase', passphrase: 'not the passphrase' });
    const wrong = await outcome('#unlock-status');
    assert.equal(wrong.state, 'failed');
    assert.match(wrong.text, /E_AUTH/);
    await unlock({ name: 'demo', factor: 'keyfile' });
    const ok = await outcome('#unlock-status');
    assert.equal(ok.state, 'ok', ok.text);
    assert.match(ok.text, /Unlocked "demo" \(key slot \d+: keyfile\); trust 0\.8\d\d/);
    assert.equal(await page.getAttribute('body', 'data-token'), 'present');
    await page.click('a[data-view=overview]');
    await page.waitForSelector('#models tr', { state: 'attached' });
    assert.match(await text('#models'), /demo.*internal.*keyfile/s);
    await page.waitForSelector('#state-badge[data-state="unlocked"]', { state: 'attached' });
    await until('the unlock in the trust graph', async () => (await graphEvents()) >= 1);
    assert.match(await text('#events'), /unlock → 0\.8\d\d: model "demo" unlocked through key slot \d+ \(keyfile\).*keyfile \+/);
    assert.match(await text('#ov-last'), /unlock: .*keyfile/);
    // The page keeps no token where it would outlive the document.
    const stored = await page.evaluate('({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie })');
    assert.deepEqual(stored, { local: 0, session: 0, cookie: '' });
  });

  test('passkey enrolment on the enrol page (after a recovery unlock, as the policy asks); a second one of the same name is refused unless replacing', async () => {
    await unlock({ name: 'typed', factor: 'passphrase' });
    assert.equal((await outcome('#unlock-status')).state, 'ok');
    await view('enrol');
    await page.click('#passkey-register');
    const done = await outcome('#passkey-status');
    assert.equal(done.state, 'ok', done.text);
    assert.match(done.text, /Passkey "default" enrolled/);
    await page.waitForSelector('#enrolments tr', { state: 'attached' });
    assert.match(await text('#enrolments'), /passkey\s*default\s*[0-9a-f]{32}/);
    await page.evaluate("document.getElementById('passkey-status').removeAttribute('data-state')");
    await page.click('#passkey-register');
    const again = await outcome('#passkey-status');
    assert.equal(again.state, 'failed');
    assert.match(again.text, /E_EXISTS/);
  });

  test('face enrolment with the liveness challenge: the challenge performed on camera enrols; a still photo and the wrong action do not', SLOW, async () => {
    const live = await enrolFace((action) => films.challenge[action], false, 'enrol-filming');
    assert.equal(live.state, 'ok', `${live.action}: ${live.text}`);
    assert.match(live.text, /Face "default" enrolled: (blink|turn) seen at frame \d+; template from [3-5] of 16 frames/);
    await shot('enrol');
    const enrolled = JSON.parse((await request(daemon.port, 'GET', '/v1/enrolments', { token })).text);
    assert.equal(enrolled.face.length, 1);

    const still = await enrolFace(() => films.still, true);
    assert.equal(still.state, 'failed');
    assert.match(still.text, /E_ENROLMENT: the liveness challenge "[a-z-]+" was not performed: the frames do not change: a still image/);

    const wrongAction = await enrolFace((action) => films.challenge[action === 'blink' ? 'turn-left' : action === 'turn-left' ? 'turn-right' : 'blink'], true);
    assert.equal(wrongAction.state, 'failed');
    assert.match(wrongAction.text, /E_ENROLMENT: the liveness challenge "[a-z-]+" was not performed: (no blink seen|the head turned the other way|no turn to the (left|right) seen)/);

    const after = JSON.parse((await request(daemon.port, 'GET', '/v1/enrolments', { token })).text);
    assert.deepEqual(after.face, enrolled.face, 'failed attempts leave the enrolment as it was');
    // A challenge answers once.
    const c = JSON.parse((await request(daemon.port, 'POST', '/v1/challenges/face', { token, body: {} })).text);
    const frames = Array.from({ length: 4 }, () => 'AAAA');
    const first = await request(daemon.port, 'POST', '/v1/enrolments/face', { token, body: { challenge: c.challenge, frames, overwrite: true } });
    assert.equal(first.status, 422, first.text);
    const replay = await request(daemon.port, 'POST', '/v1/enrolments/face', { token, body: { challenge: c.challenge, frames, overwrite: true } });
    assert.equal(replay.status, 400);
    assert.match(JSON.parse(replay.text).error.message, /no open face liveness challenge/);
  });

  test('a denied action shows its step-up; a face re-check from the camera raises trust, the graph shows it, and the action then succeeds', SLOW, async () => {
    await film(films.idle);
    await lockAndUnlock();
    await view('overview');
    await until('the unlock in the graph', async () => /unlock → 0\.8\d\d/.test(await text('#events')));
    const eventsBefore = await graphEvents();
    const trustBefore = await sessionTrust();
    await unlock({ name: 'secret', factor: 'keyfile', sensitivity: 'restricted' });
    await page.waitForSelector('#stepup[data-state="shown"]', { state: 'attached' });
    assert.match(await text('#stepup-action'), /load model "secret"/);
    assert.match(await text('#stepup-description'), /present face or passkey \(seen within 300 s\)/);
    assert.equal(await page.isVisible('#stepup-face'), true);
    assert.equal(await page.isVisible('#stepup-passkey'), true);
    await shot('step-up');
    await page.click('#stepup-face');
    const ok = await outcome('#unlock-status', 60_000);
    assert.equal(ok.state, 'ok', ok.text);
    assert.match(ok.text, /Unlocked "secret"/);
    assert.equal(await page.getAttribute('#stepup', 'data-state'), 'done');
    assert.ok((await sessionTrust()) > trustBefore, 'the face re-check raised trust');
    await page.click('a[data-view=overview]');
    await until('the face re-check in the graph', async () => (await graphEvents()) > eventsBefore);
    assert.match(await text('#events'), /evidence → 0\.9\d+: trust 0\.8\d+ -> 0\.9\d+: .*?; face \+0\.1\d+ \(face match score 1/);
    await until('the restricted model in the list', async () => /secret.*restricted/s.test(await text('#models')));
    await shot('overview');
  });

  test('after a lock, a passkey touch is the step-up: the daemon verifies it and the action succeeds; replayed or forged touches do not count', SLOW, async () => {
    await lockAndUnlock();
    const trustBefore = await sessionTrust();
    await unlock({ name: 'secret', factor: 'keyfile', sensitivity: 'restricted' });
    await page.waitForSelector('#stepup[data-state="shown"]', { state: 'attached' });
    await page.click('#stepup-passkey');
    const ok = await outcome('#unlock-status', 60_000);
    assert.equal(ok.state, 'ok', ok.text);
    assert.ok((await sessionTrust()) > trustBefore, 'the verified touch raised trust');
    await view('overview');
    await until('the passkey touch in the events', async () => /evidence → 0\.9\d+: trust 0\.8\d+ -> 0\.9\d+: .*?; passkey \+0\.1\d+ \(passkey touch verified/.test(await text('#events')));

    const touch = JSON.parse(evidenceBodies.filter((b) => b.includes('"passkey"')).pop()!);
    const replay = await request(daemon.port, 'POST', '/v1/evidence', { token, body: touch });
    assert.equal(replay.status, 400, 'a used challenge answers no more');
    // The same signed answer against a fresh challenge: it signed another one, so it does not verify, and counts against.
    const fresh = JSON.parse((await request(daemon.port, 'POST', '/v1/challenges/passkey', { token, body: { purpose: 'assert' } })).text);
    const before = await sessionTrust();
    const forged = await request(daemon.port, 'POST', '/v1/evidence', { token, body: { ...touch, challenge: fresh.challenge } });
    assert.equal(forged.status, 200, forged.text);
    const answer = JSON.parse(forged.text);
    assert.match(answer.explanation.summary, /passkey -0\.\d+ \(passkey assertion failed/);
    const said = JSON.parse((await request(daemon.port, 'GET', '/v1/session')).text).lastChange.explanation;
    assert.match(said, /^passkey touch: passkey "default" not verified: the passkey assertion did not verify/);
    assert.ok(answer.trust < before, 'a failed touch lowers trust');
    const malformed = await request(daemon.port, 'POST', '/v1/evidence', { token, body: { type: 'passkey', challenge: fresh.challenge, credential: { id: '!' } } });
    assert.equal(malformed.status, 400);
    const viaIp = await request(daemon.port, 'POST', '/v1/challenges/passkey', { token, host: `127.0.0.1:${daemon.port}`, body: { purpose: 'assert' } });
    assert.equal(viaIp.status, 400, 'a passkey challenge needs the localhost origin');
  });

  test('the audit page lists the entries, newest first, and shows the log verifies', async () => {
    await view('audit');
    await page.fill('#audit-since', '1h');
    await page.click('#audit-refresh');
    await page.waitForSelector('#audit-verify[data-ok="true"]', { state: 'attached' });
    assert.match(await text('#audit-verify'), /^OK: \d+ entries, \d+ signed tree heads/);
    const rows = await text('#audit-entries');
    for (const expected of [/enrolment\s*enrolled\s*passkey:default/, /enrolment\s*enrolled\s*face:default/, /enrolment\s*refused\s*face/, /decision\s*deny\s*secret/, /lock\s*command/, /unlock\s*allow\s*demo/]) {
      assert.match(rows, expected);
    }
    await shot('audit', false);
    const bad = await request(daemon.port, 'GET', '/v1/audit?since=yesterday-ish', { token });
    assert.equal(bad.status, 400);
    const some = JSON.parse((await request(daemon.port, 'GET', '/v1/audit?limit=3', { token })).text);
    assert.equal(some.entries.length, 3);
    assert.ok(some.matched > 3);
    assert.equal(some.verify.ok, true);
  });
});
