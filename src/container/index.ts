/**
 * The sealed container (`.bseal`): format, key slots, sealing, opening into
 * memory, checking, and slot changes. It knows factors only as names with
 * opaque parameters; secrets come through a SlotSecretProvider.
 */
export { sealFile } from './seal.js';
export type { SealFileOptions, SealResult, SlotMaterial } from './seal.js';
export {
  openSealedFile,
  checkSealedFile,
  readSealedInfo,
  verifySealedSignature,
  unlockHeader,
  describeSlots,
  MAX_IN_MEMORY_LENGTH,
} from './open.js';
export type { SlotSecretProvider, OpenOptions, OpenedPayload, CheckResult, SealedFileInfo, SignatureStatus, UnlockedKey } from './open.js';
export { changeSlots } from './slots.js';
export type { ChangeSlotsOptions, ChangeSlotsResult } from './slots.js';
export { parseHeader, MAGIC, FORMAT_VERSION, DEFAULT_CHUNK_LOG2, MAX_SLOTS } from './format.js';
export type { Header, KeySlot, SlotFactor, SignatureBlock } from './format.js';
export { publisherPublicKey } from './signature.js';
export { aeadBackend } from './aead.js';
export { closeWorkerPool } from './parallel.js';
