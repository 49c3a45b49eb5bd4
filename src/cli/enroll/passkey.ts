/**
 * `bioseal enroll passkey [--timeout SECONDS] [--name NAME] [--force]`:
 * registers a passkey through a page on localhost (printed, and opened in the
 * browser where one is at hand).
 */
import { biosealHomePath, ensureBiosealHome } from '../../home.js';
import { UsageError } from '../../errors.js';
import { cliInteraction } from '../interaction.js';
import type { EnrolSubcommand } from './subcommand.js';

const MAX_TIMEOUT_S = 3600;

/** `--timeout SECONDS` in milliseconds (default 120 s). */
function timeoutMs(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const s = Number(value);
  if (!/^\d+$/.test(String(value)) || s < 1 || s > MAX_TIMEOUT_S) throw new UsageError(`--timeout takes whole seconds from 1 to ${MAX_TIMEOUT_S} (got "${String(value)}")`);
  return s * 1000;
}

export const enrolPasskeyCommand: EnrolSubcommand = {
  factor: 'passkey',
  usage: 'bioseal enroll passkey [--timeout SECONDS] [--name NAME] [--force]',
  help: `Registers a passkey (Touch ID, Windows Hello, a phone, a security key) on a
page at http://localhost:PORT: open it in a browser on this machine. The
authenticator must verify you (fingerprint, face or PIN) and support the PRF
extension. Only the credential's public data is stored, under
$BIOSEAL_HOME/enrolments/passkey/NAME.json. Set BIOSEAL_BROWSER to the browser
to open (none: only print the address).
  --timeout SECONDS   how long to wait for the page (default 120)`,
  options: { timeout: { type: 'string' } },
  async run(values, rest, out) {
    if (rest.length) throw new UsageError('enroll passkey takes no further arguments');
    const timeout = timeoutMs(values.timeout);
    const home = ensureBiosealHome(biosealHomePath());
    const interaction = cliInteraction();
    const { enrolPasskey } = await import('../../enrolment/passkey.js');
    const r = await enrolPasskey({
      home,
      name: (values.name as string | undefined) ?? 'default',
      overwrite: Boolean(values.force),
      timeoutMs: timeout,
      openUrl: (url) => interaction.openUrl(url),
    });
    const { record, credential, aaguid } = r.enrolment;
    out.info(`enrolled passkey "${record.name}" (credential ${Buffer.from(credential.id).toString('base64url').slice(0, 16)}..., authenticator ${aaguid})`);
    out.info(`stored its public key in ${r.file}`);
    out.result({ ok: true, name: record.name, id: record.id, file: r.file, credentialId: Buffer.from(credential.id).toString('base64url'), aaguid, transports: credential.transports });
  },
};
