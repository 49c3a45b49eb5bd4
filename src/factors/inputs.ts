import type { FaceAnalysis } from '../biometrics/face/embedder.js';

/**
 * What the user supplies to seal or unlock: the sources each factor may draw
 * on. Every field is optional; a factor whose input is missing simply cannot
 * take part, and the slot that needs it is skipped.
 */
export interface UnlockInputs {
  /**
   * Returns the passphrase as UTF-8 bytes (NFC), or undefined when there is
   * none to be had. Called only when a slot needs it, so a terminal prompt
   * appears only then; implementations should cache the answer.
   */
  readonly passphrase?: () => Promise<Uint8Array | undefined>;
  /** Contents of key files (32 bytes each). */
  readonly keyFiles?: readonly Uint8Array[];
  /** bioseal's state directory (identities, enrolments). */
  readonly home?: string;
  /**
   * Finds and unlocks the identity that owns a recipient public key, for
   * recipient slots. Absent, or returning undefined: no such identity here.
   */
  readonly identities?: IdentityResolver;
  /** Face images or camera frames presented for the face factor. */
  readonly face?: FaceInput;
  /**
   * Returns the PIN of a token or security key as UTF-8 bytes, or undefined
   * when there is none to be had. Asked only when a slot needs it; cached.
   */
  readonly pin?: () => Promise<Uint8Array | undefined>;
  /** The TPM to talk to, as a tpm2-tools TCTI string (default: BIOSEAL_TPM_TCTI, then the TPM device). */
  readonly tpmTcti?: string;
  /** How to tell the person what to do (touch a key, open a page). Absent: nothing is shown. */
  readonly interaction?: Interaction;
  /** When sealing: which enrolment each device factor uses, by factor name (default "default"). */
  readonly enrolments?: Readonly<Record<string, string>>;
  /**
   * Told why a biometric factor refused what was presented (a face that does
   * not match the enrolment, or failed the liveness check), for the audit
   * log. Not for the presenter: a failed unlock says only E_AUTH, so that
   * nobody learns which part of a forgery was caught.
   */
  readonly onRefusal?: (factor: string, reason: string) => void;
}

/** The enrolment a factor uses when making a new slot. */
export function enrolmentNameFor(inputs: UnlockInputs, factor: string): string {
  return inputs.enrolments?.[factor] ?? 'default';
}

/** The channel through which a factor asks the person for an action. */
export interface Interaction {
  /** Shows a short instruction ("touch your security key"). */
  notify(message: string): void;
  /** Sends the person to a page on this machine (prints it, and opens a browser where one is available). */
  openUrl(url: string): void;
}

/** A face presented for unlocking: analysed lazily, so the model loads only when a face slot is tried. */
export interface FaceInput {
  /** Enrolment to use when sealing (default "default"); unlocking finds the one a slot names. */
  readonly enrolment?: string;
  /** Analyses of the presented images, in order. Implementations cache the result. */
  capture(): Promise<readonly FaceAnalysis[]>;
}

/** Unlocks local X25519 identities by their public key. */
export interface IdentityResolver {
  /** Whether an identity for this public key exists (no unlock). */
  has(publicKey: Uint8Array): boolean;
  /** The identity's 32-byte X25519 secret key, unlocked through its own policy; undefined if absent. */
  secretKey(publicKey: Uint8Array): Promise<Uint8Array | undefined>;
}

/** Wraps a passphrase or PIN source so that it is asked at most once. */
export function cachedPassphrase(source: () => Promise<Uint8Array | undefined>): () => Promise<Uint8Array | undefined> {
  let asked: Promise<Uint8Array | undefined> | undefined;
  return () => (asked ??= source());
}

/** A passphrase as the bytes every factor uses: Unicode NFC, UTF-8. */
export function passphraseBytes(text: string): Uint8Array {
  return new TextEncoder().encode(text.normalize('NFC'));
}
