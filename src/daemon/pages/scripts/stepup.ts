/**
 * stepup.js: what the page does when the policy denies an action (403
 * E_POLICY with a step-up): it shows what would lift the denial, lets the
 * person satisfy it (a face re-check from the camera, POST /v1/evidence
 * type face; or a passkey touch, type passkey, verified by the daemon) and
 * then runs the action again.
 */
export const STEPUP_JS = String.raw`import { api, ApiError } from './api.js';
import { openCamera, grabFrame } from './camera.js';
import { touchPasskey } from './webauthn.js';
import { $, status } from './dom.js';

let current = null;
let onEvidence = () => {};

/** Called after each piece of evidence (the overview refreshes). */
export function afterEvidence(callback) {
  onEvidence = callback;
}

function offers(stepUp) {
  const named = new Set(stepUp.factors.flatMap((f) => f.anyOf));
  // Trust alone short: any fresh evidence raises it.
  const any = stepUp.factors.length === 0;
  return { face: any || named.has('face'), passkey: any || named.has('passkey'), others: [...named].filter((f) => f !== 'face' && f !== 'passkey') };
}

function show(what, stepUp) {
  const o = offers(stepUp);
  $('stepup-action').textContent = 'Denied by the policy: ' + what + '.';
  $('stepup-description').textContent = 'To continue: ' + stepUp.description + '.';
  $('stepup-face').hidden = !o.face;
  $('stepup-passkey').hidden = !o.passkey;
  $('stepup-hint').textContent = o.others.length ? 'Also accepted: unlocking again with ' + o.others.join(' or ') + ' (Unlock page).' : '';
  status($('stepup-status'), '', '');
  const box = $('stepup');
  box.hidden = false;
  box.dataset.state = 'shown';
  box.scrollIntoView({ block: 'nearest' });
}

function hide(state) {
  const box = $('stepup');
  box.hidden = true;
  box.dataset.state = state;
  current = null;
}

/**
 * Runs action(); when the policy denies it with a step-up, shows the
 * step-up and resolves with the action's result once a step-up let it
 * through (rejects when the person cancels, or with any other error).
 */
export function guarded(what, action) {
  return new Promise((resolve, reject) => {
    const attempt = async () => {
      try {
        const result = await action();
        if (current && current.attempt === attempt) hide('done');
        resolve(result);
      } catch (e) {
        if (e instanceof ApiError && e.code === 'E_POLICY' && e.stepUp) {
          if (current && current.reject !== reject) current.reject(new Error('replaced by another step-up'));
          current = { attempt, reject };
          show(what, e.stepUp);
          return;
        }
        if (current && current.attempt === attempt) hide('idle');
        reject(e);
      }
    };
    void attempt();
  });
}

async function satisfy(kind) {
  if (!current) return;
  const { attempt } = current;
  const box = $('stepup');
  box.dataset.state = 'working';
  const line = $('stepup-status');
  try {
    let answer;
    if (kind === 'face') {
      status(line, 'busy', 'Look at the camera…');
      const camera = await openCamera($('stepup-video'));
      let image;
      try {
        image = await grabFrame($('stepup-video'));
      } finally {
        camera.stop();
      }
      status(line, 'busy', 'Checking your face…');
      answer = await api('POST', '/v1/evidence', { type: 'face', image });
    } else {
      status(line, 'busy', 'Follow your browser\'s passkey prompt…');
      const c = await api('POST', '/v1/challenges/passkey', { purpose: 'assert' });
      const credential = await touchPasskey(c.publicKey);
      answer = await api('POST', '/v1/evidence', { type: 'passkey', challenge: c.challenge, credential });
    }
    onEvidence();
    status(line, 'busy', answer.explanation.summary + ' · trying again…');
    box.dataset.state = 'retrying';
    await attempt();
    if (current && current.attempt === attempt) status(line, 'failed', 'Still denied after: ' + answer.explanation.summary);
  } catch (e) {
    box.dataset.state = 'shown';
    status(line, 'failed', e.message || String(e));
  }
}

export function initStepUp() {
  $('stepup-face').addEventListener('click', () => void satisfy('face'));
  $('stepup-passkey').addEventListener('click', () => void satisfy('passkey'));
  $('stepup-cancel').addEventListener('click', () => {
    if (current) current.reject(new Error('step-up cancelled'));
    hide('idle');
  });
}
`;
