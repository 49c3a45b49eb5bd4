/**
 * The rule a device's reported audit heads must follow, one after another:
 * a device's log only ever grows, so every head it reports must extend the
 * last one the service recorded. The same rule in both stores, applied inside
 * the transaction that records the head.
 *
 *   - signed by the same log key (a new key would let a rewritten log be re-signed);
 *   - never smaller (a smaller tree is a truncated log);
 *   - at the same size, the same root (else the log was rewritten);
 *   - larger: an RFC 9162 §2.1.4 consistency proof from the last head to
 *     this one must verify (else the old entries were changed).
 *
 * The head's own signature is checked before (src/audit `parseTreeHeadJson`).
 */
import { verifyConsistency } from '../../audit/proofs.js';
import { TamperedError } from '../../errors.js';
import { constantTimeEqual } from '../../util/bytes.js';
import type { HeadOutcome, NewAuditHead } from './fleet-store.js';

/** The last recorded head, as far as the rule needs it. */
type PreviousHead = Pick<NewAuditHead, 'size' | 'root' | 'keyId'>;

/**
 * Decides whether `next` may follow `previous` (none: the device's first head).
 * @returns 'recorded' to store it, 'unchanged' when it is the same tree again.
 * @throws TamperedError when it contradicts the last head.
 */
export function checkHeadSuccession(previous: PreviousHead | undefined, next: NewAuditHead, consistencyProof: readonly Uint8Array[]): HeadOutcome {
  if (previous === undefined) return 'recorded';
  const device = `device ${next.deviceId}`;
  if (!constantTimeEqual(previous.keyId, next.keyId)) {
    throw new TamperedError(`${device}: the audit head is signed by another log key than the heads before it`);
  }
  if (next.size < previous.size) {
    throw new TamperedError(`${device}: the audit log shrank from ${previous.size} to ${next.size} entries (truncated or rolled back)`);
  }
  if (next.size === previous.size) {
    if (!constantTimeEqual(previous.root, next.root)) throw new TamperedError(`${device}: a different audit log root at the same size ${next.size} (the log was rewritten)`);
    return 'unchanged';
  }
  if (!verifyConsistency(previous.size, next.size, previous.root, next.root, consistencyProof)) {
    throw new TamperedError(`${device}: the audit head of ${next.size} entries does not extend the last one of ${previous.size} (consistency proof missing or wrong)`);
  }
  return 'recorded';
}
