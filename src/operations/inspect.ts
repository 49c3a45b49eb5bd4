/**
 * `inspectModel`: what a sealed file says about itself, without any secret.
 */
import { readSealedInfo, verifySealedSignature, type SignatureStatus } from '../container/open.js';
import { findFactor } from '../factors/registry.js';
import { encodePublisherKey } from '../keys/publisher.js';
import { toHex } from '../util/bytes.js';
import { BiosealError } from '../errors.js';

export interface SlotDescription {
  readonly index: number;
  /** The factors that must all be satisfied, e.g. ["keyfile", "recovery"]. */
  readonly factors: readonly string[];
  /** Non-secret parameters per factor (KDF costs, key ids, recipients). */
  readonly details: readonly Record<string, unknown>[];
}

export interface ModelDescription {
  readonly file: string;
  readonly formatVersion: number;
  readonly suite: string;
  readonly fileSize: number;
  readonly plaintextLength: number;
  readonly chunkSize: number;
  readonly chunkCount: number;
  readonly headerLength: number;
  readonly fileId: string;
  readonly slots: readonly SlotDescription[];
  readonly signature: { readonly status: SignatureStatus | 'not-checked'; readonly publisher?: string };
}

/**
 * Describes a sealed file. With `verifySignature` (default true) a signed
 * file's payload is hashed to check the publisher signature, which needs no secret.
 * @throws FormatError, TamperedError, IOError
 */
export async function inspectModel(file: string, options: { verifySignature?: boolean } = {}): Promise<ModelDescription> {
  const info = await readSealedInfo(file);
  const { header, layout } = info;
  const signature =
    header.signature === undefined
      ? { status: 'unsigned' as const }
      : options.verifySignature === false
        ? { status: 'not-checked' as const, publisher: encodePublisherKey(header.signature.publicKey) }
        : { status: (await verifySealedSignature(file)).status, publisher: encodePublisherKey(header.signature.publicKey) };
  return {
    file,
    formatVersion: header.version,
    suite: 'AES-256-GCM STREAM, HKDF-SHA256, HMAC-SHA256, Ed25519',
    fileSize: info.fileSize,
    plaintextLength: layout.plaintextLength,
    chunkSize: layout.chunkSize,
    chunkCount: layout.chunkCount,
    headerLength: info.headerLength,
    fileId: toHex(header.fileId),
    slots: header.slots.map((slot, index) => ({
      index,
      factors: slot.factors.map((f) => f.name),
      details: slot.factors.map((f) => {
        const factor = findFactor(f.name);
        if (!factor) return { note: 'factor unknown to this version of bioseal' };
        try {
          return factor.describe(f.params);
        } catch (error) {
          return { error: error instanceof BiosealError ? error.message : 'malformed parameters' };
        }
      }),
    })),
    signature,
  };
}
