/**
 * `bioseal fleet serve`: runs the fleet verification service
 * (src/fleet/service.ts) until SIGINT or SIGTERM.
 */
import { biosealHomePath } from '../../home.js';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';
import type { FleetRateLimitOptions, FleetTlsFiles, TokenBucketPolicy } from '../../fleet/index.js';

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) throw new UsageError('--port must be an integer from 0 to 65535 (0: any free port)');
  return n;
}

/** --tls-cert/--tls-key, else their environment variables; both or neither. */
function tlsFiles(values: Record<string, unknown>, certEnv: string, keyEnv: string): FleetTlsFiles | undefined {
  const certFile = (values['tls-cert'] as string | undefined) ?? process.env[certEnv];
  const keyFile = (values['tls-key'] as string | undefined) ?? process.env[keyEnv];
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new UsageError(`TLS needs both a certificate and a key: --tls-cert and --tls-key (or ${certEnv} and ${keyEnv})`);
  return { certFile, keyFile };
}

export const fleetCommand: Command = {
  name: 'fleet',
  summary: 'run the fleet verification service (encrypted face templates, devices, model manifests, audit heads)',
  help: `Usage: bioseal fleet serve [--port P] [--host ADDR --tls-cert FILE --tls-key FILE]
                          [--database URL] [--rate N/s] [--burst B] [--json]

Runs the fleet verification service. It keeps face templates only
CKKS-encrypted, returns match scores encrypted for the device, and never
holds a secret key. See docs/FLEET.md for the API.

Transport: without TLS the service speaks plain HTTP on 127.0.0.1 only (put
a TLS-terminating proxy in front for devices elsewhere) and refuses any
other address. With --tls-cert and --tls-key (PEM; or set
BIOSEAL_FLEET_TLS_CERT and BIOSEAL_FLEET_TLS_KEY) it speaks HTTPS, TLS 1.2
or above, and may listen on any address (--host 0.0.0.0, say) for devices
to reach it directly. The certificate and key are checked at start, and
read again on SIGHUP (a renewed certificate without a restart; if the new
files fail the same checks, the service keeps serving the old one and says
why on stderr).

State: SQLite in $BIOSEAL_HOME/fleet.db by default; for a fleet, PostgreSQL
(--database postgres://USER[:PASSWORD]@HOST:PORT/DB, or set
BIOSEAL_FLEET_DATABASE_URL). The schema is created or migrated on start.

Operators authenticate with the token in $BIOSEAL_HOME/fleet-operator.token
(made on first start, mode 0600): Authorization: Bearer TOKEN. Devices sign
every request with the Ed25519 key they registered.

Rate limits (token buckets; over the limit: 429 E_RATE_LIMIT with Retry-After):
  --rate N/s, --burst B                  per device, every request (default 10/s, burst 100)
  --match-rate N/s, --match-burst B      per device, verify and search on top (default 2/s, burst 20)
  --auth-failure-rate N/s, --auth-failure-burst B
                                         failed authentications per address, under TLS only
                                         (default 1/s, burst 30); an address over it is refused,
                                         but a device whose signature verifies is still served.
                                         Without TLS every peer is the proxy: the proxy must limit.
Rates may also be given per minute or hour: 30/min, 100/h.

Options:
  --port P          TCP port (default 7392; 0 picks a free one)
  --host ADDR       IP address to listen on (default 127.0.0.1; another needs TLS)
  --tls-cert FILE   PEM certificate, then any intermediates
  --tls-key FILE    PEM private key of that certificate, unencrypted
  --database URL    postgres://... or sqlite:PATH (default $BIOSEAL_FLEET_DATABASE_URL,
                    else $BIOSEAL_HOME/fleet.db)
  --json            print the address, backend and token file as one JSON object`,
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    database: { type: 'string' },
    rate: { type: 'string' },
    burst: { type: 'string' },
    'match-rate': { type: 'string' },
    'match-burst': { type: 'string' },
    'auth-failure-rate': { type: 'string' },
    'auth-failure-burst': { type: 'string' },
  },
  async run(values, positionals, out) {
    if (positionals.length !== 1 || positionals[0] !== 'serve') throw new UsageError("usage: bioseal fleet serve [--port P] [--host ADDR --tls-cert FILE --tls-key FILE] [--database URL] (run 'bioseal fleet --help')");
    const port = parsePort(values.port as string | undefined);
    const fleet = await import('../../fleet/index.js');
    const { startFleetService, FLEET_DATABASE_URL_ENV, FLEET_TLS_CERT_ENV, FLEET_TLS_KEY_ENV, DEFAULT_FLEET_RATE_LIMITS, parseRate, parseBurst, redactUrl } = fleet;
    const policy = (rateFlag: string, burstFlag: string, defaults: TokenBucketPolicy): TokenBucketPolicy => {
      const rate = values[rateFlag] as string | undefined;
      const burst = values[burstFlag] as string | undefined;
      return {
        ratePerSecond: rate === undefined ? defaults.ratePerSecond : parseRate(rate, `--${rateFlag}`),
        burst: burst === undefined ? defaults.burst : parseBurst(burst, `--${burstFlag}`),
      };
    };
    const rateLimits: FleetRateLimitOptions = {
      device: policy('rate', 'burst', DEFAULT_FLEET_RATE_LIMITS.device),
      matching: policy('match-rate', 'match-burst', DEFAULT_FLEET_RATE_LIMITS.matching),
      authFailures: policy('auth-failure-rate', 'auth-failure-burst', DEFAULT_FLEET_RATE_LIMITS.authFailures),
    };
    const tls = tlsFiles(values, FLEET_TLS_CERT_ENV, FLEET_TLS_KEY_ENV);
    const database = (values.database as string | undefined) ?? process.env[FLEET_DATABASE_URL_ENV];
    const service = await startFleetService({
      home: biosealHomePath(),
      port,
      host: values.host as string | undefined,
      tls,
      database,
      rateLimits,
      onInternalError: (error) => process.stderr.write(`bioseal fleet: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`),
    });
    const reload = () => {
      try {
        const served = service.reloadTls();
        out.info(`SIGHUP: serving the certificate of ${served.subject}, valid until ${served.notAfter.toISOString()}`);
      } catch (error) {
        const e = error as { code?: string; message?: string };
        out.warn(`SIGHUP: still serving the previous certificate: ${e.code ?? 'E_INTERNAL'}: ${e.message ?? String(error)}`);
      }
    };
    // Signals are handled from before the start line, so that one sent on reading it is not taken for a hangup or a kill.
    // Without TLS, SIGHUP keeps its default meaning (the service ends).
    if (service.tls) process.on('SIGHUP', reload);
    const stopped = new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        out.info(`${signal}: stopping`);
        void service.close().then(() => {
          process.off('SIGHUP', reload);
          resolve();
        });
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    const where = database ? redactUrl(database) : 'the default SQLite file';
    out.info(`bioseal fleet service listening on ${service.url} (${service.backend}: ${where}); operator token in ${service.operatorTokenFile}`);
    out.result({ url: service.url, port: service.port, tls: service.tls, backend: service.backend, operator_token_file: service.operatorTokenFile, pid: process.pid });
    await stopped;
  },
};
