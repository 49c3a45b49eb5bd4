/**
 * `signUpdate`: the publisher's side. Hashes a sealed file, describes it in
 * a manifest (name, version, size, SHA-256, policy, validity) and signs the
 * manifest with the publisher key.
 */
import path from 'node:path';
import { readSealedInfo, describeSlots } from '../container/open.js';
import { publisherPublicKey } from '../container/signature.js';
import { constantTimeEqual } from '../util/bytes.js';
import { digestFile } from './digest.js';
import { signManifest, writeManifestFile, type UpdateManifest } from './manifest.js';
import { verifyRotation, type RotationStatement } from './rotation.js';
import { SignatureError, UsageError } from '../errors.js';

/** How long a manifest is valid when no expiry is given. */
export const DEFAULT_VALIDITY_DAYS = 90;

export interface SignUpdateOptions {
  /** The sealed model (`.bseal`) the update ships. */
  readonly model: string;
  readonly name: string;
  /** The release number: each update of a name must have a larger one. */
  readonly version: number;
  /** The publisher's Ed25519 secret key (32 bytes). */
  readonly secretKey: Uint8Array;
  /** Where to write the manifest. */
  readonly output: string;
  /** Default now. */
  readonly issuedAt?: Date;
  /** Default issuedAt + DEFAULT_VALIDITY_DAYS. */
  readonly expiresAt?: Date;
  /** Rotation statements to ship, linking an older publisher key to this one. */
  readonly rotations?: readonly RotationStatement[];
  /** Replace an existing manifest file. Default false. */
  readonly overwrite?: boolean;
}

/**
 * Signs an update manifest for a sealed model and writes it atomically.
 * @example await signUpdate({ model: 'm.bseal', name: 'm', version: 2, secretKey, output: 'm.manifest.json' })
 * @throws FormatError (not a sealed file, a field out of range), SignatureError (a rotation
 *   that does not verify), UsageError, ExistsError, IOError
 */
export async function signUpdate(options: SignUpdateOptions): Promise<UpdateManifest> {
  if (path.resolve(options.output) === path.resolve(options.model)) throw new UsageError('the manifest cannot be written over the model');
  const info = await readSealedInfo(options.model);
  const rotations = options.rotations ?? [];
  const signer = publisherPublicKey(options.secretKey);
  for (const r of rotations) if (!verifyRotation(r)) throw new SignatureError('a rotation statement to ship does not verify');
  if (rotations.length > 0 && !rotations.some((r) => constantTimeEqual(r.to, signer))) {
    throw new UsageError('none of the rotation statements names the signing key as the new key');
  }
  const file = await digestFile(options.model);
  const issuedAt = new Date(Math.floor((options.issuedAt ?? new Date()).getTime() / 1000) * 1000);
  const expiresAt = options.expiresAt ?? new Date(issuedAt.getTime() + DEFAULT_VALIDITY_DAYS * 86_400_000);
  const manifest = signManifest(
    {
      name: options.name,
      version: options.version,
      file: { name: path.basename(options.model), size: file.size, sha256: file.sha256 },
      policy: describeSlots(info.header.slots),
      issuedAt,
      expiresAt,
    },
    options.secretKey,
    rotations,
  );
  await writeManifestFile(options.output, manifest, { overwrite: options.overwrite });
  return manifest;
}
