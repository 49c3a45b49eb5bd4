/**
 * Signed model updates with rollback protection (docs/UPDATES.md): a
 * publisher signs a manifest for each sealed model release; a device installs
 * only releases signed by a trusted key (directly or through rotation
 * statements), newer than what it has, unexpired, whose bytes match.
 */
export { signUpdate, DEFAULT_VALIDITY_DAYS } from './sign.js';
export type { SignUpdateOptions } from './sign.js';
export { applyUpdate, MAX_CLOCK_SKEW_MS } from './apply.js';
export type { ApplyUpdateOptions, ApplyUpdateResult } from './apply.js';
export { listInstalledModels } from './list.js';
export type { InstalledModelEntry } from './list.js';
export { readManifestFile, writeManifestFile, signManifest, verifyManifestSignature, parseManifest, manifestHash, MANIFEST_FORMAT } from './manifest.js';
export type { UpdateManifest, ManifestBody, ManifestFile } from './manifest.js';
export { createRotation, readRotationFile, writeRotationFile, verifyRotation, ROTATION_FORMAT } from './rotation.js';
export type { RotationStatement } from './rotation.js';
export { resolveSigner, MAX_CHAIN_LENGTH } from './trust-chain.js';
export type { TrustDecision } from './trust-chain.js';
export { readTrustStore, addTrustedPublisher, removeTrustedPublisher } from './trust-store.js';
export { readInstalledState } from './state.js';
export type { InstalledModel, InstalledState } from './state.js';
export { canonicalJson } from './canonical.js';
export { parseExpiry } from './time.js';
