/**
 * A software TPM 2.0 (swtpm) on loopback, for benchmarks and tests: started
 * on free ports with its state in a given directory, ready once it accepts
 * connections, stoppable and restartable on the same state (the TPM's seeds
 * survive; PCRs are reset, as after a reboot).
 *
 *   swtpm socket --tpm2 --server type=tcp,port=P,bindaddr=127.0.0.1
 *     --ctrl type=tcp,port=P+1,bindaddr=127.0.0.1 --tpmstate dir=D
 *     --flags not-need-init,startup-clear
 *
 * tpm2-tools reach it with the TCTI `swtpm:host=127.0.0.1,port=P`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

/** A running software TPM. */
export interface SoftwareTpm {
  /** The TCTI of the running instance (the port changes on restart). */
  readonly tcti: string;
  readonly port: number;
  readonly stateDir: string;
  /** Stops the process (SIGTERM, then SIGKILL) and waits for it to exit. */
  stop(): Promise<void>;
  /** Stops and starts again on the same state directory. */
  restart(): Promise<void>;
}

export interface SoftwareTpmOptions {
  /** How long to wait for swtpm to accept connections (default 10 s). */
  readonly readyTimeoutMs?: number;
  /** Attempts on fresh ports when one is taken meanwhile (default 5). */
  readonly attempts?: number;
}

/** The process exited before it was ready (a port taken meanwhile, a bad state directory). */
class EarlyExit extends Error {}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills every swtpm this process started when it exits, so none outlives a crashed run. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** Two consecutive free loopback ports P, P+1 (the server and control ports). */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await listenOnce(0);
    if (port < 65535 && (await listenOnce(port + 1).then(() => true, () => false))) return port;
  }
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as net.AddressInfo;
      server.close(() => resolve(bound));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts swtpm on `port` and resolves once its server port accepts connections. */
async function launch(stateDir: string, port: number, readyTimeoutMs: number): Promise<ChildProcess> {
  const child = spawn(
    'swtpm',
    [
      'socket', '--tpm2',
      '--server', `type=tcp,port=${port},bindaddr=127.0.0.1`,
      '--ctrl', `type=tcp,port=${port + 1},bindaddr=127.0.0.1`,
      '--tpmstate', `dir=${stateDir}`,
      '--flags', 'not-need-init,startup-clear',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  live.add(child);
  child.once('exit', () => live.delete(child));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (t: string) => {
    if (stderr.length < 4096) stderr += t;
  });
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (e) => resolve(e));
  });
  if (spawned) {
    live.delete(child);
    throw (spawned as NodeJS.ErrnoException).code === 'ENOENT' ? new Error('swtpm is not installed (install the swtpm package)') : spawned;
  }
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new EarlyExit(`swtpm exited before it was ready: ${stderr.trim() || `status ${child.exitCode}`}`);
    if (await canConnect(port)) return child;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await waitForExit(child);
      throw new Error(`swtpm did not accept connections on 127.0.0.1:${port} within ${readyTimeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function terminate(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await waitForExit(child);
  clearTimeout(killer);
}

/**
 * Starts a software TPM keeping its state in `stateDir` (an existing directory).
 * @throws Error when swtpm is missing or does not come up.
 * @example const tpm = await startSoftwareTpm(dir); ...; await tpm.stop();
 */
export async function startSoftwareTpm(stateDir: string, options: SoftwareTpmOptions = {}): Promise<SoftwareTpm> {
  installExitHook();
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  const attempts = options.attempts ?? 5;
  const start = async (): Promise<{ child: ChildProcess; port: number }> => {
    for (let i = 1; ; i++) {
      const port = await freePortPair();
      try {
        return { child: await launch(stateDir, port, readyTimeoutMs), port };
      } catch (error) {
        // Another program may have taken the ports between the check and the start: try others.
        if (!(error instanceof EarlyExit) || i >= attempts) throw error;
      }
    }
  };
  let current = await start();
  return {
    get tcti() {
      return `swtpm:host=127.0.0.1,port=${current.port}`;
    },
    get port() {
      return current.port;
    },
    stateDir,
    stop: () => terminate(current.child),
    async restart() {
      await terminate(current.child);
      current = await start();
    },
  };
}
