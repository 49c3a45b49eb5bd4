/**
 * The unlock options shared by check, run and the slot commands, and their
 * translation into library Credentials.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Credentials } from '../operations/credentials.js';
import { describeFsError } from '../util/atomic-file.js';
import { IOError, UsageError } from '../errors.js';
import { canPrompt, promptHidden } from './prompt.js';
import { biosealHomePath } from '../home.js';
import { faceInputFromFiles } from './face-input.js';
import { cliInteraction } from './interaction.js';

export const UNLOCK_OPTIONS = {
  'passphrase-file': { type: 'string' },
  'key-file': { type: 'string', multiple: true },
  face: { type: 'string', multiple: true },
  'pin-file': { type: 'string' },
  tcti: { type: 'string' },
} as const;

export const UNLOCK_HELP = `Unlock options:
  --passphrase-file F   read the recovery passphrase from F (first line)
                        (or set BIOSEAL_PASSPHRASE, or type it when asked on a terminal)
  --key-file F          a key file made by 'bioseal keygen --key-file' (repeatable)
  --face IMAGE...       face image(s) for a face slot (repeat --face for each image)
  --pin-file F          read the PIN of a PKCS#11 token or FIDO2 key from F (first line)
                        (or set BIOSEAL_PIN, or type it when asked on a terminal)
  --tcti TCTI           the TPM for a tpm slot, as a tpm2-tools TCTI
                        (default: BIOSEAL_TPM_TCTI, then the TPM device)
Passkey slots print a page on localhost to open (and open it where a browser is at hand).`;

const MAX_PASSPHRASE_FILE = 64 * 1024;

/** Reads the first line of a passphrase file. */
export function readPassphraseFile(file: string): string {
  let st;
  try {
    st = statSync(file);
  } catch (error) {
    throw describeFsError(error, file);
  }
  if (st.isDirectory()) throw new IOError(`${file}: is a directory, not a passphrase file`);
  if (st.size > MAX_PASSPHRASE_FILE) throw new UsageError(`${file}: larger than ${MAX_PASSPHRASE_FILE} bytes; not a passphrase file`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw describeFsError(error, file);
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (line.length === 0) throw new UsageError(`${file}: the passphrase file is empty`);
  return line;
}

export interface PassphraseSourceOptions {
  readonly passphraseFile?: string;
  /** Ask twice on a terminal (when setting a new passphrase). */
  readonly confirm?: boolean;
  readonly prompt?: string;
}

/** A lazy PIN source: file, then BIOSEAL_PIN, then a terminal prompt. */
export function pinSource(pinFile: string | undefined): (() => Promise<string | undefined>) | undefined {
  if (pinFile) {
    const text = readPassphraseFile(pinFile);
    return async () => text;
  }
  const env = process.env.BIOSEAL_PIN;
  if (env !== undefined && env.length > 0) return async () => env;
  if (!canPrompt()) return undefined;
  return () => promptHidden('PIN: ');
}

/** A lazy passphrase source: file, then BIOSEAL_PASSPHRASE, then a terminal prompt. */
export function passphraseSource(o: PassphraseSourceOptions): (() => Promise<string | undefined>) | undefined {
  if (o.passphraseFile) {
    const text = readPassphraseFile(o.passphraseFile);
    return async () => text;
  }
  const env = process.env.BIOSEAL_PASSPHRASE;
  if (env !== undefined && env.length > 0) return async () => env;
  if (!canPrompt()) return undefined;
  return async () => {
    const first = await promptHidden(o.prompt ?? 'Passphrase: ');
    if (o.confirm) {
      const again = await promptHidden('Repeat passphrase: ');
      if (again !== first) throw new UsageError('the passphrases do not match');
    }
    return first;
  };
}

export interface UnlockValues {
  'passphrase-file'?: string;
  'key-file'?: string[];
  face?: string[];
  'pin-file'?: string;
  tcti?: string;
}

/**
 * `--enrolment FACTOR=NAME` choices (repeatable) as a factor-to-name map.
 * @throws UsageError for a malformed choice or a factor named twice.
 */
export function parseEnrolmentChoices(choices: readonly string[] | undefined): Record<string, string> | undefined {
  if (!choices || choices.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const c of choices) {
    const m = /^([a-z][a-z0-9]*)=([A-Za-z0-9][A-Za-z0-9._-]{0,63})$/.exec(c);
    if (!m) throw new UsageError(`--enrolment takes FACTOR=NAME, for example tpm=laptop (got "${c}")`);
    if (out[m[1]!] !== undefined) throw new UsageError(`--enrolment names the ${m[1]} enrolment twice`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

/** The device-factor credentials (PIN, TPM, interaction) from parsed options. */
export function deviceCredentialsFrom(values: UnlockValues): Pick<Credentials, 'pin' | 'tpmTcti' | 'interaction'> {
  return { pin: pinSource(values['pin-file']), tpmTcti: values.tcti, interaction: cliInteraction() };
}

/** Credentials from parsed unlock options. */
export function credentialsFrom(values: UnlockValues, confirm = false): Credentials {
  return {
    passphrase: passphraseSource({ passphraseFile: values['passphrase-file'], confirm }),
    keyFiles: values['key-file'] ?? [],
    face: faceInputFromFiles(values.face),
    home: biosealHomePath(),
    ...deviceCredentialsFrom(values),
  };
}
