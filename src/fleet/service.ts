/**
 * The fleet verification service (`bioseal fleet serve`): plain HTTP on
 * loopback only (behind a TLS-terminating proxy), or HTTPS (TLS 1.2 and
 * above) on any address; per-device and per-address rate limits; its state
 * in a `FleetStore` (SQLite by default, PostgreSQL for a fleet); and
 * encrypted template matching that never sees a face, a score or a secret
 * key. The API is in routes.ts; docs/FLEET.md explains it all.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP, type AddressInfo } from 'node:net';
import { ensureBiosealHome } from '../home.js';
import { AuthError, IOError, UsageError } from '../errors.js';
import { ForbiddenError } from '../daemon/errors.js';
import { EncryptedMatching } from './encrypted-matching.js';
import { sendError } from './http.js';
import { loadOperatorToken } from './operator-token.js';
import { FleetRateLimits, type FleetRateLimitOptions } from './rate-limits.js';
import { route, type FleetContext } from './routes.js';
import { openFleetStore, type FleetStore } from './store/index.js';
import { isLoopbackAddress, loadTlsCredentials, serverTlsOptions, type FleetTlsFiles, type TlsCredentials } from './tls.js';

export const DEFAULT_FLEET_PORT = 7392;

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
  /** Stops accepting, closes connections, frees SEAL and (when it opened it) the store. */
  close(): Promise<void>;
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
 * refuses (403) peers that are not loopback; with `tls` it serves HTTPS on
 * `host` to any peer, which authenticates by request signature or operator
 * token as always.
 * @throws UsageError for a host that is not an IP address, or not loopback
 * without TLS, and for unusable rate limits; IOError, FormatError,
 * ExpiredError or UsageError for TLS files (see loadTlsCredentials); IOError
 * when the port cannot be bound or the store cannot be opened; FormatError
 * for a foreign database.
 * @example const service = await startFleetService({ home, port: 0 }); ...; await service.close();
 * @example await startFleetService({ home, host: '0.0.0.0', tls: { certFile: 'fleet.crt', keyFile: 'fleet.key' } });
 */
export async function startFleetService(options: FleetServiceOptions): Promise<FleetService> {
  const host = options.host ?? '127.0.0.1';
  checkHost(host, options.tls !== undefined);
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
  const ctx: FleetContext = { store, he, operatorToken: token.token, now, limits };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const peer = req.socket.remoteAddress ?? '';
      try {
        // Plain HTTP is for a proxy on this machine; under TLS remote devices are the point.
        if (!credentials && !isLoopbackAddress(peer)) throw new ForbiddenError('only connections through loopback are served (the service has no TLS)');
        limits.admitPeer(peer);
        await route(ctx, req, res);
      } catch (error) {
        if (error instanceof AuthError) limits.recordAuthFailure(peer);
        sendError(res, error, options.onInternalError);
      }
    })();
  };
  const server: Server = credentials ? createHttpsServer(serverTlsOptions(credentials), handle) : createHttpServer(handle);
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
