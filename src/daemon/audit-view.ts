/**
 * `GET /v1/audit[?since=T&limit=N]`: the audit log read back for the audit
 * page, with the outcome of verifying it. The log is opened read-only for
 * each request (SQLite lets a reader in beside the daemon's writer); what
 * the daemon has queued is appended first, so the page sees every decision
 * up to its own request. `since` takes what `bioseal audit show --since`
 * takes (an ISO 8601 time or a duration back from now: 15m, 1h, 7d).
 */
import { openAuditLog, parseSince, type AuditEntry, type AuditFinding } from '../audit/index.js';
import { UsageError } from '../errors.js';
import type { AuditTrail } from './audit-trail.js';

const DEFAULT_LIMIT = 200;
const MAX_LIMIT = 2000;

export interface AuditReport {
  /** The newest `limit` entries at or after `since`, oldest first. */
  readonly entries: readonly AuditEntry[];
  /** How many entries matched `since` (more than listed when `limit` cut them). */
  readonly matched: number;
  readonly verify: {
    readonly ok: boolean;
    readonly entries: number;
    readonly heads: number;
    readonly signedSize: number;
    readonly verifiedSize: number;
    /** The newest validly signed tree head: size, time and root (hex). */
    readonly latest: { readonly size: number; readonly time: string; readonly root: string } | null;
    readonly findings: readonly AuditFinding[];
    readonly notes: readonly string[];
  };
}

/** Reads `since` and `limit` from a request's query. @throws UsageError */
export function auditQuery(query: URLSearchParams): { since?: Date; limit: number } {
  const since = query.get('since');
  const limitText = query.get('limit');
  const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new UsageError(`"limit" must be an integer from 1 to ${MAX_LIMIT}`);
  return { ...(since !== null && since !== '' && { since: parseSince(since) }), limit };
}

/** The entries and the verification of the log in `home`. @throws FormatError, IOError when the log cannot be read at all. */
export async function auditReport(home: string, trail: AuditTrail, query: { since?: Date; limit: number }): Promise<AuditReport> {
  trail.flush();
  const log = await openAuditLog(home, { readOnly: true });
  try {
    const all = log.entries(query.since ? { since: query.since } : {});
    const v = log.verify();
    return {
      entries: all.slice(-query.limit),
      matched: all.length,
      verify: {
        ok: v.ok,
        entries: v.entries,
        heads: v.heads,
        signedSize: v.signedSize,
        verifiedSize: v.verifiedSize,
        latest: v.latest ? { size: v.latest.size, time: new Date(v.latest.timestamp).toISOString(), root: Buffer.from(v.latest.root).toString('hex') } : null,
        findings: v.findings,
        notes: v.notes,
      },
    };
  } finally {
    log.close();
  }
}
