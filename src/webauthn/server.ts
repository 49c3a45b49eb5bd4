/**
 * The ceremony server: node:http on 127.0.0.1 at an ephemeral port, serving
 * pages at http://localhost:PORT (the RP ID is `localhost`). Each ceremony
 * (a registration, or an assertion by one credential with one PRF salt) gets
 * an unguessable path token and a one-time challenge, and ends at the first
 * well-formed answer from its page, verified or not, at a browser error the
 * page reports, or at its deadline. A replayed or late answer finds no
 * ceremony.
 *
 * Requests are checked before anything is read: the Host header must name
 * this server (no DNS rebinding), POSTs must come from the page's own origin,
 * as JSON, within a size cap. Nothing received is logged. This module knows
 * WebAuthn and HTTP, nothing of what the PRF output is used for.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeviceError } from '../errors.js';
import { deviceErrorForBrowser } from './browser-errors.js';
import { CEREMONY_CSS, CEREMONY_JS, ceremonyHtml, type CeremonyKind } from './page.js';
import { creationOptions, newChallenge, originFor, PRF_SALT_LENGTH, requestOptions, type StoredCredential } from './relying-party.js';
import { parseAuthenticationResponse, parseBrowserError, parseRegistrationResponse } from './response-json.js';
import { verifyAssertion, verifyRegistration, type RegisteredCredential, type VerifiedAssertion } from './verify.js';

/** How long a ceremony waits for its page by default. */
export const DEFAULT_CEREMONY_TIMEOUT_MS = 120_000;
const MAX_BODY_BYTES = 64 * 1024;
const PATH = /^\/c\/([A-Za-z0-9_-]{43})\/(|page\.js|style\.css|options|result|error)$/;
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** A ceremony under way: the page to send the person to, and its outcome. */
export interface Ceremony<T> {
  readonly url: string;
  /** Resolves with the verified result; rejects with a DeviceError. */
  readonly result: Promise<T>;
}

interface Pending {
  readonly kind: CeremonyKind;
  readonly options: string;
  /** Takes the ceremony out of service: its challenge can no longer be answered. */
  consume(): void;
  /** Verifies the page's credential (after `consume`). */
  verify(credential: unknown): Promise<unknown>;
  resolve(value: unknown): void;
  fail(error: DeviceError): void;
}

const SUCCESS: Record<CeremonyKind, string> = {
  register: 'Passkey registered. You can close this page and return to bioseal.',
  authenticate: 'Verified. You can close this page and return to bioseal.',
};

export class CeremonyServer {
  private readonly pending = new Map<string, Pending>();
  private readonly host: string;

  private constructor(
    private readonly server: http.Server,
    /** The pages' origin, http://localhost:PORT. */
    readonly origin: string,
    private readonly timeoutMs: number,
  ) {
    this.host = new URL(origin).host;
    server.on('request', (req, res) => void this.handle(req, res));
  }

  /** Starts a server on 127.0.0.1 at an ephemeral port. */
  static async start(options: { timeoutMs?: number } = {}): Promise<CeremonyServer> {
    const server = http.createServer({ requestTimeout: 15_000, headersTimeout: 10_000, maxHeaderSize: 8192 });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new DeviceError('unavailable', `cannot start the passkey page server on 127.0.0.1: ${e.message}`)));
      server.listen(0, '127.0.0.1', resolve);
    });
    const port = (server.address() as AddressInfo).port;
    return new CeremonyServer(server, originFor(port), options.timeoutMs ?? DEFAULT_CEREMONY_TIMEOUT_MS);
  }

  /** Starts a registration of a new passkey for `userName`. */
  register(request: { userName: string; timeoutMs?: number }): Ceremony<RegisteredCredential> {
    const timeoutMs = request.timeoutMs ?? this.timeoutMs;
    const challenge = newChallenge();
    const userHandle = new Uint8Array(randomBytes(32));
    const publicKey = creationOptions(challenge, userHandle, request.userName, timeoutMs);
    return this.open('register', publicKey, timeoutMs, (body) =>
      verifyRegistration(parseRegistrationResponse(body), { challenge, origin: this.origin }, userHandle),
    );
  }

  /** Starts an assertion by `credential`, evaluating its PRF on `salt`. */
  authenticate(request: { credential: StoredCredential; salt: Uint8Array; timeoutMs?: number }): Ceremony<VerifiedAssertion> {
    if (request.salt.length !== PRF_SALT_LENGTH) throw new DeviceError('invalid-response', `a PRF salt must be ${PRF_SALT_LENGTH} bytes`);
    const timeoutMs = request.timeoutMs ?? this.timeoutMs;
    const challenge = newChallenge();
    const publicKey = requestOptions(challenge, request.credential, request.salt, timeoutMs);
    return this.open('authenticate', publicKey, timeoutMs, (body) =>
      verifyAssertion(parseAuthenticationResponse(body), { challenge, origin: this.origin }, request.credential),
    );
  }

  /**
   * Ends every open ceremony (as cancelled) and stops the server. Replies
   * under way finish first (for at most a second); idle connections close now.
   */
  async close(): Promise<void> {
    for (const p of [...this.pending.values()]) p.fail(new DeviceError('cancelled', 'bioseal stopped waiting for the passkey page'));
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const force = setTimeout(() => this.server.closeAllConnections(), 1000);
    await closed;
    clearTimeout(force);
  }

  private open<T>(kind: CeremonyKind, publicKey: Record<string, unknown>, timeoutMs: number, verify: (body: unknown) => Promise<T>): Ceremony<T> {
    const token = randomBytes(32).toString('base64url');
    let settle!: { resolve: (v: T) => void; reject: (e: unknown) => void };
    const result = new Promise<T>((resolve, reject) => (settle = { resolve, reject }));
    // Marked handled here; the caller that awaits `result` still sees the rejection.
    result.catch(() => undefined);
    const end = () => {
      clearTimeout(timer);
      this.pending.delete(token);
    };
    const timer = setTimeout(() => {
      end();
      settle.reject(new DeviceError('timeout', `nobody completed the passkey ${kind === 'register' ? 'registration' : 'check'} within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    this.pending.set(token, {
      kind,
      options: JSON.stringify({ kind, publicKey }),
      consume: end,
      verify,
      resolve: (value) => settle.resolve(value as T),
      fail(error) {
        end();
        settle.reject(error);
      },
    });
    return { url: `${this.origin}/c/${token}/`, result };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    if (req.headers.host !== this.host) return send(res, 421, { ok: false, message: `open the page at ${this.origin}` });
    const match = PATH.exec(req.url ?? '');
    const pending = match ? this.pending.get(match[1]!) : undefined;
    if (!match || !pending) return send(res, 404, { ok: false, message: 'This bioseal page has ended or never existed; see the terminal.' });
    const part = match[2]!;
    if (req.method === 'GET' && (part === '' || part === 'page.js' || part === 'style.css' || part === 'options')) {
      if (part === '') return send(res, 200, ceremonyHtml(pending.kind), 'text/html; charset=utf-8');
      if (part === 'page.js') return send(res, 200, CEREMONY_JS, 'text/javascript; charset=utf-8');
      if (part === 'style.css') return send(res, 200, CEREMONY_CSS, 'text/css; charset=utf-8');
      return send(res, 200, pending.options, 'application/json');
    }
    if (req.method !== 'POST' || (part !== 'result' && part !== 'error')) return send(res, 405, { ok: false, message: 'method not allowed' });
    const rejected = this.checkPost(req);
    if (rejected) return send(res, rejected.status, { ok: false, message: rejected.message });
    const body = await readJsonBody(req);
    if ('status' in body) return send(res, body.status, { ok: false, message: body.message });
    // From here the ceremony is used up, whatever the outcome: its challenge cannot be answered twice.
    // The reply goes out before the caller hears the outcome; its connection then closes, so that
    // closing the server right after lets it finish.
    pending.consume();
    res.setHeader('Connection', 'close');
    let value: unknown;
    try {
      if (part === 'error') {
        const error = deviceErrorForBrowser(parseBrowserError(body.value));
        send(res, 200, { ok: false, message: error.message });
        return pending.fail(error);
      }
      value = await pending.verify((body.value as { credential?: unknown } | null)?.credential);
    } catch (error) {
      const e = error instanceof DeviceError ? error : new DeviceError('invalid-response', 'the passkey response could not be verified', { cause: error });
      send(res, 400, { ok: false, message: e.message });
      return pending.fail(e);
    }
    send(res, 200, { ok: true, message: SUCCESS[pending.kind] });
    pending.resolve(value);
  }

  private checkPost(req: http.IncomingMessage): { status: number; message: string } | undefined {
    if (req.headers.origin !== this.origin) return { status: 403, message: 'cross-origin request refused' };
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') return { status: 403, message: 'cross-site request refused' };
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') return { status: 415, message: 'expected application/json' };
    const length = Number(req.headers['content-length'] ?? 0);
    if (!Number.isFinite(length) || length > MAX_BODY_BYTES) return { status: 413, message: 'request body too large' };
    return undefined;
  }
}

type BodyResult = { value: unknown } | { status: number; message: string };

/** Reads at most MAX_BODY_BYTES of JSON; the raw bytes are wiped once parsed. */
async function readJsonBody(req: http.IncomingMessage): Promise<BodyResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      chunks.push(chunk);
      if (size > MAX_BODY_BYTES) return { status: 413, message: 'request body too large' };
    }
  } catch {
    return { status: 400, message: 'the request was interrupted' };
  }
  const raw = Buffer.concat(chunks);
  try {
    return { value: JSON.parse(raw.toString('utf8')) };
  } catch {
    return { status: 400, message: 'the request body is not JSON' };
  } finally {
    raw.fill(0);
    for (const c of chunks) c.fill(0);
  }
}

function send(res: http.ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
