/**
 * `bioseal enroll fido2 [--device PATH] [--pin-file F] [--name NAME] [--force]`.
 */
import { biosealHomePath, ensureBiosealHome } from '../../home.js';
import { UsageError } from '../../errors.js';
import { cachedPassphrase, passphraseBytes } from '../../factors/inputs.js';
import { cliInteraction } from '../interaction.js';
import { pinSource } from '../unlock-args.js';
import type { EnrolSubcommand } from './subcommand.js';

export const enrolFido2Command: EnrolSubcommand = {
  factor: 'fido2',
  usage: 'bioseal enroll fido2 [--device PATH] [--pin-file F] [--name NAME] [--force]',
  help: `Makes a credential on a FIDO2 security key with libfido2's tools (fido2-tools),
with user verification (a fingerprint on the key, or its PIN) and the
hmac-secret extension, and records its id and public key (no secret) under
$BIOSEAL_HOME/enrolments/fido2/NAME.json. Each fido2 slot then gets the key's
hmac-secret output for a salt of its own. A key with a fingerprint reader needs
no PIN; a key without one asks for its PIN (--pin-file F, BIOSEAL_PIN, or the
terminal).
  --device PATH  the key to use (default: BIOSEAL_FIDO2_DEVICE, else the one
                 key fido2-token -L lists)
  --pin-file F   read the key's PIN from F (first line), if it needs one`,
  options: { device: { type: 'string' }, 'pin-file': { type: 'string' } },
  async run(values, rest, out) {
    if (rest.length) throw new UsageError('enroll fido2 takes no further arguments');
    const home = ensureBiosealHome(biosealHomePath());
    const { explicitDevice } = await import('../../devices/fido2/discovery.js');
    const { enrolFido2 } = await import('../../enrolment/fido2-record.js');
    const pin = pinSource(values['pin-file'] as string | undefined);
    const interaction = cliInteraction();
    const r = await enrolFido2({
      home,
      name: (values.name as string | undefined) ?? 'default',
      overwrite: Boolean(values.force),
      session: {
        device: explicitDevice(values.device as string | undefined),
        pin: pin && cachedPassphrase(async () => {
          const text = await pin();
          return text === undefined ? undefined : passphraseBytes(text);
        }),
        notify: (m) => interaction.notify(m),
      },
    });
    const c = r.credential;
    out.info(`enrolled fido2 "${r.enrolment.record.name}" on ${c.device.path} (${c.device.description}), user verification by ${c.userVerification === 'builtin' ? 'the key (fingerprint)' : 'PIN'}`);
    out.info(`stored the credential id and public key in ${r.file}`);
    out.result({
      ok: true,
      name: r.enrolment.record.name,
      id: r.enrolment.record.id,
      file: r.file,
      device: c.device.path,
      aaguid: c.aaguid,
      userVerification: c.userVerification,
      attestation: c.attestation,
    });
  },
};
