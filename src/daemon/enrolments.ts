/**
 * The daemon's enrolment housekeeping for its pages: the names requests
 * give, the list of face and passkey enrolments (`GET /v1/enrolments`:
 * names, ids and dates, nothing of a template or credential), and the audit
 * record of every enrolment change, made or refused.
 */
import { listFaceEnrolments } from '../enrolment/face-record.js';
import { checkEnrolmentName, listEnrolmentRecords } from '../enrolment/record-store.js';
import { PASSKEY_FACTOR } from '../enrolment/passkey.js';
import { BiosealError, UsageError } from '../errors.js';
import { DeniedError, type Gate } from './gate.js';

export interface EnrolmentSummary {
  readonly name: string;
  readonly id: string;
  readonly created: string;
}

export function listPageEnrolments(home: string): { face: EnrolmentSummary[]; passkey: EnrolmentSummary[] } {
  const summary = (e: EnrolmentSummary) => ({ name: e.name, id: e.id, created: e.created });
  return { face: listFaceEnrolments(home).map(summary), passkey: listEnrolmentRecords(home, PASSKEY_FACTOR).map(summary) };
}

/** An enrolment name from a request field (default "default"). @throws UsageError */
export function enrolmentNameFrom(value: unknown, field: string): string {
  const name = value ?? 'default';
  if (typeof name !== 'string') throw new UsageError(`"${field}" must be an enrolment name`);
  checkEnrolmentName(name);
  return name;
}

/** What an enrolment change checks along the way: the policy (with the enrolment's name), and that no lock came since the request began. */
export interface EnrolmentGuard {
  authorize(name: string): void;
  assertStill(): void;
}

/**
 * Runs an enrolment change and records it: `enrolled`, or `refused` with the
 * reason (a policy denial is recorded by the gate, a malformed request not at all).
 */
export async function auditedEnrolment<T extends { enrolled: string }>(gate: Gate, factor: string, change: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await change();
  } catch (error) {
    if (error instanceof BiosealError && !(error instanceof DeniedError) && !(error instanceof UsageError)) {
      gate.audit.record({ type: 'enrolment', actor: gate.principal, subject: factor, decision: 'refused', reasons: [error.message], details: { code: error.code } });
    }
    throw error;
  }
  gate.audit.record({ type: 'enrolment', actor: gate.principal, subject: `${factor}:${result.enrolled}`, decision: 'enrolled', reasons: [`${factor} enrolment "${result.enrolled}" made through the daemon's page`] });
  return result;
}
