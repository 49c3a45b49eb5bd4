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

export const UNLOCK_OPTIONS = {
  'passphrase-file': { type: 'string' },
  'key-file': { type: 'string', multiple: true },
  face: { type: 'string', multiple: true },
} as const;

export const UNLOCK_HELP = `Unlock options:
  --passphrase-file F   read the recovery passphrase from F (first line)
                        (or set BIOSEAL_PASSPHRASE, or type it when asked on a terminal)
  --key-file F          a key file made by 'bioseal keygen --key-file' (repeatable)
  --face IMAGE...       face image(s) for a face slot (repeat --face for each image)`;

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

/** Credentials from parsed unlock options. */
export function credentialsFrom(values: { 'passphrase-file'?: string; 'key-file'?: string[]; face?: string[] }, confirm = false): Credentials {
  return {
    passphrase: passphraseSource({ passphraseFile: values['passphrase-file'], confirm }),
    keyFiles: values['key-file'] ?? [],
    face: faceInputFromFiles(values.face),
    home: biosealHomePath(),
  };
}
