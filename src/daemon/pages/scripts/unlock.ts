/**
 * unlock.js: loads a sealed model through the daemon (POST /v1/models) with
 * the factors ticked, together, as a key slot asks for them ("face &
 * keyfile"): the recovery passphrase, a key file (read in the page, sent
 * once), three frames from the camera. The token the answer carries is kept
 * in memory (api.js). A policy denial shows its step-up (stepup.js) and is
 * retried.
 */
export const UNLOCK_JS = String.raw`import { api, setToken } from './api.js';
import { openCamera, captureFrames } from './camera.js';
import { guarded } from './stepup.js';
import { $, status } from './dom.js';

/** Frames the face factor sends, and the time between them. */
const FACE_FRAMES = 3;
const FACE_INTERVAL_MS = 300;

function base64(buffer) {
  let s = '';
  for (const x of new Uint8Array(buffer)) s += String.fromCharCode(x);
  return btoa(s);
}

/** The factors ticked, in the form's order. */
function factors() {
  return [...document.querySelectorAll('input[name=factor]:checked')].map((r) => r.value);
}

function showFactors() {
  const f = factors();
  $('unlock-passphrase-row').hidden = !f.includes('passphrase');
  $('unlock-keyfile-row').hidden = !f.includes('keyfile');
  $('unlock-face-row').hidden = !f.includes('face');
}

/** The unlock object with every ticked factor; the camera is opened last, once the others are in hand. */
async function credentials(line) {
  const f = factors();
  if (f.length === 0) throw new Error('tick at least one factor to unlock with');
  const unlock = {};
  if (f.includes('passphrase')) {
    const passphrase = $('unlock-passphrase').value;
    if (!passphrase) throw new Error('type the recovery passphrase');
    unlock.passphrase = passphrase;
  }
  if (f.includes('keyfile')) {
    const file = $('unlock-keyfile').files[0];
    if (!file) throw new Error('choose the key file');
    if (file.size !== 32) throw new Error('a key file holds exactly 32 bytes; this one has ' + file.size);
    const bytes = new Uint8Array(await file.arrayBuffer());
    unlock.keyfile = base64(bytes);
    bytes.fill(0);
  }
  if (f.includes('face')) {
    status(line, 'busy', 'Look at the camera…');
    const camera = await openCamera($('unlock-video'));
    try {
      unlock.face = await captureFrames($('unlock-video'), FACE_FRAMES, FACE_INTERVAL_MS, (i) => status(line, 'busy', 'Look at the camera… (' + i + '/' + FACE_FRAMES + ')'));
    } finally {
      camera.stop();
    }
  }
  return unlock;
}

/** onUnlocked(answer) is called after a successful unlock. */
export function initUnlock(onUnlocked) {
  for (const r of document.querySelectorAll('input[name=factor]')) r.addEventListener('change', showFactors);
  showFactors();
  $('unlock-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const line = $('unlock-status');
    const button = $('unlock-submit');
    button.disabled = true;
    try {
      const name = $('unlock-name').value.trim();
      const body = { name, path: $('unlock-path').value.trim(), sensitivity: $('unlock-sensitivity').value, unlock: await credentials(line) };
      status(line, 'busy', 'Unlocking…');
      const answer = await guarded('load model "' + name + '"', () => api('POST', '/v1/models', body));
      setToken(answer.token);
      $('unlock-passphrase').value = '';
      $('unlock-keyfile').value = '';
      status(line, 'ok', 'Unlocked "' + answer.model.name + '" (key slot ' + answer.model.slot + ': ' + answer.model.factors.join(' & ') + '); trust ' + answer.trust.toFixed(3) + '.');
      onUnlocked(answer);
    } catch (e) {
      status(line, 'failed', (e.code ? e.code + ': ' : '') + (e.message || String(e)));
    } finally {
      button.disabled = false;
    }
  });
}
`;
