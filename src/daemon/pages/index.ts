/**
 * The daemon's web pages, served under /ui/ on loopback: overview (session,
 * live trust graph and the events that moved it, loaded models), unlock and
 * step-up, enrolment (face with the liveness challenge, passkey) and the
 * audit log. See docs/PAGES.md.
 *
 *   GET / and /ui                 redirect to /ui/
 *   GET /ui/                      the page (no-store); opened at 127.0.0.1 it
 *                                 redirects to localhost, the passkeys' RP ID
 *   GET /ui/v/VERSION/FILE        its script modules, stylesheet and icon;
 *                                 VERSION is a hash of every asset, so they are
 *                                 cached for good and replaced on upgrade
 *
 * Every answer carries a strict Content-Security-Policy (scripts only from
 * the daemon, no inline script or style, nothing from elsewhere, no
 * framing), nosniff, no referrer, and a Permissions-Policy that lets the
 * page (only) use the camera and WebAuthn. The daemon's loopback and Host
 * checks (server.ts) apply before anything here runs.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NotFoundError } from '../errors.js';
import { pageHtml } from './shell.js';
import { PAGE_CSS } from './style.js';
import { API_JS } from './scripts/api.js';
import { APP_JS } from './scripts/app.js';
import { AUDIT_JS } from './scripts/audit.js';
import { CAMERA_JS } from './scripts/camera.js';
import { DOM_JS } from './scripts/dom.js';
import { ENROL_JS } from './scripts/enrol.js';
import { GRAPH_JS } from './scripts/trust-graph.js';
import { OVERVIEW_JS } from './scripts/overview.js';
import { STEPUP_JS } from './scripts/stepup.js';
import { UNLOCK_JS } from './scripts/unlock.js';
import { WEBAUTHN_JS } from './scripts/webauthn.js';

export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; media-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const JS = 'text/javascript; charset=utf-8';
const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect x="6" y="14" width="20" height="15" rx="3" fill="#1f4f99"/><path d="M11 14v-4a5 5 0 0 1 10 0v4" fill="none" stroke="#1f4f99" stroke-width="3"/><circle cx="16" cy="21" r="2.5" fill="#fff"/></svg>`;

/** The assets by file name, with their content types. */
const ASSETS: ReadonlyMap<string, { readonly type: string; readonly body: string }> = new Map([
  ['app.js', { type: JS, body: APP_JS }],
  ['api.js', { type: JS, body: API_JS }],
  ['audit.js', { type: JS, body: AUDIT_JS }],
  ['camera.js', { type: JS, body: CAMERA_JS }],
  ['dom.js', { type: JS, body: DOM_JS }],
  ['enrol.js', { type: JS, body: ENROL_JS }],
  ['overview.js', { type: JS, body: OVERVIEW_JS }],
  ['stepup.js', { type: JS, body: STEPUP_JS }],
  ['trust-graph.js', { type: JS, body: GRAPH_JS }],
  ['unlock.js', { type: JS, body: UNLOCK_JS }],
  ['webauthn.js', { type: JS, body: WEBAUTHN_JS }],
  ['style.css', { type: 'text/css; charset=utf-8', body: PAGE_CSS }],
  ['icon.svg', { type: 'image/svg+xml', body: ICON }],
]);

/** A hash of every asset: the folder they are served from, so a new release is never mixed with a cached old one. */
export const ASSET_VERSION = (() => {
  const h = createHash('sha256');
  for (const [name, a] of ASSETS) h.update(`${name}\0${a.type}\0${a.body}\0`);
  return h.digest('hex').slice(0, 16);
})();

const BASE = `/ui/v/${ASSET_VERSION}/`;
const HTML = pageHtml(BASE);

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(self), microphone=(), geolocation=(), publickey-credentials-create=(self), publickey-credentials-get=(self)',
};

function send(res: ServerResponse, status: number, headers: Record<string, string>, body = ''): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

/**
 * Serves GET /ui/`rest` (rest: "" for the page, "v/VERSION/FILE" for an
 * asset; undefined for / and /ui, which are sent to /ui/).
 * @throws NotFoundError for anything else (an asset of another version included).
 */
export function servePage(req: IncomingMessage, res: ServerResponse, rest: string | undefined): void {
  if (rest === undefined) return send(res, 302, { location: '/ui/', 'cache-control': 'no-store' });
  if (rest === '' || rest === 'index.html') {
    // Passkeys need the RP ID "localhost": a page opened at the IP address is sent there (same port, same daemon).
    const m = /^127\.0\.0\.1:(\d{1,5})$/.exec(req.headers.host ?? '');
    if (m) return send(res, 302, { location: `http://localhost:${m[1]}/ui/`, 'cache-control': 'no-store' });
    return send(res, 200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }, HTML);
  }
  const asset = rest.startsWith(`v/${ASSET_VERSION}/`) ? ASSETS.get(rest.slice(`v/${ASSET_VERSION}/`.length)) : undefined;
  if (!asset) throw new NotFoundError(`no such page: /ui/${rest.slice(0, 200)}`);
  send(res, 200, { 'content-type': asset.type, 'cache-control': 'public, max-age=31536000, immutable' }, asset.body);
}
