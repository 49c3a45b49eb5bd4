/**
 * Rows of the fleet tables back into records, the same for both databases:
 * PostgreSQL returns 64-bit integers as strings and bytes as Buffers, SQLite
 * numbers and Buffers. A value of the wrong type (a database edited by
 * hand) is a FormatError, not a wrong answer.
 */
import { FormatError } from '../../errors.js';
import type { AuditHeadRecord, DeviceRecord, EnrolmentRecord, GalleryGroupRecord, PublishedModelRecord } from './fleet-store.js';
import type { SqlRow } from './sql-driver.js';

function int(row: SqlRow, column: string): number {
  const v = row[column];
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : typeof v === 'bigint' ? Number(v) : v;
  if (!Number.isSafeInteger(n)) throw new FormatError(`the fleet database holds a bad ${column}`);
  return n as number;
}

function optionalInt(row: SqlRow, column: string): number | null {
  return row[column] === null ? null : int(row, column);
}

function bytes(row: SqlRow, column: string): Uint8Array {
  const v = row[column];
  if (!(v instanceof Uint8Array)) throw new FormatError(`the fleet database holds a bad ${column}`);
  // A plain copy: Buffers from a pool may share memory with other values.
  return new Uint8Array(v);
}

function text(row: SqlRow, column: string): string {
  const v = row[column];
  if (typeof v !== 'string') throw new FormatError(`the fleet database holds a bad ${column}`);
  return v;
}

function labels(row: SqlRow): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text(row, 'labels'));
  } catch {
    value = null;
  }
  if (!Array.isArray(value) || !value.every((l) => typeof l === 'string')) throw new FormatError('the fleet database holds bad gallery labels');
  return value as string[];
}

export function deviceFromRow(row: SqlRow): DeviceRecord {
  return {
    id: text(row, 'id'),
    publicKey: bytes(row, 'public_key'),
    fingerprint: bytes(row, 'fingerprint'),
    registeredAt: int(row, 'registered_at'),
    revokedAt: optionalInt(row, 'revoked_at'),
  };
}

export function evaluationKeysFromRow(row: SqlRow): Uint8Array {
  return bytes(row, 'evaluation_keys');
}

export function enrolmentFromRow(row: SqlRow): EnrolmentRecord {
  return {
    deviceId: text(row, 'device_id'),
    person: text(row, 'person'),
    template: bytes(row, 'template'),
    fingerprint: bytes(row, 'fingerprint'),
    createdAt: int(row, 'created_at'),
  };
}

export function galleryGroupFromRow(row: SqlRow): GalleryGroupRecord {
  return {
    seq: int(row, 'seq'),
    holderId: text(row, 'holder_id'),
    enrolledBy: text(row, 'enrolled_by'),
    labels: labels(row),
    group: bytes(row, 'group_bytes'),
    fingerprint: bytes(row, 'fingerprint'),
    createdAt: int(row, 'created_at'),
  };
}

export function modelFromRow(row: SqlRow): PublishedModelRecord {
  return {
    name: text(row, 'name'),
    version: int(row, 'version'),
    manifest: bytes(row, 'manifest'),
    digest: text(row, 'digest'),
    publishedAt: int(row, 'published_at'),
  };
}

export function auditHeadFromRow(row: SqlRow): AuditHeadRecord {
  return {
    deviceId: text(row, 'device_id'),
    size: int(row, 'size'),
    root: bytes(row, 'root'),
    timestamp: int(row, 'timestamp'),
    keyId: bytes(row, 'key_id'),
    signature: bytes(row, 'signature'),
    receivedAt: int(row, 'received_at'),
  };
}
