/**
 * Encrypted template matching (CKKS, Microsoft SEAL through node-seal): a
 * service matches face embeddings it holds only in encrypted form, and only
 * the key holder (the device, or a party the deployment names) can read a
 * score. See docs/HE.md.
 *
 * @example
 * const ctx = await HeContext.create();
 * const device = HeKeyHolder.generate(ctx);                       // on the device
 * const keys = readEvaluationKeys(ctx, device.evaluationKeys());  // on the service
 * const matcher = new HeMatcher(keys);
 * const template = readEncrypted(ctx, device.encryptMatchVector(enrolled), HeKind.matchVector);
 * const probe = readEncrypted(ctx, device.encryptMatchVector(fresh), HeKind.matchVector);
 * const score = device.decryptMatchScore(matcher.match(probe, template).toBytesAndDispose());
 */
export { HE_PARAMETERS, HeContext } from './parameters.js';
export type { HeParameters, HeLevel } from './parameters.js';
export { HeKind, MAX_ENVELOPE_BYTES } from './envelope.js';
export { HeKeyHolder } from './key-holder.js';
export type { KeyHolderOptions } from './key-holder.js';
export { EvaluationKeys, readEvaluationKeys } from './evaluation-keys.js';
export { Encrypted, readEncrypted } from './encrypted.js';
export { HeEnroller, chunkTemplates } from './enroller.js';
export { HeMatcher } from './matcher.js';
export type { EncryptedMatchVector, EncryptedSearchQuery, EncryptedGalleryGroup, EncryptedMatchScore, EncryptedSearchScores } from './matcher.js';
export { DEFAULT_SEARCH_CHUNK, searchLayout } from './search-layout.js';
export type { SearchLayout } from './search-layout.js';
export { MAX_DIMENSIONS, unitVector, innerProduct } from './embedding.js';
