/**
 * unlock.js: loads a sealed model through the daemon (POST /v1/models) with
 * the recovery passphrase, a key file (read in the page, sent once) or three
 * frames from the camera. The token the answer carries is kept in memory
 * (api.js). A policy denial shows its step-up (stepup.js) and is retried.
 */
export const UNLOCK_JS = String.raw`import { api, setToken } from './api.js';
import { openCamera, captureFrames } from './camera.js';
import { guarded } from './stepup.js';
import { $, status } from './dom.js';

function base64(buffer) {
  let s = '';
  for (const x of new Uint8Array(buffer)) s += String.fromCharCode(x);
  return btoa(s);
}

function factor() {
  return document.querySelector('input[name=factor]:checked').value;
}

function showFactor() {
  const f = factor();
  $('unlock-passphrase-row').hidden = f !== 'passphrase';
  $('unlock-keyfile-row').hidden = f !== 'keyfile';
  $('unlock-face-row').hidden = f !== 'face';
}

async function credentials(line) {
  const f = factor();
  if (f === 'passphrase') {
    const passphrase = $('unlock-passphrase').value;
    if (!passphrase) throw new Error('type the recovery passphrase');
    return { passphrase };
  }
  if (f === 'keyfile') {
    const file = $('unlock-keyfile').files[0];
    if (!file) throw new Error('choose the key file');
    if (file.size !== 32) throw new Error('a key file holds exactly 32 bytes; this one has ' + file.size);
    const bytes = new Uint8Array(await file.arrayBuffer());
    const keyfile = base64(bytes);
    bytes.fill(0);
    return { keyfile };
  }
  status(line, 'busy', 'Look at the camera…');
  const camera = await openCamera($('unlock-video'));
  try {
    return { face: await captureFrames($('unlock-video'), 3, 300) };
  } finally {
    camera.stop();
  }
}

/** onUnlocked(answer) is called after a successful unlock. */
export function initUnlock(onUnlocked) {
  for (const r of document.querySelectorAll('input[name=factor]')) r.addEventListener('change', showFactor);
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
