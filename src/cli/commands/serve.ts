import { biosealHomePath } from '../../home.js';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError('--port must be an integer from 0 to 65535 (0: any free port)');
  return n;
}

function parseSeconds(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > 7 * 24 * 3600) throw new UsageError(`${what} must be a number of seconds, more than 0 and at most a week`);
  return n * 1000;
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the local daemon: unlock sealed models and serve inference on loopback',
  help: `Usage: bioseal serve [--port P] [--socket PATH] [--policy FILE] [--trust FILE] [--idle-timeout SECONDS] [--json]

Runs the bioseal daemon for this user. It listens on 127.0.0.1 only (never
another address) and on a Unix socket with mode 0600, holds sealed models
unlocked in memory and serves inference to local programs. State lives in
$BIOSEAL_HOME; one daemon per state directory.

API (JSON; errors are {"error": {"code", "message"}}):
  POST   /v1/models             {"name", "path", "unlock": {"keyfile"?: base64,
                                "passphrase"?: string, "face"?: [base64 image...]}}
                                -> {"token", "trust", "model"}
  POST   /v1/models/NAME/infer  Authorization: Bearer TOKEN; {"inputs": {...}} -> {"outputs": {...}}
  GET    /v1/models             the loaded models (token)
  DELETE /v1/models/NAME        unload (token)
  GET    /v1/session            state, trust and the explanation of the last change
  GET    /v1/trust              the trust history (token)
  POST   /v1/evidence           {"type": "face", "image": base64} or
                                {"type": "keystroke", "events": [{"key", "down", "up"}...]} (token)
  POST   /v1/enrolments/keystroke {"samples": [[events]...], "model"?}: enrol typing, stored
                                encrypted and sealed to a loaded model (token)
  DELETE /v1/enrolments/keystroke ?model=NAME: remove it (token)
  POST   /v1/lock               lock now
A locked session answers 423 with code E_LOCKED until the next unlock.

Web pages (docs/PAGES.md): open http://localhost:PORT/ui/ for the overview
(session, live trust graph, models), unlock and step-up, enrolment (face
with a liveness challenge, passkey) and the audit log. They use:
  POST   /v1/evidence           {"type": "passkey", "challenge", "credential"} (token)
  POST   /v1/challenges/face    {"name"?} -> a liveness challenge to film (token)
  POST   /v1/enrolments/face    {"challenge", "frames": [base64...], "name"?, "overwrite"?} (token)
  POST   /v1/challenges/passkey {"purpose": "register"|"assert", ...} -> WebAuthn options (token)
  POST   /v1/enrolments/passkey {"challenge", "credential"} (token)
  GET    /v1/enrolments         the face and passkey enrolments (token)
  GET    /v1/audit              ?since=T&limit=N: entries and the log's verification (token)
Enrolment changes are decided by the policy (enrolment:change) and audited.

Trust starts from the unlock's factors, decays (half-life 10 minutes) and is
raised or lowered by evidence; the session locks below 0.05 (docs/TRUST.md). Every action is
decided by a Cedar policy (default: policies/default.cedar; see
docs/POLICY.md); a denial answers 403 E_POLICY with the step-up that would
lift it.

Locks: POST /v1/lock, --idle-timeout, SIGUSR1 or SIGHUP. SIGINT and SIGTERM
lock and stop.

Options:
  --port P               TCP port on 127.0.0.1 (default 7391; 0 picks a free one)
  --socket PATH          Unix socket (default $BIOSEAL_HOME/daemon.sock)
  --policy FILE          a Cedar policy file (it must parse and validate, or the daemon does not start)
  --trust FILE           trust settings as JSON, e.g. {"lockThreshold": 0.1} (docs/TRUST.md;
                         measure a setting first with bioseal eval takeover --trust FILE)
  --idle-timeout SECONDS lock after this long without an authenticated request
  --json                 print the listening addresses as one JSON line`,
  options: { port: { type: 'string' }, socket: { type: 'string' }, policy: { type: 'string' }, trust: { type: 'string' }, 'idle-timeout': { type: 'string' } },
  async run(values, positionals, out) {
    if (positionals.length) throw new UsageError('serve takes no positional arguments');
    const port = parsePort(values.port as string | undefined);
    const idleTimeoutMs = parseSeconds(values['idle-timeout'] as string | undefined, '--idle-timeout');
    const trust = values.trust === undefined ? undefined : (await import('../../trust/config-file.js')).readTrustConfigFile(values.trust as string).input;
    const { startDaemon } = await import('../../daemon/server.js');
    const { VERSION } = await import('../version.js');
    const daemon = await startDaemon({
      home: biosealHomePath(),
      port,
      socketPath: values.socket as string | undefined,
      policyFile: values.policy as string | undefined,
      trust,
      idleTimeoutMs,
      version: VERSION,
      onInternalError: (error) => process.stderr.write(`bioseal serve: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`),
    });
    // Signals are handled from before the start line, so that one sent on reading it finds its handler.
    const stopped = new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        out.info(`${signal}: locking and stopping`);
        void daemon.close().then(resolve);
      };
      const lock = (signal: string) => {
        out.info(`${signal}: locking`);
        void daemon.lock('signal', `locked by ${signal}`);
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGUSR1', () => lock('SIGUSR1'));
      process.on('SIGHUP', () => lock('SIGHUP'));
    });
    out.info(`bioseal daemon listening on ${daemon.url} and ${daemon.socketPath} (locked until a model is unlocked)`);
    out.result({ url: daemon.url, port: daemon.port, socket: daemon.socketPath, pid: process.pid });
    await stopped;
  },
};
