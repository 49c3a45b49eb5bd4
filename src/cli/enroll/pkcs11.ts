/**
 * `bioseal enroll pkcs11 --module LIB --token LABEL --pin-file F [--key-label L]`.
 */
import { biosealHomePath, ensureBiosealHome } from '../../home.js';
import { UsageError } from '../../errors.js';
import { passphraseBytes } from '../../factors/inputs.js';
import { toHex, wipe } from '../../util/bytes.js';
import { pinSource } from '../unlock-args.js';
import type { EnrolSubcommand } from './subcommand.js';

export const enrolPkcs11Command: EnrolSubcommand = {
  factor: 'pkcs11',
  usage: 'bioseal enroll pkcs11 --module LIB --token LABEL --pin-file F [--key-label L] [--name NAME] [--force]',
  help: `Enrols an HSM or smart card through its PKCS#11 module. bioseal logs in with
the user PIN, uses (or creates) a non-extractable AES-256 key on the token and
has the token wrap a random secret with it (AES-GCM). The record under
$BIOSEAL_HOME/enrolments/pkcs11/NAME.json holds the module path, token label
and serial, key label and id, and the wrapped secret: never the PIN.
Unlocking needs the token and its PIN (--pin-file F, BIOSEAL_PIN or a prompt).
  --module LIB       the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so
  --token LABEL      the token's label
  --pin-file F       read the user PIN from F (first line)
                     (or set BIOSEAL_PIN, or type it when asked on a terminal)
  --key-label L      use the AES-256 key with this label (default: bioseal:NAME,
                     created when missing)`,
  options: { module: { type: 'string' }, token: { type: 'string' }, 'pin-file': { type: 'string' }, 'key-label': { type: 'string' } },
  async run(values, rest, out) {
    if (rest.length) throw new UsageError('enroll pkcs11 takes no further arguments');
    const module = values.module as string | undefined;
    const tokenLabel = values.token as string | undefined;
    if (!module) throw new UsageError('enroll pkcs11 needs --module LIB (the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so)');
    if (!tokenLabel) throw new UsageError('enroll pkcs11 needs --token LABEL (the token label; list them with: pkcs11-tool --module LIB --list-slots)');
    const askPin = pinSource(values['pin-file'] as string | undefined);
    if (!askPin) throw new UsageError('enroll pkcs11 needs the token PIN: --pin-file F (or set BIOSEAL_PIN, or run it on a terminal)');
    const pinText = await askPin();
    if (!pinText) throw new UsageError('enroll pkcs11 needs the token PIN; none was given');
    const pin = passphraseBytes(pinText);
    const home = ensureBiosealHome(biosealHomePath());
    const { enrolPkcs11 } = await import('../../devices/pkcs11/enrol.js');
    try {
      const r = await enrolPkcs11({
        home,
        name: (values.name as string | undefined) ?? 'default',
        module,
        tokenLabel,
        keyLabel: values['key-label'] as string | undefined,
        pin,
        overwrite: Boolean(values.force),
      });
      const e = r.enrolment;
      out.info(`enrolled PKCS#11 token "${r.token.label}" (serial ${r.token.serial}) as "${e.record.name}"`);
      out.info(`${r.createdKey ? 'created' : 'using'} the non-extractable AES-256 key "${e.key.label}" on the token`);
      out.info(`stored the wrapped secret in ${r.file}`);
      out.result({
        ok: true,
        name: e.record.name,
        id: e.record.id,
        file: r.file,
        module: e.module,
        token: r.token.label,
        serial: r.token.serial,
        keyLabel: e.key.label,
        keyId: toHex(e.key.id),
        createdKey: r.createdKey,
      });
    } finally {
      wipe(pin);
    }
  },
};
