/**
 * Face unlock from the camera on the daemon's Unlock page, end to end in
 * Debian's Chromium (playwright-core) with the fake camera (fake-camera.ts).
 *
 * The owner is person "b" of face-api's demo photos: enrolled from three
 * crops of that photo (as `bioseal enroll face --images` would), and a model
 * sealed under "face & keyfile" with a fourth. The camera then films the
 * same person (the frontal film of fake-camera.ts: the photo warped to face
 * the camera, through YUV and the page's JPEG), and the page sends three
 * frames with the key file: the model loads and the unlock counts the face.
 * The camera filming another person (person "c") or no face at all, with
 * the right key file, loads nothing and gives the page no token.
 * Screenshots go to a temporary folder (kept when BIOSEAL_SCREENSHOTS names
 * a folder).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { openAuditLog } from '../../src/audit/index.js';
import { startDaemon, type Daemon } from '../../src/daemon/server.js';
import { buildDemoModel } from '../../src/onnx/model-builder.js';
import { sealModel } from '../../src/operations/seal.js';
import { enrolFace } from '../../src/enrolment/face.js';
import { sharedEmbedder } from '../../src/biometrics/face/shared-embedder.js';
import type { FaceAnalysis } from '../../src/biometrics/face/embedder.js';
import type { DecodedImage } from '../../src/biometrics/face/image.js';
import { CHROMIUM_PATH, OFFLINE_CHROMIUM_ARGS } from '../../src/bench/headless-chromium.js';
import { faceCrop, FACES, noiseImage, scaleBrightness } from '../biometrics/face/fixtures.js';
import { buildFilms, writeVideo, type Films } from './fake-camera.js';

/** GET `urlPath` from the daemon as the page would (Host localhost), with the token if given. */
function getJson(port: number, urlPath: string, token?: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: 'GET', path: urlPath, headers: { host: `localhost:${port}`, ...(token && { authorization: `Bearer ${token}` }) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const SLOW = { timeout: 120_000 };
const JPEG_BASE64 = /^\/9j\//;

describe('face unlock from the camera on the unlock page', () => {
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
  /** What the page posted to /v1/models, and the bearer token it last sent. */
  const unlockBodies: string[] = [];
  let token = '';

  const ui = () => `http://localhost:${daemon.port}/ui/`;
  const shot = (name: string) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  const text = async (selector: string) => (await page.textContent(selector)) ?? '';
  const session = async () => (await getJson(daemon.port, '/v1/session')).body as { state: string; models: number; lastChange: { event: string; explanation: string } };
  /** Polls until `check` holds (no fixed sleeps: the overview polls the daemon every second). */
  const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 20_000) => {
    const end = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const outcome = async () => {
    await page.waitForSelector('#unlock-status[data-state="ok"], #unlock-status[data-state="failed"]', { state: 'attached', timeout: 90_000 });
    return { state: await page.getAttribute('#unlock-status', 'data-state'), text: await text('#unlock-status') };
  };

  /** Ticks face and key file on the unlock page, chooses the key file and presses Unlock with the camera filming `frames`. */
  const unlockWithFace = async (frames: readonly DecodedImage[], filmingShot?: string) => {
    await writeVideo(camera, frames);
    await page.goto(`${ui()}#unlock`);
    await page.waitForSelector('section#view-unlock[data-active]', { state: 'attached' });
    await page.fill('#unlock-name', 'owner');
    await page.fill('#unlock-path', model);
    await page.setChecked('input[name=factor][value=passphrase]', false);
    await page.setChecked('input[name=factor][value=keyfile]', true);
    await page.setChecked('input[name=factor][value=face]', true);
    assert.equal(await page.isVisible('#unlock-face-row'), true, 'ticking face shows the camera row');
    assert.equal(await page.isVisible('#unlock-passphrase-row'), false);
    await page.setInputFiles('#unlock-keyfile', keyFile);
    const posted = page.waitForRequest((r) => r.url().endsWith('/v1/models') && r.method() === 'POST');
    await page.click('#unlock-submit');
    // The camera shows for the 0.6 s between the first and the last frame; the picture is taken if that is caught (nothing is asserted on it).
    if (filmingShot && (await page.waitForSelector('#unlock-status:text-matches("\\([12]/3\\)")', { timeout: 10_000 }).then(() => true, () => false))) await shot(filmingShot);
    const body = JSON.parse((await posted).postData() ?? '{}');
    return { body, ...(await outcome()) };
  };

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-pages-face-'));
    home = path.join(dir, 'home');
    model = path.join(dir, 'owner.bseal');
    keyFile = path.join(dir, 'owner.key');
    camera = path.join(dir, 'camera.y4m');
    shots = process.env.BIOSEAL_SCREENSHOTS ?? path.join(dir, 'screenshots');
    mkdirSync(shots, { recursive: true });
    const embedder = await sharedEmbedder();
    const analyse = (img: DecodedImage) => embedder.analyze(img);
    // Enrolment and the sealing capture: different crops and exposures of the owner's photo.
    const crops = await Promise.all([
      faceCrop(FACES.b, { size: 320, margin: 1.8 }),
      faceCrop(FACES.b, { size: 360, margin: 1.6 }).then((img) => scaleBrightness(img, 0.9)),
      faceCrop(FACES.b, { size: 300, margin: 2.0 }),
      faceCrop(FACES.b, { size: 340, margin: 1.7 }),
    ]);
    const analyses = await Promise.all(crops.map(analyse));
    await enrolFace({ home, name: 'default', samples: analyses.slice(0, 3).map((analysis, i) => ({ label: `owner-${i + 1}.jpg`, analysis })) });
    const key = new Uint8Array(randomBytes(32));
    writeFileSync(keyFile, key);
    const sealingFace: readonly FaceAnalysis[] = [analyses[3]!];
    await sealModel({ input: buildDemoModel(), output: model, policies: ['face & keyfile'], keyFiles: [key], face: { capture: async () => sealingFace }, home });
    films = await buildFilms(analyse);
    await writeVideo(camera, films.idle);
    daemon = await startDaemon({ home, port: 0 });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [...OFFLINE_CHROMIUM_ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${camera}`],
    });
    const context = await browser.newContext({ viewport: { width: 1100, height: 860 } });
    page = await context.newPage();
    page.on('request', (r) => {
      const auth = r.headers().authorization;
      if (auth?.startsWith('Bearer ')) token = auth.slice(7);
      if (r.url().endsWith('/v1/models') && r.method() === 'POST') unlockBodies.push(r.postData() ?? '');
    });
  });

  after(async () => {
    await browser?.close();
    await daemon?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the owner on camera with the key file: the model loads, the page gets a token, and the unlock counts the face', SLOW, async () => {
    const r = await unlockWithFace(films.idle, 'face-unlock-filming');
    assert.equal(r.state, 'ok', r.text);
    assert.match(r.text, /^Unlocked "owner" \(key slot \d+: (face & keyfile|keyfile & face)\); trust 0\.9\d\d\.$/);
    // What went over the wire: the key file and three camera frames as base64 JPEG, nothing else.
    assert.deepEqual(Object.keys(r.body.unlock).sort(), ['face', 'keyfile']);
    assert.equal(r.body.unlock.face.length, 3);
    for (const frame of r.body.unlock.face) assert.match(frame, JPEG_BASE64);
    assert.equal(await page.getAttribute('body', 'data-token'), 'present');
    assert.equal(await page.isVisible('#unlock-video'), false, 'the camera is closed after the capture');
    await shot('face-unlock');

    await page.click('a[data-view=overview]');
    await page.waitForSelector('#models tr', { state: 'attached' });
    assert.match(await text('#models'), /owner.*internal.*slot \d+: (face & keyfile|keyfile & face)/s);
    assert.ok(token, 'the page sent its token on the overview\'s requests');
    const listed = await getJson(daemon.port, '/v1/models', token);
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.models.map((m: { name: string }) => m.name), ['owner']);
    assert.deepEqual([...listed.body.models[0].factors].sort(), ['face', 'keyfile']);
    const s = await session();
    assert.equal(s.state, 'unlocked');
    assert.equal(s.models, 1);
    // The unlock is the session's evidence: the face is one of the factors it counted.
    const trust = await getJson(daemon.port, '/v1/trust', token);
    const unlock = trust.body.history.filter((p: { event: string }) => p.event === 'unlock').pop();
    assert.match(unlock.summary, /face \+\d/);
    assert.match(unlock.summary, /keyfile \+\d/);
    // The overview's event list (filled from the trust history) says the same.
    await until('the unlock in the overview\'s events', async () => /unlock → 0\.9\d\d: model "owner" unlocked through key slot \d+ \((face & keyfile|keyfile & face)\)/.test(await text('#events')));
  });

  test('another person, or no face, on camera with the right key file: refused with the reason, no token, nothing loaded', SLOW, async () => {
    await page.click('#lock');
    await page.waitForSelector('body[data-token="absent"]', { state: 'attached' });
    assert.equal((await session()).state, 'locked');

    // Cut close: the group photo has a neighbour at the usual margin.
    const other = await faceCrop(FACES.c, { size: 480, margin: 1.3 });
    const stranger = await unlockWithFace([other, scaleBrightness(other, 0.95), scaleBrightness(other, 1.05)]);
    assert.equal(stranger.state, 'failed');
    assert.equal(stranger.body.unlock.face.length, 3);
    assert.match(stranger.text, /^E_AUTH: unlock failed: no key slot accepted the supplied factors/);
    // Why the face was refused is for the owner's audit log, not for whoever stands at the camera.
    assert.doesNotMatch(stranger.text, /face:|does not match|liveness|anti-spoof/);
    const log = await openAuditLog(home, { readOnly: true });
    try {
      const failed = log.entries().filter((e) => e.type === 'unlock' && e.decision === 'fail').pop();
      assert.ok(failed, 'the failed unlock is in the audit log');
      assert.equal(failed.subject, 'owner');
      assert.match(failed.reasons.join('\n'), /^face: (the face does not match the enrolment|anti-spoof score|liveness score)/m);
      assert.equal((failed.details as { refusals?: { factor: string }[] }).refusals?.[0]?.factor, 'face');
    } finally {
      log.close();
    }
    await shot('face-unlock-refused');
    assert.equal(await page.getAttribute('body', 'data-token'), 'absent');
    let s = await session();
    assert.equal(s.state, 'locked');
    assert.equal(s.models, 0);

    const empty = await unlockWithFace([noiseImage(480, 480, 3), noiseImage(480, 480, 5), noiseImage(480, 480, 9)]);
    assert.equal(empty.state, 'failed');
    assert.match(empty.text, /^E_FACE_NOT_FOUND: no face found/);
    assert.equal(await page.getAttribute('body', 'data-token'), 'absent');
    s = await session();
    assert.equal(s.state, 'locked');
    assert.equal(s.models, 0);
    assert.equal(unlockBodies.length, 3, 'one request per attempt');
  });
});
