/**
 * The audit log: an append-only record of every unlock, lock, policy
 * decision, enrolment change and trust change, in SQLite, hashed into an RFC
 * 6962 Merkle tree with Ed25519-signed tree heads (docs/AUDIT.md).
 */
export { openAuditLog, AuditLog, MAX_BATCH } from './audit-log.js';
export type { OpenAuditLogOptions, InclusionProof, VerifyLogOptions } from './audit-log.js';
export { AUDIT_EVENT_TYPES, ENTRY_LIMITS, encodeEntry } from './entry.js';
export type { AuditEvent, AuditEntry } from './entry.js';
export { canonicalJson } from './canonical.js';
export type { JsonValue } from './canonical.js';
export { MerkleTree, leafHash, nodeHash, EMPTY_ROOT } from './merkle.js';
export { verifyInclusion, verifyConsistency } from './proofs.js';
export { signTreeHead, verifyTreeHead, treeHeadToJson, parseTreeHeadJson, keyIdOf, TREE_HEAD_FORMAT } from './tree-head.js';
export type { SignedTreeHead, TreeHeadJson } from './tree-head.js';
export { verifySnapshot } from './verify.js';
export type { AuditVerification, AuditFinding, AuditFindingKind } from './verify.js';
export { parseSince } from './since.js';
