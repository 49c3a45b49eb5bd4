/**
 * `recipient`: a slot sealed to an X25519 public key (an identity made by
 * `bioseal keygen --identity`), so a model can be sealed for a person or a
 * device without any of their factors at hand. Modelled on age's X25519
 * recipient stanza: an ephemeral key pair per slot, and the shared secret
 * X25519(ephemeral, recipient) as the factor secret; both public keys are
 * bound into the slot KEK through the slot's parameters.
 *
 * Parameters (64 bytes): recipient public key (32) | ephemeral public key (32).
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { concatBytes, wipe } from '../util/bytes.js';
import { BiosealError, FormatError, UsageError } from '../errors.js';
import { encodeKey, decodeKey } from '../keys/encoding.js';
import type { Factor, FactorShare } from './factor.js';

export const RECIPIENT_PREFIX = 'bioseal1';

/** Encodes an identity's public key as a recipient string `bioseal1...`. */
export function encodeRecipient(publicKey: Uint8Array): string {
  return encodeKey(RECIPIENT_PREFIX, publicKey);
}

/** @throws FormatError when the text is not a valid recipient. */
export function decodeRecipient(text: string): Uint8Array {
  return decodeKey(RECIPIENT_PREFIX, text, 32, 'recipient (bioseal1...)');
}

function split(params: Uint8Array): { recipient: Uint8Array; ephemeral: Uint8Array } {
  if (params.length !== 64) throw new FormatError('recipient parameters must be 64 bytes');
  return { recipient: params.subarray(0, 32), ephemeral: params.subarray(32, 64) };
}

function sharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  // noble rejects low-order points (an all-zero shared secret), as RFC 7748 §6.1 advises.
  return x25519.getSharedSecret(secretKey, publicKey);
}

/** A new slot share for a recipient public key. */
export function recipientShare(recipientPublicKey: Uint8Array): FactorShare {
  const ephemeral = x25519.utils.randomSecretKey();
  try {
    const ephemeralPublic = x25519.getPublicKey(ephemeral);
    let secret: Uint8Array;
    try {
      secret = sharedSecret(ephemeral, recipientPublicKey);
    } catch (error) {
      throw new FormatError('the recipient public key is not a usable X25519 key', { cause: error });
    }
    return { params: concatBytes(recipientPublicKey, ephemeralPublic), secret };
  } finally {
    wipe(ephemeral);
  }
}

export const recipientFactor: Factor = {
  name: 'recipient',
  summary: 'an X25519 identity (bioseal keygen --identity), sealed to with --recipient',
  cost: 50,
  standalone: true,
  async createShare() {
    throw new UsageError('recipient slots are added with --recipient bioseal1..., not in a policy expression');
  },
  async deriveSecret(params, inputs) {
    const { recipient, ephemeral } = split(params);
    if (!inputs.identities?.has(recipient)) return undefined;
    let secretKey: Uint8Array | undefined;
    try {
      secretKey = await inputs.identities.secretKey(recipient);
    } catch (error) {
      // An identity that cannot be unlocked makes this slot unusable; other slots may still open.
      if (error instanceof BiosealError && error.code === 'E_AUTH') return undefined;
      throw error;
    }
    if (!secretKey) return undefined;
    try {
      return sharedSecret(secretKey, ephemeral);
    } catch {
      return undefined;
    } finally {
      wipe(secretKey);
    }
  },
  describe(params) {
    return { recipient: encodeRecipient(split(params).recipient) };
  },
};
