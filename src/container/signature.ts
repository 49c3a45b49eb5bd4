/**
 * Publisher signatures (docs/FORMAT.md §5). A publisher signs, with Ed25519
 * (RFC 8032), the header core (which holds the key commitment) and a digest
 * of the sealed payload. Slots are not signed: the receiver adds and removes
 * its own. Because the core commits to the data key and the digest covers
 * every ciphertext byte, a signature cannot be moved to other content, and
 * not even a holder of the data key can change the model without breaking it.
 */
import { createHash } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { ByteWriter, concatBytes, utf8 } from '../util/bytes.js';
import { encodeCore, type HeaderCore, type SignatureBlock } from './format.js';

const LABEL_DIGEST = utf8('bioseal/v1 payload digest\0');
const LABEL_SIGNATURE = utf8('bioseal/v1 publisher signature\0');

/** §5.1: SHA-256 over the per-chunk SHA-256 hashes of the sealed chunks (a hash list, so threads can share the work). */
export function payloadDigest(chunkHashes: Uint8Array): Uint8Array {
  const count = chunkHashes.length / 32;
  const h = createHash('sha256').update(LABEL_DIGEST).update(new ByteWriter(8).u64(BigInt(count)).finish());
  h.update(chunkHashes);
  return new Uint8Array(h.digest());
}

function signedMessage(core: HeaderCore, digest: Uint8Array): Uint8Array {
  return concatBytes(LABEL_SIGNATURE, encodeCore(core), digest);
}

/** The public key of a 32-byte Ed25519 secret key. */
export function publisherPublicKey(secretKey: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(secretKey);
}

/** §5.2: signs a header core and payload digest. */
export function signPayload(core: HeaderCore, digest: Uint8Array, secretKey: Uint8Array): SignatureBlock {
  return {
    publicKey: ed25519.getPublicKey(secretKey),
    payloadDigest: digest,
    signature: ed25519.sign(signedMessage(core, digest), secretKey),
  };
}

/** Verifies a signature block against the core and a freshly computed digest (RFC 8032 strict, not ZIP-215). */
export function verifyPayloadSignature(core: HeaderCore, block: SignatureBlock, computedDigest: Uint8Array): boolean {
  if (!Buffer.from(block.payloadDigest).equals(Buffer.from(computedDigest))) return false;
  try {
    return ed25519.verify(block.signature, signedMessage(core, computedDigest), block.publicKey, { zip215: false });
  } catch {
    return false;
  }
}
