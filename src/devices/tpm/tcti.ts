/**
 * Which TPM to talk to, as a tpm2-tools TCTI string: the one given
 * (`--tcti`, UnlockInputs.tpmTcti), else `BIOSEAL_TPM_TCTI`, else the TPM
 * device, preferring the kernel's resource manager (/dev/tpmrm0) over the raw
 * device (/dev/tpm0), which only one program may use at a time.
 */
import { existsSync } from 'node:fs';
import { DeviceError, UsageError } from '../../errors.js';

/** `name` or `name:config`, printable ASCII without spaces (it travels in an environment variable, never a shell). */
const TCTI = /^[a-z][a-z0-9_-]{0,31}(:[\x21-\x7e]{0,480})?$/;

/**
 * Checks the form of a TCTI string.
 * @throws UsageError when it is not `name[:config]`.
 */
export function checkTcti(tcti: string): string {
  if (!TCTI.test(tcti)) {
    throw new UsageError(`"${tcti}" is not a TCTI: expected NAME[:CONFIG], e.g. device:/dev/tpmrm0 or swtpm:host=127.0.0.1,port=2321`);
  }
  return tcti;
}

/**
 * The TCTI to use.
 * @throws UsageError for a malformed TCTI; DeviceError (unavailable) when none
 *   is configured and this machine has no TPM device.
 * @example resolveTcti(undefined, { BIOSEAL_TPM_TCTI: 'swtpm:port=2321' }) // 'swtpm:port=2321'
 */
export function resolveTcti(given: string | undefined, env: NodeJS.ProcessEnv = process.env, exists: (file: string) => boolean = existsSync): string {
  if (given) return checkTcti(given);
  const fromEnv = env.BIOSEAL_TPM_TCTI;
  if (fromEnv) return checkTcti(fromEnv);
  for (const device of ['/dev/tpmrm0', '/dev/tpm0']) {
    if (exists(device)) return `device:${device}`;
  }
  throw new DeviceError(
    'unavailable',
    'no TPM on this machine: neither /dev/tpmrm0 nor /dev/tpm0 exists (name another TPM with --tcti TCTI or BIOSEAL_TPM_TCTI)',
  );
}
