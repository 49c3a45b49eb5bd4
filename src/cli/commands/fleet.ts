/**
 * `bioseal fleet serve`: runs the fleet verification service
 * (src/fleet/service.ts) until SIGINT or SIGTERM.
 */
import { biosealHomePath } from '../../home.js';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) throw new UsageError('--port must be an integer from 0 to 65535 (0: any free port)');
  return n;
}

export const fleetCommand: Command = {
  name: 'fleet',
  summary: 'run the fleet verification service (encrypted face templates, devices, model manifests, audit heads)',
  help: `Usage: bioseal fleet serve [--port P] [--database URL] [--json]

Runs the fleet verification service on 127.0.0.1 (put a TLS proxy in front
for devices elsewhere). It keeps face templates only CKKS-encrypted, returns
match scores encrypted for the device, and never holds a secret key. See
docs/FLEET.md for the API.

State: SQLite in $BIOSEAL_HOME/fleet.db by default; for a fleet, PostgreSQL
(--database postgres://USER[:PASSWORD]@HOST:PORT/DB, or set
BIOSEAL_FLEET_DATABASE_URL). The schema is created or migrated on start.

Operators authenticate with the token in $BIOSEAL_HOME/fleet-operator.token
(made on first start, mode 0600): Authorization: Bearer TOKEN. Devices sign
every request with the Ed25519 key they registered.

Options:
  --port P          TCP port on 127.0.0.1 (default 7392; 0 picks a free one)
  --database URL    postgres://... or sqlite:PATH (default $BIOSEAL_FLEET_DATABASE_URL,
                    else $BIOSEAL_HOME/fleet.db)
  --json            print the address, backend and token file as one JSON object`,
  options: { port: { type: 'string' }, database: { type: 'string' } },
  async run(values, positionals, out) {
    if (positionals.length !== 1 || positionals[0] !== 'serve') throw new UsageError("usage: bioseal fleet serve [--port P] [--database URL] (run 'bioseal fleet --help')");
    const port = parsePort(values.port as string | undefined);
    const { startFleetService, FLEET_DATABASE_URL_ENV, redactUrl } = await import('../../fleet/index.js');
    const database = (values.database as string | undefined) ?? process.env[FLEET_DATABASE_URL_ENV];
    const service = await startFleetService({
      home: biosealHomePath(),
      port,
      database,
      onInternalError: (error) => process.stderr.write(`bioseal fleet: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`),
    });
    const where = database ? redactUrl(database) : 'the default SQLite file';
    out.info(`bioseal fleet service listening on ${service.url} (${service.backend}: ${where}); operator token in ${service.operatorTokenFile}`);
    out.result({ url: service.url, port: service.port, backend: service.backend, operator_token_file: service.operatorTokenFile, pid: process.pid });
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        out.info(`${signal}: stopping`);
        void service.close().then(resolve);
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
  },
};
