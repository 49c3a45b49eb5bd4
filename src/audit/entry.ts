/**
 * Audit entries: what happened (type), who asked (actor, the principal), to
 * what (subject, usually a model), what was decided and why (decision and
 * reasons: the explanation), plus a JSON object of details.
 *
 * The bytes that the Merkle tree hashes for an entry (its leaf input) are the
 * UTF-8 canonical JSON (RFC 8785, see canonical.ts) of
 *
 *   {"actor":…,"decision":…,"details":{…},"reasons":[…],"subject":…,"time":…,"type":…,"v":1}
 *
 * with null for an absent actor, subject or decision. The sequence number is
 * not in the leaf: it is the leaf's position in the tree, which the tree
 * already binds, so an entry moved to another position keeps its leaf hash and
 * verify can say where it came from.
 */
import { canonicalJson, type JsonValue } from './canonical.js';
import { leafHash } from './merkle.js';
import { FormatError, UsageError } from '../errors.js';

/** Version of the leaf encoding, the "v" member of every leaf. */
export const ENTRY_VERSION = 1;

/** The kinds of event bioseal records; other names of the same shape are accepted. */
export const AUDIT_EVENT_TYPES = ['unlock', 'lock', 'decision', 'enrolment', 'trust', 'session', 'daemon'] as const;

/** Limits on what one entry may hold (an entry is evidence, not a file store). */
export const ENTRY_LIMITS = {
  actorChars: 256,
  subjectChars: 1024,
  reasons: 64,
  reasonChars: 1024,
  detailsBytes: 64 * 1024,
  detailsDepth: 8,
} as const;

const TYPE_PATTERN = /^[a-z][a-z0-9_.:-]{0,63}$/;
const DECISION_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

/** What a caller records; the log adds the sequence number and the time. */
export interface AuditEvent {
  /** unlock, lock, decision, enrolment, trust, ... (lower case, [a-z0-9_.:-], at most 64). */
  readonly type: string;
  /** The principal: who acted or was decided about. */
  readonly actor?: string;
  /** What it was about, for example a model name or path. */
  readonly subject?: string;
  /** The outcome, for example allow, deny, step-up. */
  readonly decision?: string;
  /** The explanation, one reason per item. */
  readonly reasons?: readonly string[];
  /** Anything else worth keeping, as a plain JSON object. */
  readonly details?: Readonly<Record<string, JsonValue>>;
}

/** An entry as stored: the event, its position and its time. */
export interface AuditEntry {
  /** Position in the log and in the Merkle tree, from 0. */
  readonly seq: number;
  /** When it was appended: ISO 8601 UTC with milliseconds. */
  readonly time: string;
  readonly type: string;
  readonly actor: string | null;
  readonly subject: string | null;
  readonly decision: string | null;
  readonly reasons: readonly string[];
  readonly details: Readonly<Record<string, JsonValue>>;
}

/** The entry's fields as stored in the database (reasons and details as canonical JSON text). */
export interface EntryColumns {
  readonly time: string;
  readonly type: string;
  readonly actor: string | null;
  readonly subject: string | null;
  readonly decision: string | null;
  readonly reasons: string;
  readonly details: string;
}

function optionalText(value: unknown, field: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new UsageError(`audit ${field} must be a non-empty string of at most ${max} characters`);
  }
  return value;
}

/**
 * Checks an event and turns it into the columns to store at `time`.
 * @throws UsageError when a field is missing, malformed or over its limit.
 */
export function eventColumns(event: AuditEvent, time: string): EntryColumns {
  if (typeof event !== 'object' || event === null) throw new UsageError('an audit event must be an object');
  if (typeof event.type !== 'string' || !TYPE_PATTERN.test(event.type)) {
    throw new UsageError(`audit type "${String(event.type).slice(0, 80)}" must match ${TYPE_PATTERN.source}`);
  }
  const decision = optionalText(event.decision, 'decision', 32);
  if (decision !== null && !DECISION_PATTERN.test(decision)) throw new UsageError(`audit decision "${decision}" must match ${DECISION_PATTERN.source}`);
  const reasons = event.reasons ?? [];
  if (!Array.isArray(reasons) || reasons.length > ENTRY_LIMITS.reasons) throw new UsageError(`audit reasons must be a list of at most ${ENTRY_LIMITS.reasons} strings`);
  for (const r of reasons) {
    if (typeof r !== 'string' || r.length > ENTRY_LIMITS.reasonChars) throw new UsageError(`each audit reason must be a string of at most ${ENTRY_LIMITS.reasonChars} characters`);
  }
  const details = event.details ?? {};
  if (typeof details !== 'object' || details === null || Array.isArray(details)) throw new UsageError('audit details must be a JSON object');
  let detailsText: string;
  let reasonsText: string;
  try {
    detailsText = canonicalJson(details, ENTRY_LIMITS.detailsDepth, 'details');
    reasonsText = canonicalJson(reasons, 2, 'reasons');
  } catch (error) {
    throw new UsageError(`audit event cannot be recorded: ${(error as Error).message}`, { cause: error });
  }
  if (Buffer.byteLength(detailsText) > ENTRY_LIMITS.detailsBytes) throw new UsageError(`audit details are larger than ${ENTRY_LIMITS.detailsBytes} bytes`);
  return {
    time,
    type: event.type,
    actor: optionalText(event.actor, 'actor', ENTRY_LIMITS.actorChars),
    subject: optionalText(event.subject, 'subject', ENTRY_LIMITS.subjectChars),
    decision,
    reasons: reasonsText,
    details: detailsText,
  };
}

/**
 * The leaf input of an entry: UTF-8 canonical JSON (see the file comment).
 * Takes the columns as read, whatever their types, so that an edited column
 * gives a different leaf instead of an error.
 * @throws FormatError when a column cannot be read back as JSON.
 */
export function encodeEntry(columns: Readonly<Record<keyof EntryColumns, unknown>>): Uint8Array {
  const parse = (text: unknown, field: string): unknown => {
    if (typeof text !== 'string') throw new FormatError(`${field} is not JSON text`);
    try {
      return JSON.parse(text);
    } catch {
      throw new FormatError(`${field} is not valid JSON`);
    }
  };
  const leaf = {
    v: ENTRY_VERSION,
    time: columns.time,
    type: columns.type,
    actor: columns.actor,
    subject: columns.subject,
    decision: columns.decision,
    reasons: parse(columns.reasons, 'reasons'),
    details: parse(columns.details, 'details'),
  };
  return Buffer.from(canonicalJson(leaf, ENTRY_LIMITS.detailsDepth + 1, 'entry'), 'utf8');
}

/** RFC 6962 leaf hash of an entry's columns. @throws FormatError as encodeEntry. */
export function entryLeafHash(columns: Readonly<Record<keyof EntryColumns, unknown>>): Uint8Array {
  return leafHash(encodeEntry(columns));
}

/**
 * The entry a stored row describes.
 * @throws FormatError when the row cannot be read (run verify to see why).
 */
export function entryFromRow(seq: number, row: Readonly<Record<keyof EntryColumns, unknown>>): AuditEntry {
  const text = (v: unknown, field: string, nullable: boolean): string | null => {
    if (v === null && nullable) return null;
    if (typeof v !== 'string') throw new FormatError(`audit entry ${seq} is unreadable: ${field} is not text (run bioseal audit verify)`);
    return v;
  };
  let reasons: unknown;
  let details: unknown;
  try {
    reasons = JSON.parse(String(row.reasons));
    details = JSON.parse(String(row.details));
  } catch {
    throw new FormatError(`audit entry ${seq} is unreadable: reasons or details are not JSON (run bioseal audit verify)`);
  }
  if (!Array.isArray(reasons) || !reasons.every((r) => typeof r === 'string') || typeof details !== 'object' || details === null || Array.isArray(details)) {
    throw new FormatError(`audit entry ${seq} is unreadable: reasons or details have the wrong shape (run bioseal audit verify)`);
  }
  return {
    seq,
    time: text(row.time, 'time', false)!,
    type: text(row.type, 'type', false)!,
    actor: text(row.actor, 'actor', true),
    subject: text(row.subject, 'subject', true),
    decision: text(row.decision, 'decision', true),
    reasons: reasons as string[],
    details: details as Record<string, JsonValue>,
  };
}
