/**
 * enrol.js: face enrolment with the liveness challenge (the daemon draws
 * blink, turn left or turn right; the page films about three seconds and
 * sends the frames; the daemon checks the action across them and enrols),
 * passkey registration, and the list of enrolments. Changing an enrolment
 * is a policy decision (enrolment:change); a denial shows its step-up.
 */
export const ENROL_JS = String.raw`import { api, hasToken } from './api.js';
import { openCamera, captureFrames } from './camera.js';
import { createPasskey } from './webauthn.js';
import { guarded } from './stepup.js';
import { $, status, row, clear, when } from './dom.js';

let challenge = null;

function failed(line, e) {
  status(line, 'failed', (e.code ? e.code + ': ' : '') + (e.message || String(e)));
}

export async function refreshEnrolments() {
  const body = $('enrolments');
  clear(body);
  if (!hasToken()) return;
  const list = await api('GET', '/v1/enrolments');
  for (const f of ['face', 'passkey']) for (const e of list[f]) body.appendChild(row([f, e.name, e.id, when(e.created)]));
}

async function newChallenge() {
  const line = $('face-status');
  const prompt = $('face-prompt');
  $('face-start').disabled = true;
  try {
    const name = $('face-name').value.trim();
    challenge = await guarded('change the face enrolment "' + name + '"', () => api('POST', '/v1/challenges/face', { name }));
    prompt.textContent = challenge.prompt;
    prompt.dataset.action = challenge.action;
    $('face-start').disabled = false;
    status(line, '', 'Press Start when ready.');
  } catch (e) {
    failed(line, e);
  }
}

async function film() {
  const line = $('face-status');
  const prompt = $('face-prompt');
  const c = challenge;
  challenge = null;
  $('face-start').disabled = true;
  if (!c) return;
  try {
    const video = $('face-video');
    const camera = await openCamera(video);
    let frames;
    try {
      frames = await captureFrames(video, c.frames, c.intervalMs, (i) => status(line, 'busy', c.prompt + ' (' + i + '/' + c.frames + ')'));
    } finally {
      camera.stop();
    }
    status(line, 'busy', 'Checking the challenge and enrolling…');
    const r = await api('POST', '/v1/enrolments/face', { challenge: c.challenge, frames, name: $('face-name').value.trim(), overwrite: $('face-overwrite').checked });
    status(line, 'ok', 'Face "' + r.enrolled + '" enrolled: ' + r.liveness + '; template from ' + r.enrolledFrom + ' of ' + r.frames + ' frames.');
    await refreshEnrolments();
  } catch (e) {
    failed(line, e);
  } finally {
    prompt.textContent = '';
    prompt.dataset.action = '';
  }
}

async function registerPasskey() {
  const line = $('passkey-status');
  const button = $('passkey-register');
  button.disabled = true;
  try {
    const name = $('passkey-name').value.trim();
    const c = await guarded('change the passkey enrolment "' + name + '"', () => api('POST', '/v1/challenges/passkey', { purpose: 'register', name, overwrite: $('passkey-overwrite').checked }));
    status(line, 'busy', 'Follow your browser\'s passkey prompt…');
    const credential = await createPasskey(c.publicKey);
    const r = await api('POST', '/v1/enrolments/passkey', { challenge: c.challenge, credential });
    status(line, 'ok', 'Passkey "' + r.enrolled + '" ' + (r.replaced ? 're-enrolled' : 'enrolled') + '.');
    await refreshEnrolments();
  } catch (e) {
    failed(line, e);
  } finally {
    button.disabled = false;
  }
}

export function initEnrol() {
  $('face-challenge').addEventListener('click', () => void newChallenge());
  $('face-start').addEventListener('click', () => void film());
  $('passkey-register').addEventListener('click', () => void registerPasskey());
}
`;
