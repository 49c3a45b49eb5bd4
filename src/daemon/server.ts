/**
 * `bioseal serve`: the local daemon. HTTP on 127.0.0.1 only (a request from
 * any other address, or naming another host, is refused), and the same API
 * on a Unix socket with mode 0600. One daemon per state directory.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ensureBiosealHome } from '../home.js';
import { IOError, UsageError } from '../errors.js';
import { ForbiddenError } from './errors.js';
import { sendError } from './http.js';
import { route, type RouteContext } from './routes.js';
import { DaemonSession, type LockReason } from './session.js';
import { acquireStateLock } from './state-lock.js';
import { Gate, type Transport } from './gate.js';
import { PolicyAuthorizer } from '../policy/cedar/index.js';
import { TrustEngine, type TrustConfigInput } from '../trust/index.js';
import type { EvidenceContext } from './evidence.js';
import { openAuditLog } from '../audit/index.js';
import { AuditTrail } from './audit-trail.js';
import { createPageChallenges } from './challenges.js';

export const DEFAULT_PORT = 7391;
export const DEFAULT_BODY_LIMIT = 32 * 1024 * 1024;

export interface DaemonOptions {
  readonly home: string;
  /** TCP port on 127.0.0.1 (0 picks a free one); default 7391. */
  readonly port?: number;
  /** Unix socket path; default `$BIOSEAL_HOME/daemon.sock`. */
  readonly socketPath?: string;
  /** A Cedar policy file; default the shipped policies/default.cedar. One that fails to parse or validate stops the start. */
  readonly policyFile?: string;
  /** Trust settings (half-life, lock threshold, ...); default docs/TRUST.md. */
  readonly trust?: TrustConfigInput;
  /** Lock after this long without an authenticated request; default none. */
  readonly idleTimeoutMs?: number;
  readonly bodyLimit?: number;
  readonly version?: string;
  /** Told about internal errors (their details are never sent to clients). */
  readonly onInternalError?: (error: unknown) => void;
}

export interface Daemon {
  readonly url: string;
  readonly port: number;
  readonly socketPath: string;
  readonly session: DaemonSession;
  lock(reason: LockReason, explanation: string): Promise<void>;
  /** Locks, stops accepting, closes connections and frees the state. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::ffff:127.0.0.1', '::1']);

function checkOrigin(req: IncomingMessage, port: number, overSocket: boolean): void {
  if (overSocket) return;
  if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) throw new ForbiddenError('only local clients are served');
  // DNS rebinding: a page from elsewhere resolving its name to 127.0.0.1 sends its own Host.
  const host = req.headers.host;
  if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) throw new ForbiddenError(`unexpected Host header "${host ?? ''}"`);
}

function listen(server: Server, target: { port: number; host: string } | { path: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(target, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function removeStaleSocket(socketPath: string): void {
  try {
    if (!lstatSync(socketPath).isSocket()) throw new UsageError(`${socketPath} exists and is not a socket; refusing to replace it`);
    unlinkSync(socketPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * Starts the daemon.
 * @throws ExistsError when another daemon serves the same state; IOError when a port or socket cannot be bound.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const home = ensureBiosealHome(options.home);
  // Policy and trust settings first: a bad policy keeps the daemon from starting.
  const engine = new TrustEngine({ config: options.trust });
  const policy = await PolicyAuthorizer.load(options.policyFile);
  const stateLock = acquireStateLock(home);
  let audit: AuditTrail;
  try {
    audit = new AuditTrail(await openAuditLog(home), 5000, options.onInternalError);
  } catch (error) {
    stateLock.release();
    throw error;
  }
  const gate = new Gate(engine, policy, audit);
  audit.record({ type: 'daemon', actor: gate.principal, decision: 'start', reasons: [`daemon started (pid ${process.pid})`], details: { policy: policy.policySet.source } });
  const session = new DaemonSession(gate, options.idleTimeoutMs);
  const shared: Omit<RouteContext, 'transport'> & EvidenceContext = {
    session,
    home,
    keystroke: {},
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    version: options.version ?? 'dev',
    challenges: createPageChallenges(),
  };
  const contexts: Record<Transport, RouteContext> = { http: { ...shared, transport: 'http' }, socket: { ...shared, transport: 'socket' } };
  const socketPath = path.resolve(options.socketPath ?? path.join(home, 'daemon.sock'));
  let port = options.port ?? DEFAULT_PORT;
  const handler = (overSocket: boolean) => (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      try {
        checkOrigin(req, port, overSocket);
        await route(contexts[overSocket ? 'socket' : 'http'], req, res);
      } catch (error) {
        sendError(res, error, options.onInternalError);
      }
    })();
  };
  const tcp = createServer(handler(false));
  const unix = createServer(handler(true));
  try {
    await listen(tcp, { port, host: '127.0.0.1' }).catch((error: NodeJS.ErrnoException) => {
      throw new IOError(`cannot listen on 127.0.0.1:${port}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : error.message}`, { cause: error });
    });
    port = (tcp.address() as AddressInfo).port;
    removeStaleSocket(socketPath);
    // Created owner-only: no window in which others could connect.
    const oldMask = process.umask(0o177);
    try {
      await listen(unix, { path: socketPath });
    } finally {
      process.umask(oldMask);
    }
    chmodSync(socketPath, 0o600);
  } catch (error) {
    tcp.close();
    unix.close();
    audit.close();
    stateLock.release();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    socketPath,
    session,
    async lock(reason, explanation) {
      await session.lock(reason, explanation);
    },
    close() {
      closing ??= (async () => {
        await session.lock('shutdown', 'the daemon stopped');
        await Promise.all(
          [tcp, unix].map(
            (s) =>
              new Promise<void>((resolve) => {
                s.close(() => resolve());
                s.closeAllConnections();
              }),
          ),
        );
        try {
          unlinkSync(socketPath);
        } catch {
          // Already gone.
        }
        audit.record({ type: 'daemon', actor: gate.principal, decision: 'stop', reasons: ['daemon stopped'] });
        audit.close();
        stateLock.release();
      })();
      return closing;
    },
  };
}
