/**
 * The factor interface: how a live check (a passphrase typed, a key file
 * present, later a face seen, a passkey touched, a TPM unsealing) becomes a
 * secret for a key slot. A factor stores whatever it needs to reproduce its
 * secret as opaque parameters in the slot; the container never looks inside.
 *
 * Adding a factor means writing one module that implements `Factor` and
 * listing it in registry.ts; the container does not change.
 */
import type { UnlockInputs } from './inputs.js';

/** What a factor contributes to a new slot. */
export interface FactorShare {
  /** Stored in the slot, in the clear: must reveal nothing about the secret. */
  readonly params: Uint8Array;
  /** The factor's secret for this slot (wiped by the caller after use). */
  readonly secret: Uint8Array;
}

export interface Factor {
  /** The name used in policy expressions and stored in slots, e.g. `recovery`. */
  readonly name: string;
  /** One line for help texts. */
  readonly summary: string;
  /**
   * Relative cost of producing the secret (lower is tried first): a key file
   * is cheap, a passphrase costs an Argon2id run, a biometric a human action.
   */
  readonly cost: number;
  /**
   * Whether this factor may stand alone in a policy branch. False for factors
   * that are too weak on their own (a face), following NIST SP 800-63B.
   */
  readonly standalone: boolean;
  /**
   * Makes the share for a new slot from the user's inputs.
   * @throws UsageError when the inputs lack what the factor needs.
   */
  createShare(inputs: UnlockInputs): Promise<FactorShare>;
  /**
   * Reproduces the secret from a slot's parameters, or returns undefined when
   * the inputs cannot (no passphrase given, no matching key file). A wrong
   * secret is not detected here: the slot simply fails to open.
   * @throws FormatError when the parameters are malformed or exceed caps.
   */
  deriveSecret(params: Uint8Array, inputs: UnlockInputs): Promise<Uint8Array | undefined>;
  /** A description of the parameters for `inspect` (nothing secret). */
  describe(params: Uint8Array): Record<string, unknown>;
}
