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

/** Wraps a passphrase source so that it is asked at most once. */
export function cachedPassphrase(source: () => Promise<Uint8Array | undefined>): () => Promise<Uint8Array | undefined> {
  let asked: Promise<Uint8Array | undefined> | undefined;
  return () => (asked ??= source());
}

/** A passphrase as the bytes every factor uses: Unicode NFC, UTF-8. */
export function passphraseBytes(text: string): Uint8Array {
  return new TextEncoder().encode(text.normalize('NFC'));
}
