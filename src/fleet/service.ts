/**
 * The fleet verification service (`bioseal fleet serve`): HTTP on 127.0.0.1
 * only (put a TLS-terminating proxy in front to reach it from devices), its
 * state in a `FleetStore` (SQLite by default, PostgreSQL for a fleet), and
 * encrypted template matching that never sees a face, a score or a secret
 * key. The API is in routes.ts; docs/FLEET.md explains it all.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ensureBiosealHome } from '../home.js';
import { IOError } from '../errors.js';
import { ForbiddenError } from '../daemon/errors.js';
import { EncryptedMatching } from './encrypted-matching.js';
import { sendError } from './http.js';
import { loadOperatorToken } from './operator-token.js';
import { route, type FleetContext } from './routes.js';
import { openFleetStore, type FleetStore } from './store/index.js';

export const DEFAULT_FLEET_PORT = 7392;

export interface FleetServiceOptions {
  /** The state directory (operator token, default SQLite file). */
  readonly home: string;
  /** TCP port on 127.0.0.1 (0 picks a free one); default 7392. */
  readonly port?: number;
  /** A `postgres://` URL or `sqlite:PATH`; default `$BIOSEAL_HOME/fleet.db`. Ignored when `store` is given. */
  readonly database?: string;
  /** A store to use (the caller closes it); default: open `database`. */
  readonly store?: FleetStore;
  /** The operator token; default the one in `$BIOSEAL_HOME/fleet-operator.token` (made when missing). */
  readonly operatorToken?: string;
  /** Milliseconds since 1970; default Date.now. */
  readonly now?: () => number;
  /** Told about internal errors (their details are never sent to clients). */
  readonly onInternalError?: (error: unknown) => void;
}

export interface FleetService {
  readonly url: string;
  readonly port: number;
  readonly backend: 'sqlite' | 'postgres';
  /** Where the operator token is kept (null when it was passed in). */
  readonly operatorTokenFile: string | null;
  /** Stops accepting, closes connections, frees SEAL and (when it opened it) the store. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::ffff:127.0.0.1']);

/**
 * Starts the service.
 * @throws IOError when the port cannot be bound or the store cannot be opened; FormatError for a foreign database.
 * @example const service = await startFleetService({ home, port: 0 }); ...; await service.close();
 */
export async function startFleetService(options: FleetServiceOptions): Promise<FleetService> {
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
  const ctx: FleetContext = { store, he, operatorToken: token.token, now: options.now ?? Date.now };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      try {
        if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) throw new ForbiddenError('only connections through 127.0.0.1 are served');
        await route(ctx, req, res);
      } catch (error) {
        sendError(res, error, options.onInternalError);
      }
    })();
  });
  const port = options.port ?? DEFAULT_FLEET_PORT;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: '127.0.0.1' }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    he.dispose();
    if (ownsStore) await store.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new IOError(`cannot listen on 127.0.0.1:${port}: ${code === 'EADDRINUSE' ? 'the port is in use' : (error as Error).message}`, { cause: error });
  }
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
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
