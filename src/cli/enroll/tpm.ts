/**
 * `bioseal enroll tpm [--pcrs LIST] [--tcti TCTI] [--name NAME] [--force]`.
 */
import { biosealHomePath, ensureBiosealHome } from '../../home.js';
import { UsageError } from '../../errors.js';
import { PCR_BANK, parsePcrList, pcrSelection } from '../../devices/tpm/pcrs.js';
import { resolveTcti } from '../../devices/tpm/tcti.js';
import type { EnrolSubcommand } from './subcommand.js';

export const enrolTpmCommand: EnrolSubcommand = {
  factor: 'tpm',
  usage: 'bioseal enroll tpm [--pcrs LIST] [--tcti TCTI] [--name NAME] [--force]',
  help: `Seals a random secret in the TPM 2.0 under the owner hierarchy, optionally
bound to the current values of PCRs of the sha256 bank; tpm slots then open
only on this TPM (and only while those PCRs hold the same values). The record,
under $BIOSEAL_HOME/enrolments/tpm/NAME.json, holds the TPM-encrypted sealed
object, never the secret. Needs tpm2-tools.
  --pcrs LIST    PCRs to bind to, e.g. 0,7 (0..23; default: none)
  --tcti TCTI    the TPM, as a tpm2-tools TCTI (default: BIOSEAL_TPM_TCTI,
                 then device:/dev/tpmrm0, then device:/dev/tpm0)`,
  options: { pcrs: { type: 'string' }, tcti: { type: 'string' } },
  async run(values, rest, out) {
    if (rest.length) throw new UsageError('enroll tpm takes no further arguments');
    const pcrs = values.pcrs === undefined ? [] : parsePcrList(values.pcrs as string);
    const tcti = resolveTcti(values.tcti as string | undefined);
    const home = ensureBiosealHome(biosealHomePath());
    const { enrolTpm } = await import('../../enrolment/tpm.js');
    const r = await enrolTpm({ home, name: (values.name as string | undefined) ?? 'default', pcrs, tcti, overwrite: Boolean(values.force) });
    const record = r.enrolment.record;
    out.info(`enrolled tpm "${record.name}" on ${tcti}${pcrs.length ? `, bound to PCRs ${pcrSelection(pcrs)}` : ' (no PCR binding)'}`);
    out.info(`stored the sealed object in ${r.file}`);
    out.result({ ok: true, name: record.name, id: record.id, file: r.file, tcti, pcrBank: PCR_BANK, pcrs });
  },
};
