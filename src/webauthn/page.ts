/**
 * The ceremony page a person opens: static HTML, CSS and JavaScript (no
 * third-party code) that fetch the ceremony's options, run
 * `navigator.credentials.create()` or `.get()`, post the result or the
 * browser's error back, and show the outcome the server answers.
 *
 * The page never sees anything secret but the PRF output it passes on; it
 * zeroes its copy once encoded. `body[data-state]` says where it stands
 * (ready, waiting, done, failed) for people and for tests.
 */
import { PAGE_CANCELLED, PAGE_NO_WEBAUTHN } from './browser-errors.js';
import { CREDENTIAL_CODEC_JS } from './browser-codec.js';

export type CeremonyKind = 'register' | 'authenticate';

const TEXT: Record<CeremonyKind, { title: string; intro: string }> = {
  register: {
    title: 'Register a passkey for bioseal',
    intro: 'bioseal will create a passkey on your authenticator (Touch ID, Windows Hello, a phone, a security key). It must verify you with a fingerprint, face or PIN and support the PRF extension.',
  },
  authenticate: {
    title: 'Unlock with your passkey',
    intro: 'bioseal asks your passkey to verify you (fingerprint, face or PIN) and to derive the key for a sealed model.',
  },
};

/** The page of a ceremony of this kind (the same for every ceremony; the options come from `options`). */
export function ceremonyHtml(kind: CeremonyKind): string {
  const t = TEXT[kind];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>bioseal: ${t.title}</title>
<link rel="stylesheet" href="style.css">
<script src="page.js" defer></script>
</head>
<body data-state="ready">
<main>
<h1>${t.title}</h1>
<p>${t.intro}</p>
<p id="status" role="status">Press Continue, then follow your browser's prompt.</p>
<p><button id="start" type="button">Continue</button> <button id="cancel" type="button">Cancel</button></p>
</main>
</body>
</html>
`;
}

export const CEREMONY_CSS = `body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f6f4;color:#1d1d1b}
main{max-width:36rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;margin-top:0}button{font:inherit;padding:.4rem 1.2rem}
body[data-state=done] #status{color:#176b2c;font-weight:600}body[data-state=failed] #status{color:#a11d1d;font-weight:600}
`;

export const CEREMONY_JS = `'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
${CREDENTIAL_CODEC_JS.replace(/^(?=.)/gm, '  ').trimEnd()}
  const abort = new AbortController();
  let busy = false;
  let over = false;
  const show = (state, text) => {
    document.body.dataset.state = state;
    $('status').textContent = text;
  };
  const finish = (ok, text) => {
    over = true;
    $('start').disabled = true;
    $('cancel').disabled = true;
    show(ok ? 'done' : 'failed', text);
  };
  const post = async (path, body) => {
    try {
      const r = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), cache: 'no-store', credentials: 'omit' });
      const answer = await r.json();
      finish(answer.ok === true, String(answer.message));
    } catch {
      finish(false, 'bioseal is no longer waiting for this page; see the terminal.');
    }
  };
  const start = async () => {
    if (busy || over) return;
    busy = true;
    show('waiting', "Follow your browser's prompt.");
    let o;
    try {
      const r = await fetch('options', { cache: 'no-store', credentials: 'omit' });
      if (!r.ok) throw new Error(String(r.status));
      o = await r.json();
    } catch {
      finish(false, 'bioseal is no longer waiting for this page; see the terminal.');
      return;
    }
    if (!window.PublicKeyCredential || !navigator.credentials) return post('error', { name: '${PAGE_NO_WEBAUTHN}', message: '' });
    const p = o.publicKey;
    p.challenge = dec(p.challenge);
    let c;
    try {
      if (o.kind === 'register') {
        p.user.id = dec(p.user.id);
        c = await navigator.credentials.create({ publicKey: p, signal: abort.signal });
      } else {
        p.allowCredentials = p.allowCredentials.map((d) => ({ ...d, id: dec(d.id) }));
        p.extensions.prf.eval.first = dec(p.extensions.prf.eval.first);
        c = await navigator.credentials.get({ publicKey: p, signal: abort.signal });
      }
    } catch (e) {
      if (!over) await post('error', { name: (e && e.name) || 'Error', message: (e && e.message) || '' });
      return;
    }
    if (!over) await post('result', { credential: credentialJson(c) });
  };
  $('start').addEventListener('click', start);
  $('cancel').addEventListener('click', async () => {
    if (over) return;
    await post('error', { name: '${PAGE_CANCELLED}', message: '' });
    abort.abort();
  });
})();
`;
