/**
 * webauthn.js: passkey registration and touch in the page. The daemon sends
 * the options as JSON (byte strings in base64url); this turns them into
 * what navigator.credentials wants, and the credential back into WebAuthn's
 * JSON form for the daemon to verify (src/webauthn does, server-side). The
 * PRF output an assertion carries is passed on once and zeroed here
 * (src/webauthn/browser-codec.ts, shared with the CLI's ceremony page).
 */
import { CREDENTIAL_CODEC_JS } from '../../../webauthn/browser-codec.js';

export const WEBAUTHN_JS = String.raw`${CREDENTIAL_CODEC_JS}
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
