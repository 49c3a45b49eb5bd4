/**
 * Browser code shared by the pages that run a WebAuthn ceremony (the CLI's
 * ceremony page, src/webauthn/page.ts, and the daemon's pages,
 * src/daemon/pages/scripts/webauthn.ts): base64url to and from bytes, and a
 * credential turned into WebAuthn's JSON form for the server to verify. The
 * PRF output an assertion carries is encoded once and zeroed.
 *
 * Plain function declarations, to be placed at the top of a page's script.
 */
export const CREDENTIAL_CODEC_JS = String.raw`function enc(buf) {
  let s = '';
  for (const x of new Uint8Array(buf)) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function dec(text) {
  const t = text.replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(t + '==='.slice((t.length + 3) % 4)), (c) => c.charCodeAt(0));
}

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
`;
