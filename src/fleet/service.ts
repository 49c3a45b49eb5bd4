/**
 * The fleet verification service (`bioseal fleet serve`): plain HTTP on
 * loopback only (behind a TLS-terminating proxy), or HTTPS (TLS 1.2 and
 * above) on any address; per-device and per-address rate limits; its state
 * in a `FleetStore` (SQLite by default, PostgreSQL for a fleet); and
 * encrypted template matching that never sees a face, a score or a secret
 * key. The API is in routes.ts; docs/FLEET.md explains it all.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { isIP, type AddressInfo } from 'node:net';
import { ensureBiosealHome } from '../home.js';
import { AuthError, IOError, UsageError } from '../errors.js';
import { ForbiddenError } from '../daemon/errors.js';
import { EncryptedMatching } from './encrypted-matching.js';
import { sendError } from './http.js';
import { loadOperatorToken } from './operator-token.js';
import { FleetRateLimits, type FleetRateLimitOptions, type PeerAdmission } from './rate-limits.js';
import { DEVICE_ID_PATTERN } from './request-signing.js';
import { route, type FleetContext } from './routes.js';
import { openFleetStore, type FleetStore } from './store/index.js';
import { isLoopbackAddress, loadTlsCredentials, serverTlsOptions, type FleetTlsFiles, type TlsCredentials } from './tls.js';

export const DEFAULT_FLEET_PORT = 7392;

/**
 * Connection limits of the HTTP(S) server: the request headers must arrive
 * within 20 s and the whole request (16 MB at most) within 2 min, and at
 * most 512 connections are open at once (further ones are closed at once).
 */
export const DEFAULT_FLEET_SERVER_LIMITS = { headersTimeoutMs: 20_000, requestTimeoutMs: 120_000, maxConnections: 512 } as const;

export interface FleetServiceOptions {
  /** The state directory (operator token, default SQLite file). */
  readonly home: string;
  /** TCP port (0 picks a free one); default 7392. */
  readonly port?: number;
  /** The IP address to listen on; default 127.0.0.1. Anything but loopback needs `tls`. */
  readonly host?: string;
  /** Serve HTTPS with this certificate and key (checked before anything starts). */
  readonly tls?: FleetTlsFiles;
  /** Rate limits per device and per peer address; defaults in DEFAULT_FLEET_RATE_LIMITS. */
  readonly rateLimits?: FleetRateLimitOptions;
  /** The most connections open at once; default DEFAULT_FLEET_SERVER_LIMITS.maxConnections. */
  readonly maxConnections?: number;
  /**
   * Milliseconds a client has for its request headers and for its whole
   * request before the connection is answered 408 and closed (slow clients
   * cannot hold connections); defaults in DEFAULT_FLEET_SERVER_LIMITS.
   */
  readonly timeouts?: { readonly headersMs?: number; readonly requestMs?: number };
  /** A `postgres://` URL or `sqlite:PATH`; default `$BIOSEAL_HOME/fleet.db`. Ignored when `store` is given. */
  readonly database?: string;
  /** A store to use (the caller closes it); default: open `database`. */
  readonly store?: FleetStore;
  /** The operator token; default the one in `$BIOSEAL_HOME/fleet-operator.token` (made when missing). */
  readonly operatorToken?: string;
  /** Milliseconds since 1970, for request timestamps, certificate validity and rate limits; default Date.now. */
  readonly now?: () => number;
  /** Told about internal errors (their details are never sent to clients). */
  readonly onInternalError?: (error: unknown) => void;
}

export interface FleetService {
  /** http://127.0.0.1:PORT, or https://HOST:PORT with TLS. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Whether the service speaks HTTPS. */
  readonly tls: boolean;
  readonly backend: 'sqlite' | 'postgres';
  /** Where the operator token is kept (null when it was passed in). */
  readonly operatorTokenFile: string | null;
  /**
   * Reads the certificate and key files again and serves them on new
   * connections: a renewed certificate without a restart. Connections already
   * open keep the one they were made with. The files are checked as at start;
   * if they fail, the certificate being served stays.
   * @throws UsageError when the service has no TLS; IOError, FormatError,
   * ExpiredError or UsageError for the files (see loadTlsCredentials)
   */
  reloadTls(): { readonly subject: string; readonly notAfter: Date };
  /** Stops accepting, closes connections, frees SEAL and (when it opened it) the store. */
  close(): Promise<void>;
}

/**
 * The headers and request timeouts, defaults filled in.
 * @throws UsageError unless both are whole milliseconds from 10 to 1 hour and the headers' is at most the request's.
 */
function serverTimeouts(given: FleetServiceOptions['timeouts'] = {}): { headersMs: number; requestMs: number } {
  const headersMs = given.headersMs ?? Math.min(DEFAULT_FLEET_SERVER_LIMITS.headersTimeoutMs, given.requestMs ?? Infinity);
  const requestMs = given.requestMs ?? Math.max(DEFAULT_FLEET_SERVER_LIMITS.requestTimeoutMs, headersMs);
  for (const [what, ms] of [['headers', headersMs], ['request', requestMs]] as const) {
    if (!(Number.isSafeInteger(ms) && ms >= 10 && ms <= 3_600_000)) throw new UsageError(`the ${what} timeout must be a whole number of milliseconds from 10 to 3600000`);
  }
  if (headersMs > requestMs) throw new UsageError('the headers timeout must not be longer than the request timeout');
  return { headersMs, requestMs };
}

/**
 * Checks the address to listen on: an IP address, and loopback unless TLS is on.
 * @throws UsageError
 */
function checkHost(host: string, tls: boolean): void {
  if (isIP(host) === 0) throw new UsageError(`the address to listen on must be an IP address such as 127.0.0.1 or ::1, not "${host.slice(0, 100)}"`);
  if (!tls && !isLoopbackAddress(host)) {
    throw new UsageError(`refusing to listen on ${host} without TLS: plain HTTP is served on loopback only; give a certificate and key (--tls-cert, --tls-key) or put a TLS proxy in front`);
  }
}

/**
 * Starts the service. Without `tls` it serves plain HTTP on loopback and
 * refuses (403) peers that are not loopback; every peer is then the proxy in
 * front, so no per-address limit applies (the proxy must limit). With `tls`
 * it serves HTTPS on `host` to any peer, which authenticates by request
 * signature or operator token as always, under the per-address
 * failed-authentication limit (rate-limits.ts).
 * @throws UsageError for a host that is not an IP address, or not loopback
 * without TLS, and for unusable rate limits or connection limits; IOError, FormatError,
 * ExpiredError or UsageError for TLS files (see loadTlsCredentials); IOError
 * when the port cannot be bound or the store cannot be opened; FormatError
 * for a foreign database.
 * @example const service = await startFleetService({ home, port: 0 }); ...; await service.close();
 * @example await startFleetService({ home, host: '0.0.0.0', tls: { certFile: 'fleet.crt', keyFile: 'fleet.key' } });
 */
export async function startFleetService(options: FleetServiceOptions): Promise<FleetService> {
  const host = options.host ?? '127.0.0.1';
  checkHost(host, options.tls !== undefined);
  const maxConnections = options.maxConnections ?? DEFAULT_FLEET_SERVER_LIMITS.maxConnections;
  if (!(Number.isSafeInteger(maxConnections) && maxConnections >= 1)) throw new UsageError('the most connections at once must be a whole number of at least 1');
  const timeouts = serverTimeouts(options.timeouts);
  const now = options.now ?? Date.now;
  const credentials: TlsCredentials | undefined = options.tls && loadTlsCredentials(options.tls, now());
  const limits = new FleetRateLimits(options.rateLimits, now);
  const home = ensureBiosealHome(options.home);
  const token = options.operatorToken === undefined ? await loadOperatorToken(home) : { token: options.operatorToken, file: null };
  const store = options.store ?? (await openFleetStore(options.database, home));
  const ownsStore = options.store === undefined;
  let he: EncryptedMatching;
  try {
    he = await EncryptedMatching.create((id) => store.getEvaluationKeys(id));
  } catch (error) {
    if (ownsStore) await store.close();
    throw error;
  }
  const admissions = new WeakMap<IncomingMessage, PeerAdmission>();
  const ctx: FleetContext = { store, he, operatorToken: token.token, now, limits, authenticated: (req) => admissions.get(req)?.authenticated() };
  /** Whether the signed headers name a registered device that is not revoked (read before any body). */
  const namesActiveDevice = async (req: IncomingMessage): Promise<boolean> => {
    const id = req.headers['x-bioseal-device'];
    if (typeof id !== 'string' || !DEVICE_ID_PATTERN.test(id)) return false;
    const device = await store.getDevice(id);
    return device !== undefined && device.revokedAt === null;
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const peer = req.socket.remoteAddress ?? '';
      let admission: PeerAdmission | undefined;
      try {
        // Plain HTTP is for a proxy on this machine; under TLS remote devices are the point.
        if (!credentials && !isLoopbackAddress(peer)) throw new ForbiddenError('only connections through loopback are served (the service has no TLS)');
        // Without TLS every peer is the proxy in front: its address says nothing, and the proxy must limit.
        admission = credentials ? await limits.admitPeer(peer, () => namesActiveDevice(req)) : FleetRateLimits.unlimited;
        admissions.set(req, admission);
        await route(ctx, req, res);
        admission.finished(false);
      } catch (error) {
        admission?.finished(error instanceof AuthError);
        sendError(res, error, options.onInternalError);
      }
    })();
  };
  // Node looks for expired requests every connectionsCheckingInterval (30 s by
  // default, longer than the headers timeout): a quarter of the shorter timeout.
  const httpOptions = { headersTimeout: timeouts.headersMs, requestTimeout: timeouts.requestMs, connectionsCheckingInterval: Math.max(10, Math.floor(timeouts.headersMs / 4)) };
  const server: Server = credentials ? createHttpsServer({ ...serverTlsOptions(credentials), ...httpOptions }, handle) : createHttpServer(httpOptions, handle);
  server.maxConnections = maxConnections;
  const port = options.port ?? DEFAULT_FLEET_PORT;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    he.dispose();
    if (ownsStore) await store.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new IOError(`cannot listen on ${host}:${port}: ${code === 'EADDRINUSE' ? 'the port is in use' : (error as Error).message}`, { cause: error });
  }
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `${credentials ? 'https' : 'http'}://${isIP(host) === 6 ? `[${host}]` : host}:${bound}`,
    host,
    port: bound,
    tls: credentials !== undefined,
    backend: store.backend,
    operatorTokenFile: token.file,
    reloadTls() {
      if (!options.tls) throw new UsageError('the service has no TLS certificate to reload');
      const next = loadTlsCredentials(options.tls, now());
      (server as HttpsServer).setSecureContext(serverTlsOptions(next));
      return { subject: next.subject, notAfter: next.notAfter };
    },
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        he.dispose();
        if (ownsStore) await store.close();
      })();
      return closing;
    },
  };
}
