/**
 * What a failed tpm2-tools run means for the person: the response code the
 * tool prints (`ERROR: Esys_Unseal(0x99D) - tpm:session(1):a policy check
 * failed`) decoded after TPM 2.0 Part 2 §6.6 (TPM_RC), and the TCTI's own
 * messages, turned into a DeviceError with a failure class and a message
 * that says what to do. Blobs the tools cannot even unmarshal come from a
 * damaged enrolment record: those are FormatErrors.
 */
import { DeviceError, FormatError } from '../../errors.js';

// TPM 2.0 Part 2 §6.6.3: format-one codes (bit 7 set) carry the error in bits 0..5.
const RC_FMT1 = 0x080;
const FMT1_AUTH_FAIL = 0x00e;
const FMT1_POLICY_FAIL = 0x01d;
const FMT1_INTEGRITY = 0x01f;
const FMT1_BAD_AUTH = 0x022;
// Format-zero codes (bits 0..11 significant).
const RC_INITIALIZE = 0x100;
const RC_PCR_CHANGED = 0x128;
const RC_WARN = 0x900;
const RC_CONTEXT_GAP = 0x901;
const RC_OBJECT_MEMORY = 0x902;
const RC_SESSION_MEMORY = 0x903;
const RC_LOCKOUT = 0x921;
/** TSS2 layers (tss2_common.h, bits 16..23): the marshalling code, the TCTI. */
const TSS2_MU_LAYER = 9;
const TSS2_TCTI_LAYER = 10;

/** The PCR policy no longer matches. */
export const PCR_CHANGED_MESSAGE = 'the TPM refused to unseal: the PCR values changed since enrolment (firmware, boot loader or Secure Boot state differ)';
/** The sealed object does not load under this TPM's storage key. */
export const OTHER_TPM_MESSAGE =
  'the TPM refused the sealed secret: this enrolment belongs to another TPM (or this TPM\'s owner hierarchy was cleared since enrolment)';

/** The tool's own explanation: its last ERROR line other than "Unable to run". */
function toolMessage(stderr: string): string | undefined {
  const lines = stderr.split('\n').filter((l) => l.startsWith('ERROR: ') && !l.startsWith('ERROR: Unable to run'));
  return lines.at(-1)?.slice('ERROR: '.length).trim();
}

/** The response code in "ERROR: Esys_X(0x99D) - ...", when there is one. */
function responseCode(stderr: string): number | undefined {
  const m = /^ERROR: \w+\((0x[0-9a-fA-F]{1,8})\)/m.exec(stderr);
  return m ? Number.parseInt(m[1]!, 16) : undefined;
}

/**
 * The error for a tool that exited with an error: a DeviceError, or a
 * FormatError when the blobs it was given do not unmarshal.
 * @param tool the tool run, e.g. tpm2_unseal
 * @param tcti the TCTI it was run with (named in messages about reaching the TPM)
 * @param stderr what it printed
 */
export function toolFailure(tool: string, tcti: string, stderr: string): DeviceError | FormatError {
  const detail = toolMessage(stderr) ?? `${tool} failed`;
  const unreachable = (why: string) => new DeviceError('unavailable', `the TPM at ${tcti} is not reachable: ${why}`);
  if (/Could not load tcti|Failed to instantiate TCTI/.test(stderr)) {
    const why = /Connection refused/.test(stderr)
      ? 'connection refused'
      : /No such file or directory/.test(stderr)
        ? 'no such device'
        : /Permission denied/.test(stderr)
          ? 'permission denied (is this user in the tss group?)'
          : 'the TCTI could not be opened';
    return unreachable(why);
  }
  const rc = responseCode(stderr);
  if ((rc !== undefined && rc >>> 16 === TSS2_MU_LAYER) || /needs to be a valid TPM2B_/.test(stderr)) {
    return new FormatError(`the sealed object in the tpm enrolment record is malformed (${tool}: ${detail})`);
  }
  if (rc === undefined) return new DeviceError('refused', `${tool} failed: ${detail}`);
  if (rc >>> 16 === TSS2_TCTI_LAYER) return unreachable(`the connection failed (${detail})`);
  if (rc >>> 16 !== 0) return new DeviceError('refused', `${tool} failed: ${detail}`);
  if (rc & RC_FMT1) {
    const code = rc & 0x3f;
    if (code === FMT1_POLICY_FAIL) return new DeviceError('refused', PCR_CHANGED_MESSAGE);
    if (code === FMT1_INTEGRITY) return new DeviceError('refused', OTHER_TPM_MESSAGE);
    if (code === FMT1_AUTH_FAIL || code === FMT1_BAD_AUTH) {
      return new DeviceError('refused', `the TPM refused the authorization for ${tool} (bioseal needs an owner hierarchy without a password): ${detail}`);
    }
    return new DeviceError('refused', `the TPM refused ${tool}: ${detail}`);
  }
  const code = rc & 0xfff;
  if (code === RC_PCR_CHANGED) return new DeviceError('refused', PCR_CHANGED_MESSAGE);
  if (code === RC_LOCKOUT) return new DeviceError('refused', 'the TPM is in dictionary-attack lockout: wait, or reset it with tpm2_dictionarylockout');
  if (code === RC_OBJECT_MEMORY || code === RC_SESSION_MEMORY || code === RC_CONTEXT_GAP) {
    return new DeviceError(
      'unavailable',
      `the TPM is out of memory for object contexts (another program left objects loaded without a resource manager; use /dev/tpmrm0, or tpm2_flushcontext -t -s): ${detail}`,
    );
  }
  if (code === RC_INITIALIZE) return unreachable('the TPM has not been started (TPM2_Startup)');
  if ((code & RC_WARN) === RC_WARN) return new DeviceError('unavailable', `the TPM is busy or not ready for ${tool}: ${detail}`);
  return new DeviceError('refused', `the TPM refused ${tool}: ${detail}`);
}
