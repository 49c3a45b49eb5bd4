/**
 * What a library caller or the CLI supplies to unlock or seal, turned into
 * the UnlockInputs that factors draw on.
 */
import { biosealHomePath } from '../home.js';
import { cachedPassphrase, passphraseBytes, type FaceInput, type Interaction, type UnlockInputs } from '../factors/inputs.js';
import { identityResolver } from '../identity/store.js';
import { readKeyFile } from '../keys/keyfile.js';

export type PassphraseInput = string | Uint8Array | (() => Promise<string | Uint8Array | undefined>);

export interface Credentials {
  /** The recovery passphrase, or a function asked only when a slot needs it. */
  readonly passphrase?: PassphraseInput;
  /** Key files, as paths or as their 32 bytes. */
  readonly keyFiles?: readonly (string | Uint8Array)[];
  /** bioseal's state directory; default `$BIOSEAL_HOME` or `~/.bioseal`. */
  readonly home?: string;
  /** Try local identities for recipient slots. Default true. */
  readonly useIdentities?: boolean;
  /** A face presented for face slots. */
  readonly face?: FaceInput;
  /** The PIN of a token or security key, or a function asked only when a slot needs it. */
  readonly pin?: PassphraseInput;
  /** The TPM's TCTI (default: BIOSEAL_TPM_TCTI, then the TPM device). */
  readonly tpmTcti?: string;
  /** How device factors ask the person for an action. */
  readonly interaction?: Interaction;
  /** When sealing: which enrolment each device factor uses, by factor name (default "default"). */
  readonly enrolments?: Readonly<Record<string, string>>;
  /** Told why a biometric factor refused what was presented, for an audit log (UnlockInputs.onRefusal). */
  readonly onRefusal?: (factor: string, reason: string) => void;
}

function toBytes(p: string | Uint8Array | undefined): Uint8Array | undefined {
  if (p === undefined) return undefined;
  return typeof p === 'string' ? passphraseBytes(p) : new Uint8Array(p); // a copy, also for a Buffer
}

function lazyBytes(source: PassphraseInput | undefined): (() => Promise<Uint8Array | undefined>) | undefined {
  if (source === undefined) return undefined;
  return cachedPassphrase(async () => toBytes(typeof source === 'function' ? await source() : source));
}

/** Builds the factor inputs for a set of credentials (key files are read now, the passphrase lazily). */
export function inputsFromCredentials(c: Credentials = {}): UnlockInputs {
  const home = c.home ?? biosealHomePath();
  const keyFiles = (c.keyFiles ?? []).map((k) => (typeof k === 'string' ? readKeyFile(k) : k));
  const base: UnlockInputs = {
    passphrase: lazyBytes(c.passphrase),
    keyFiles,
    home,
    face: c.face,
    pin: lazyBytes(c.pin),
    tpmTcti: c.tpmTcti,
    interaction: c.interaction,
    enrolments: c.enrolments,
    onRefusal: c.onRefusal,
  };
  return c.useIdentities === false ? base : { ...base, identities: identityResolver(home, base) };
}
