/**
 * webauthn.js: passkey registration and touch in the page. The daemon sends
 * the options as JSON (byte strings in base64url); this turns them into
 * what navigator.credentials wants, and the credential back into WebAuthn's
 * JSON form for the daemon to verify (src/webauthn does, server-side). The
 * PRF output an assertion carries is passed on once and zeroed here.
 */
export const WEBAUTHN_JS = String.raw`const enc = (buf) => {
  let s = '';
  for (const x of new Uint8Array(buf)) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};
const dec = (text) => {
  const t = text.replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(t + '==='.slice((t.length + 3) % 4)), (c) => c.charCodeAt(0));
};

function credentialJson(c) {
  const r = c.response;
  const ext = c.getClientExtensionResults();
  const prf = {};
  if (ext.prf && typeof ext.prf.enabled === 'boolean') prf.enabled = ext.prf.enabled;
  if (ext.prf && ext.prf.results && ext.prf.results.first) {
    prf.results = { first: enc(ext.prf.results.first) };
    new Uint8Array(ext.prf.results.first).fill(0);
  }
  const response = { clientDataJSON: enc(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = enc(r.attestationObject);
    response.transports = typeof r.getTransports === 'function' ? r.getTransports() : [];
  } else {
    response.authenticatorData = enc(r.authenticatorData);
    response.signature = enc(r.signature);
    if (r.userHandle) response.userHandle = enc(r.userHandle);
  }
  return { id: c.id, rawId: enc(c.rawId), type: c.type, response, clientExtensionResults: { prf } };
}

function needWebAuthn() {
  if (!window.PublicKeyCredential || !navigator.credentials) throw new Error('this browser does not support passkeys (WebAuthn)');
  if (location.hostname !== 'localhost') throw new Error('passkeys work only when this page is opened at http://localhost:' + location.port + '/ui/');
}

/** Registers a passkey with the daemon's creation options; returns the credential as JSON. */
export async function createPasskey(publicKey) {
  needWebAuthn();
  const p = { ...publicKey, challenge: dec(publicKey.challenge), user: { ...publicKey.user, id: dec(publicKey.user.id) } };
  return credentialJson(await navigator.credentials.create({ publicKey: p }));
}

/** Asks the enrolled passkey for an assertion with the daemon's request options. */
export async function touchPasskey(publicKey) {
  needWebAuthn();
  const p = {
    ...publicKey,
    challenge: dec(publicKey.challenge),
    allowCredentials: publicKey.allowCredentials.map((d) => ({ ...d, id: dec(d.id) })),
    extensions: { prf: { eval: { first: dec(publicKey.extensions.prf.eval.first) } } },
  };
  return credentialJson(await navigator.credentials.get({ publicKey: p }));
}
`;
