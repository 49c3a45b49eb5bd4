/**
 * bioseal: lock local AI models to the person who owns them.
 *
 * The package entry point lists what the library offers; everything here is
 * also what the `bioseal` command uses.
 */
export { sealModel, policyBranches, openModel, checkModel, createSealedSession, inspectModel, addSlots, removeSlots } from './operations/index.js';
export type {
  SealModelOptions,
  OpenModelOptions,
  SealedSession,
  ModelDescription,
  SlotDescription,
  AddSlotsOptions,
  Credentials,
  PassphraseInput,
} from './operations/index.js';
export { sealFile, openSealedFile, checkSealedFile, readSealedInfo, verifySealedSignature, changeSlots, parseHeader, aeadBackend, closeWorkerPool } from './container/index.js';
export type { SlotSecretProvider, OpenedPayload, CheckResult, SealResult, SlotMaterial, Header, KeySlot, SlotFactor } from './container/index.js';
export { parsePolicy, formatPolicy } from './policy/index.js';
export type { PolicyBranch } from './policy/index.js';
export type { Factor, FactorShare } from './factors/factor.js';
export type { UnlockInputs, IdentityResolver } from './factors/inputs.js';
export { listFactors, findFactor, factorProvider } from './factors/registry.js';
export { encodeRecipient, decodeRecipient } from './factors/recipient.js';
export { createIdentity, listIdentities } from './identity/store.js';
export { generateKeyFile, readKeyFile } from './keys/keyfile.js';
export { generatePublisherKey, parsePublisherKey, encodePublisherKey } from './keys/publisher.js';
export { createSessionFromMemory, tensorsFromJson, tensorsToJson, runModel } from './onnx/session.js';
export { buildDemoModel, buildLargeModel } from './onnx/model-builder.js';
export { biosealHomePath, ensureBiosealHome } from './home.js';
export {
  BiosealError,
  AuthError,
  TamperedError,
  FormatError,
  PolicyError,
  SignatureError,
  IOError,
  UsageError,
  ExistsError,
  RateLimitError,
  ModelError,
  DeviceError,
  RollbackError,
  ExpiredError,
  DigestError,
} from './errors.js';
export type { DeviceFailure } from './errors.js';

// Signed model updates and the audit log. The daemon (src/daemon), trust
// (src/trust), Cedar policy (src/policy/cedar), encrypted matching (src/he)
// and the fleet service (src/fleet) are imported from their own modules: each
// loads a large runtime (Cedar's and SEAL's WebAssembly) that most users of
// the container never need.
export { signUpdate, applyUpdate, listInstalledModels } from './updates/index.js';
export type { SignUpdateOptions, ApplyUpdateOptions, ApplyUpdateResult, InstalledModelEntry } from './updates/index.js';
export { openAuditLog } from './audit/index.js';
export type { AuditEvent, AuditEntry, AuditVerification } from './audit/index.js';

// The face factor: engine, enrolment and verification, templates, liveness, evaluation.
export { HumanEmbedder, FaceApiEmbedder, OnnxFaceRecognizer, readImageFile, decodeImage, checkFaceQuality } from './biometrics/face/index.js';
export type { FaceEmbedder, FaceAnalysis, FaceRecognizer, DecodedImage } from './biometrics/face/index.js';
export { ImageError, FaceNotFoundError, MultipleFacesError, FaceQualityError } from './biometrics/face/index.js';
export { enrolFace, verifyFace, EnrolmentError, FACE_TEMPLATE_PARAMS } from './enrolment/face.js';
export type { EnrolFaceOptions, EnrolFaceResult, FaceVerification } from './enrolment/face.js';
export { loadFaceEnrolment, listFaceEnrolments, removeFaceEnrolment } from './enrolment/face-record.js';
export type { FaceEnrolment } from './enrolment/face-record.js';
export { verifyChallenge, drawChallenge } from './biometrics/liveness/challenge.js';
export type { Challenge, ChallengeResult } from './biometrics/liveness/challenge.js';
export { checkPassiveLiveness } from './biometrics/liveness/passive.js';
export { AttemptLimiter } from './factors/rate-limit.js';
export type { FaceInput } from './factors/inputs.js';
