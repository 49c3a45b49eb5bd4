/**
 * Verifying an audit log from what its database holds, trusting nothing in
 * it but the log's public key and the Ed25519 signatures it checks.
 *
 * 1. Every head's signature is checked under the log key (and the key file,
 *    when given, must hold that key).
 * 2. The leaf hashes recorded with the heads are joined in order; a gap means
 *    a head was deleted. The Merkle root of that record and the root of the
 *    entries as they are now (each leaf recomputed from its columns) are
 *    compared with every validly signed head at its size, and consecutive
 *    heads are checked for consistency with RFC 6962 consistency proofs.
 * 3. The longest prefix that a signed root vouches for gives the signed leaf
 *    of each position. Each entry is compared with it, and every difference
 *    is named by position: edited (content that was never signed, where the
 *    signed entry is gone), deleted (a signed entry found nowhere), inserted
 *    (an entry that was never signed, pushing signed ones along, or one past
 *    the last signed head), reordered (a signed entry at another position).
 * 4. A head saved outside the log (a witness) must be covered by the log,
 *    match it at its size and be signed by the same key: that catches
 *    truncation and re-signing, which the log alone cannot show.
 */
import { constantTimeEqual, toHex } from '../util/bytes.js';
import { HASH_LENGTH, MerkleTree } from './merkle.js';
import { verifyConsistency } from './proofs.js';
import { keyIdOf, verifyTreeHead, type SignedTreeHead } from './tree-head.js';
import type { HeadRow } from './store.js';

/** What kind of change a finding reports. */
export type AuditFindingKind =
  /** An entry's content differs from what was signed at its position. */
  | 'edited'
  /** A signed entry is no longer in the log. */
  | 'deleted'
  /** An entry that was never signed (in the middle, or past the last signed head). */
  | 'inserted'
  /** Signed entries stand at other positions than the ones they were signed at. */
  | 'reordered'
  /** A head whose signature does not verify under the log key. */
  | 'head-forged'
  /** A head whose stored fields were changed. */
  | 'head-altered'
  /** Heads that were deleted (a gap in the recorded leaves, or no head at all). */
  | 'head-deleted'
  /** The log key is not the one the log was made with, or the one a saved head names. */
  | 'key-replaced'
  /** The log is shorter than a head saved elsewhere. */
  | 'truncated'
  /** The log does not match a head saved elsewhere at its size. */
  | 'rewritten';

/** One problem verify found. */
export interface AuditFinding {
  readonly kind: AuditFindingKind;
  /** The first entry position concerned, when the finding is about entries. */
  readonly seq?: number;
  /** The last entry position concerned, for a range. */
  readonly lastSeq?: number;
  /** The size of the head concerned, when the finding is about a head. */
  readonly headSize?: number;
  /** What happened, in words, naming the positions. */
  readonly message: string;
}

/** The outcome of verifying a log. */
export interface AuditVerification {
  /** True only when nothing was found. */
  readonly ok: boolean;
  /** Entries in the database. */
  readonly entries: number;
  /** Heads in the database. */
  readonly heads: number;
  /** Entries that a validly signed head covers (the last such head's size). */
  readonly signedSize: number;
  /** Entries whose content a valid signature vouches for, from position 0. */
  readonly verifiedSize: number;
  /** The newest validly signed head. */
  readonly latest?: SignedTreeHead;
  /** Every problem, ordered by position. */
  readonly findings: readonly AuditFinding[];
  /** What could not be checked, and why (not problems with the log). */
  readonly notes: readonly string[];
}

/** What verify reads from the database, in one snapshot. */
export interface LogSnapshot {
  /** The public key recorded in the log when it was created. */
  readonly publicKey: Uint8Array | undefined;
  /** Entry position → recomputed leaf hash (undefined: the row cannot be read). */
  readonly entries: ReadonlyMap<number, Uint8Array | undefined>;
  /** The heads rows, raw. */
  readonly heads: readonly HeadRow[];
}

export interface VerifySnapshotOptions {
  /** The public key of the key file, to check it is the log's. */
  readonly keyFilePublicKey?: Uint8Array;
  /** A head kept outside the log, with the key that signed it. */
  readonly witness?: { readonly head: SignedTreeHead; readonly publicKey: Uint8Array };
}

/** The leaf hashes a head added to the log: positions size - leaves/32 .. size - 1. */
interface LeafRecord {
  readonly size: number;
  readonly leaves: Uint8Array;
}

/** A placeholder leaf for a position with no readable entry: it matches no root. */
const MISSING = new Uint8Array(HASH_LENGTH);

const equal = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean => a !== undefined && b !== undefined && constantTimeEqual(a, b);
const shortId = (id: Uint8Array): string => toHex(id).slice(0, 16);
const range = (a: number, b: number): string => (a === b ? `entry ${a}` : `entries ${a}–${b}`);

function bytesOf(value: unknown, length?: number): Uint8Array | undefined {
  if (!(value instanceof Uint8Array)) return undefined;
  if (length !== undefined && value.length !== length) return undefined;
  return new Uint8Array(value);
}

/** The size and leaf record of a heads row, when those two columns are readable. */
function parseRecord(row: HeadRow): LeafRecord | undefined {
  const { size } = row;
  const leaves = bytesOf(row.leaves);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return undefined;
  if (!leaves || leaves.length % HASH_LENGTH !== 0 || leaves.length / HASH_LENGTH > size) return undefined;
  return { size, leaves };
}

/** The signed head of a heads row, when every column is well-formed. */
function parseHead(row: HeadRow, record: LeafRecord | undefined): SignedTreeHead | undefined {
  const root = bytesOf(row.root, HASH_LENGTH);
  const keyId = bytesOf(row.key_id, 32);
  const signature = bytesOf(row.signature, 64);
  const { timestamp } = row;
  if (!record || !root || !keyId || !signature || typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) return undefined;
  return { size: record.size, root, timestamp, keyId, signature };
}

/**
 * Verifies a snapshot of a log (see the file comment).
 * @example
 * const report = verifySnapshot(snapshot, { keyFilePublicKey });
 * if (!report.ok) for (const f of report.findings) console.log(f.message);
 */
export function verifySnapshot(snapshot: LogSnapshot, options: VerifySnapshotOptions = {}): AuditVerification {
  const findings: AuditFinding[] = [];
  const notes: string[] = [];
  const logKey = snapshot.publicKey;
  const keyId = logKey && keyIdOf(logKey);

  // 1. Keys and head signatures.
  if (!logKey || !keyId) {
    findings.push({ kind: 'key-replaced', message: 'the log does not record a valid public key, so no head can be checked' });
  } else if (options.keyFilePublicKey && !constantTimeEqual(options.keyFilePublicKey, logKey)) {
    findings.push({
      kind: 'key-replaced',
      message: `the log key file holds key ${shortId(keyIdOf(options.keyFilePublicKey))}, but the log was made with key ${shortId(keyId)}: the key was replaced`,
    });
  }
  const records: LeafRecord[] = [];
  const validHeads: SignedTreeHead[] = [];
  for (const row of snapshot.heads) {
    const record = parseRecord(row);
    if (record) records.push(record);
    const parsed = parseHead(row, record);
    if (!parsed) {
      const where = typeof row.size === 'number' ? ` of size ${row.size}` : '';
      findings.push({ kind: 'head-altered', ...(typeof row.size === 'number' ? { headSize: row.size } : {}), message: `the signed head${where} is malformed: its stored fields were changed` });
      continue;
    }
    if (logKey !== undefined && verifyTreeHead(parsed, logKey)) {
      validHeads.push(parsed);
    } else {
      findings.push({
        kind: 'head-forged',
        headSize: parsed.size,
        message:
          keyId && !constantTimeEqual(parsed.keyId, keyId)
            ? `the head of size ${parsed.size} claims key ${shortId(parsed.keyId)}, not the log key ${shortId(keyId)}: it was forged or re-signed`
            : `the signature on the head of size ${parsed.size} does not verify under the log key: the head was forged or altered`,
      });
    }
  }
  records.sort((a, b) => a.size - b.size);
  validHeads.sort((a, b) => a.size - b.size);
  if (snapshot.heads.length === 0) findings.push({ kind: 'head-deleted', message: 'the log has no signed head at all (every log starts with one): heads were deleted' });
  const signedSize = validHeads.at(-1)?.size ?? 0;

  // 2. The leaf record kept with the heads, and the leaves of the entries as they are.
  const recorded: (Uint8Array | undefined)[] = [];
  let recordedUntil = 0;
  let recordComplete = Infinity;
  for (const h of records) {
    const count = h.leaves.length / HASH_LENGTH;
    const start = h.size - count;
    if (start > recordedUntil) {
      findings.push({
        kind: 'head-deleted',
        seq: recordedUntil,
        ...(start - 1 !== recordedUntil ? { lastSeq: start - 1 } : {}),
        message: `no head records ${range(recordedUntil, start - 1)}: the head(s) that signed them were deleted`,
      });
      recordComplete = Math.min(recordComplete, recordedUntil);
    } else if (start < recordedUntil) {
      findings.push({ kind: 'head-altered', headSize: h.size, message: `the head of size ${h.size} records leaves that overlap the head before it: its stored fields were changed` });
    }
    for (let k = Math.max(0, recordedUntil - start); k < count; k++) recorded[start + k] = h.leaves.subarray(k * HASH_LENGTH, (k + 1) * HASH_LENGTH);
    recordedUntil = Math.max(recordedUntil, h.size);
  }
  recordComplete = Math.min(recordComplete, recordedUntil);

  const seqs = [...snapshot.entries.keys()].sort((a, b) => a - b);
  const lastSeq = seqs.length ? seqs[seqs.length - 1]! : -1;
  const leafAt = (i: number): Uint8Array | undefined => snapshot.entries.get(i);
  const recordTree = MerkleTree.fromLeafHashes(Array.from({ length: recordComplete }, (_, i) => recorded[i] ?? MISSING));
  const entryTree = MerkleTree.fromLeafHashes(Array.from({ length: Math.max(0, lastSeq + 1) }, (_, i) => leafAt(i) ?? MISSING));

  let recordVerified = 0;
  let entriesVerified = 0;
  let recordMismatchReported = false;
  for (const h of validHeads) {
    const recordOk = h.size <= recordTree.size && constantTimeEqual(recordTree.root(h.size), h.root);
    const entriesOk = h.size <= entryTree.size && constantTimeEqual(entryTree.root(h.size), h.root);
    if (recordOk) recordVerified = Math.max(recordVerified, h.size);
    if (entriesOk) entriesVerified = Math.max(entriesVerified, h.size);
    if (!recordOk && h.size <= recordTree.size && !recordMismatchReported) {
      recordMismatchReported = true;
      findings.push({
        kind: 'head-altered',
        headSize: h.size,
        message: `the leaf hashes stored with the heads no longer give the signed root of size ${h.size}: the heads table was edited`,
      });
    }
  }
  const useRecord = recordVerified >= entriesVerified;
  const verifiedSize = Math.max(recordVerified, entriesVerified);
  const reference = useRecord ? recordTree : entryTree;

  // Consecutive signed heads must extend one another (RFC 6962 §2.1.2 proofs, checked as RFC 9162 §2.1.4.2 says).
  for (let k = 1; k < validHeads.length; k++) {
    const [a, b] = [validHeads[k - 1]!, validHeads[k]!];
    if (b.size > verifiedSize) break;
    if (!verifyConsistency(a.size, b.size, a.root, b.root, reference.consistencyProof(a.size, b.size))) {
      findings.push({ kind: 'head-altered', headSize: b.size, message: `the head of size ${b.size} is not consistent with the head of size ${a.size}` });
    }
  }

  // 3. Entries against the signed leaves.
  findings.push(...compareEntries(snapshot.entries, seqs, useRecord ? recorded : undefined, verifiedSize, signedSize));
  const firstUnverified = validHeads.find((h) => h.size > verifiedSize);
  if (firstUnverified) {
    const missing: number[] = [];
    for (let i = verifiedSize; i < signedSize; i++) if (!snapshot.entries.has(i)) missing.push(i);
    for (const i of missing) findings.push({ kind: 'deleted', seq: i, message: `entry ${i} was deleted` });
    let unreadable = 0;
    for (let i = verifiedSize; i < firstUnverified.size; i++) {
      if (snapshot.entries.has(i) && leafAt(i) === undefined) {
        unreadable++;
        findings.push({ kind: 'edited', seq: i, message: `entry ${i} was edited: its stored fields can no longer be read` });
      }
    }
    if (missing.length === 0 && unreadable === 0) {
      const [a, b] = [verifiedSize, firstUnverified.size - 1];
      findings.push({
        kind: 'edited',
        seq: a,
        ...(a !== b ? { lastSeq: b } : {}),
        message: `${range(a, b)} ${a === b ? 'does' : 'do'} not match the signed head of size ${firstUnverified.size}: changed, inserted or reordered`,
      });
    }
  }

  // 4. A head saved elsewhere.
  if (options.witness) {
    const { head: w, publicKey: wKey } = options.witness;
    if (keyId && !constantTimeEqual(keyIdOf(wKey), keyId)) {
      findings.push({
        kind: 'key-replaced',
        headSize: w.size,
        message: `the saved head of size ${w.size} was signed by key ${shortId(keyIdOf(wKey))}, but the log is now signed by ${shortId(keyId)}: the log key was replaced and the log re-signed`,
      });
    }
    if (w.size > signedSize) {
      findings.push({
        kind: 'truncated',
        seq: signedSize,
        lastSeq: w.size - 1,
        message: `the saved head covers ${w.size} entries but the log has only ${signedSize} signed: ${range(signedSize, w.size - 1)} were removed`,
      });
    } else if (w.size <= verifiedSize) {
      const latest = validHeads.at(-1);
      const matches = constantTimeEqual(reference.root(w.size), w.root);
      const extends_ =
        !latest || latest.size > verifiedSize || verifyConsistency(w.size, latest.size, w.root, latest.root, reference.consistencyProof(w.size, latest.size));
      if (!matches || !extends_) {
        findings.push({ kind: 'rewritten', headSize: w.size, message: `the log does not match the saved head of size ${w.size}: its first ${w.size} entries were rewritten` });
      }
    } else {
      notes.push(`the saved head of size ${w.size} could not be compared: the log is not verified that far`);
    }
  }

  findings.sort((a, b) => (a.seq ?? a.headSize ?? -1) - (b.seq ?? b.headSize ?? -1));
  return {
    ok: findings.length === 0,
    entries: snapshot.entries.size,
    heads: snapshot.heads.length,
    signedSize,
    verifiedSize,
    ...(validHeads.length ? { latest: validHeads.at(-1)! } : {}),
    findings,
    notes,
  };
}

/**
 * Names each entry that differs from the signed leaf at its position.
 * `signed` holds the signed leaves (from the head record) for positions below
 * `verified`; when it is undefined, the entries themselves matched the signed
 * roots that far and only the unsigned tail remains to report.
 */
function compareEntries(
  entries: ReadonlyMap<number, Uint8Array | undefined>,
  seqs: readonly number[],
  signed: readonly (Uint8Array | undefined)[] | undefined,
  verified: number,
  signedSize: number,
): AuditFinding[] {
  const findings: AuditFinding[] = [];
  const unsigned = (i: number): AuditFinding => ({
    kind: 'inserted',
    seq: i,
    message: i < 0 ? `entry ${i} lies outside the log: it was inserted` : `entry ${i} is not covered by any signed head: it was inserted, or its head was deleted`,
  });
  if (!signed) {
    for (const i of seqs) if (i < 0 || i >= signedSize) findings.push(unsigned(i));
    return findings;
  }
  const positions = new Map<string, number[]>();
  for (let j = 0; j < verified; j++) {
    const key = toHex(signed[j]!);
    positions.set(key, [...(positions.get(key) ?? []), j]);
  }
  const present = new Set<string>();
  for (const leaf of entries.values()) if (leaf) present.add(toHex(leaf));
  const intact = (j: number): boolean => equal(entries.get(j), signed[j]);
  // Where a moved entry came from: a position whose own entry is not intact, if there is one.
  const origin = (leaf: Uint8Array | undefined, at: number): number | undefined => {
    const candidates = (leaf && positions.get(toHex(leaf))) || [];
    return candidates.find((j) => j !== at && !intact(j)) ?? candidates.find((j) => j !== at);
  };

  const moves: { at: number; from: number }[] = [];
  for (let i = 0; i < verified; i++) {
    if (intact(i)) continue;
    const signedHere = present.has(toHex(signed[i]!));
    if (!entries.has(i)) {
      if (!signedHere) findings.push({ kind: 'deleted', seq: i, message: `entry ${i} was deleted` });
      continue;
    }
    const from = origin(entries.get(i), i);
    if (from !== undefined) {
      moves.push({ at: i, from });
      if (!signedHere) findings.push({ kind: 'deleted', seq: i, message: `entry ${i} was deleted (later entries were moved up)` });
    } else if (!signedHere) {
      findings.push({ kind: 'edited', seq: i, message: `entry ${i} was edited: its content differs from what was signed` });
    } else {
      findings.push({ kind: 'inserted', seq: i, message: `entry ${i} was inserted: it was never signed, and the signed entry ${i} now stands elsewhere` });
    }
  }
  for (const i of seqs) {
    if (i >= 0 && i < verified) continue;
    const from = origin(entries.get(i), i);
    if (from !== undefined) moves.push({ at: i, from });
    else if (i < 0 || i >= signedSize) findings.push(unsigned(i));
  }
  findings.push(...describeMoves(moves));
  return findings;
}

/** Groups moved entries into swaps and runs moved by the same offset. */
function describeMoves(moves: readonly { at: number; from: number }[]): AuditFinding[] {
  const findings: AuditFinding[] = [];
  const fromOf = new Map(moves.map((m) => [m.at, m.from]));
  const done = new Set<number>();
  const sorted = [...moves].sort((a, b) => a.at - b.at);
  for (let k = 0; k < sorted.length; k++) {
    const m = sorted[k]!;
    if (done.has(m.at)) continue;
    if (fromOf.get(m.from) === m.at) {
      done.add(m.at).add(m.from);
      findings.push({ kind: 'reordered', seq: Math.min(m.at, m.from), lastSeq: Math.max(m.at, m.from), message: `entries ${Math.min(m.at, m.from)} and ${Math.max(m.at, m.from)} were swapped` });
      continue;
    }
    let end = k;
    while (end + 1 < sorted.length && sorted[end + 1]!.at === sorted[end]!.at + 1 && sorted[end + 1]!.from === sorted[end]!.from + 1 && !done.has(sorted[end + 1]!.at)) end++;
    const last = sorted[end]!;
    for (let x = k; x <= end; x++) done.add(sorted[x]!.at);
    const offset = m.at - m.from;
    findings.push({
      kind: 'reordered',
      seq: m.at,
      ...(last.at !== m.at ? { lastSeq: last.at } : {}),
      message:
        last.at === m.at
          ? `entry ${m.at} is the signed entry ${m.from}, moved or copied from its position`
          : `entries ${m.at}–${last.at} are the signed entries ${m.from}–${last.from}, moved by ${offset > 0 ? '+' : ''}${offset}`,
    });
    k = end;
  }
  return findings;
}
