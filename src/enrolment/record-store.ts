/**
 * Enrolment records of the device factors (tpm, pkcs11, passkey, fido2) under
 * `$BIOSEAL_HOME/enrolments/<factor>/<name>.json`, mode 0600, written
 * atomically.
 *
 * A record holds what a factor needs to ask its device for the secret again
 * (a TPM-sealed blob, a token label and key id, a credential id and public
 * key), never the secret itself. Each record has a random 16-byte id that key
 * slots name; re-enrolling a name makes a new id, so slots made with the old
 * enrolment stop opening.
 *
 * Records are parsed strictly: the envelope here, the factor's own `data`
 * through a `RecordFields` reader that caps every size.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { homeSubdir } from '../home.js';
import { writeFileAtomic, describeFsError } from '../util/atomic-file.js';
import { ExistsError, FormatError, UsageError } from '../errors.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const FACTOR = /^[a-z][a-z0-9]{0,15}$/;
const MAX_RECORD_BYTES = 256 * 1024;
const MAX_STRING = 8192;

export interface EnrolmentRecord {
  readonly factor: string;
  readonly name: string;
  /** 32 hex digits: names this enrolment in key slots. */
  readonly id: string;
  readonly created: string;
  /** The factor's own fields (JSON values only). */
  readonly data: Readonly<Record<string, unknown>>;
}

/** @throws UsageError when the name is not a valid enrolment name. */
export function checkEnrolmentName(name: string): void {
  if (!NAME.test(name)) throw new UsageError(`enrolment name "${name}" must be 1-64 letters, digits, ".", "_" or "-"`);
}

/** A new record with a fresh random id. */
export function newEnrolmentRecord(factor: string, name: string, data: Record<string, unknown>): EnrolmentRecord {
  if (!FACTOR.test(factor)) throw new UsageError(`not a factor name: ${factor}`);
  checkEnrolmentName(name);
  return { factor, name, id: randomBytes(16).toString('hex'), created: new Date().toISOString(), data };
}

/** The 16 id bytes of a record, as stored in key-slot parameters. */
export function enrolmentIdBytes(record: EnrolmentRecord): Uint8Array {
  return new Uint8Array(Buffer.from(record.id, 'hex'));
}

function factorDir(home: string, factor: string): string {
  if (!FACTOR.test(factor)) throw new UsageError(`not a factor name: ${factor}`);
  return homeSubdir(homeSubdir(home, 'enrolments'), factor);
}

export function serializeEnrolmentRecord(r: EnrolmentRecord): string {
  return (
    JSON.stringify({ format: `bioseal-${r.factor}-enrolment`, version: 1, name: r.name, id: r.id, created: r.created, data: r.data }, null, 2) +
    '\n'
  );
}

/**
 * Parses a record strictly.
 * @throws FormatError for anything malformed, over the caps, or of another factor.
 */
export function parseEnrolmentRecord(factor: string, text: string): EnrolmentRecord {
  if (text.length > MAX_RECORD_BYTES) throw new FormatError(`${factor} enrolment record is too large`);
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    throw new FormatError(`${factor} enrolment record is not valid JSON`);
  }
  if (!isObject(o) || o.format !== `bioseal-${factor}-enrolment`) throw new FormatError(`not a bioseal ${factor} enrolment record`);
  if (o.version !== 1) throw new FormatError(`${factor} enrolment version ${String(o.version)} is not supported`);
  const f = new RecordFields(o, `${factor} enrolment`);
  const name = f.string('name');
  if (!NAME.test(name)) throw new FormatError(`${factor} enrolment: the name is not valid`);
  const id = f.string('id');
  if (!/^[0-9a-f]{32}$/.test(id)) throw new FormatError(`${factor} enrolment: id must be 32 hex digits`);
  return { factor, name, id, created: f.string('created'), data: f.object('data').raw };
}

/**
 * Writes a record (mode 0600), atomically.
 * @throws ExistsError when the name is taken and `overwrite` is not set.
 */
export async function saveEnrolmentRecord(home: string, r: EnrolmentRecord, options: { overwrite?: boolean } = {}): Promise<string> {
  const file = path.join(factorDir(home, r.factor), `${r.name}.json`);
  if (!options.overwrite && existsSync(file)) {
    throw new ExistsError(`a ${r.factor} enrolment named "${r.name}" exists (use --force to re-enrol, which revokes it)`);
  }
  await writeFileAtomic(file, async (h) => void (await h.writeFile(serializeEnrolmentRecord(r))), { overwrite: options.overwrite, mode: 0o600 });
  return file;
}

/**
 * Loads a record by name.
 * @throws UsageError when there is none; FormatError when it is malformed.
 */
export function loadEnrolmentRecord(home: string, factor: string, name: string): EnrolmentRecord {
  checkEnrolmentName(name);
  const file = path.join(factorDir(home, factor), `${name}.json`);
  if (!existsSync(file)) throw new UsageError(`no ${factor} enrolment named "${name}" (run: bioseal enroll ${factor} --name ${name})`);
  return parseEnrolmentRecord(factor, readText(file));
}

/** Every readable record of a factor, by name; damaged records are skipped. */
export function listEnrolmentRecords(home: string, factor: string): EnrolmentRecord[] {
  const dir = factorDir(home, factor);
  const out: EnrolmentRecord[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.json')) continue;
    try {
      out.push(parseEnrolmentRecord(factor, readText(path.join(dir, f))));
    } catch (error) {
      if (!(error instanceof FormatError)) throw error;
    }
  }
  return out;
}

/** The record a key slot names by id, or undefined (never enrolled here, or revoked by re-enrolment). */
export function findEnrolmentRecordById(home: string, factor: string, id: Uint8Array | string): EnrolmentRecord | undefined {
  const hex = typeof id === 'string' ? id : Buffer.from(id).toString('hex');
  return listEnrolmentRecords(home, factor).find((r) => r.id === hex);
}

export function removeEnrolmentRecord(home: string, factor: string, name: string): void {
  checkEnrolmentName(name);
  const file = path.join(factorDir(home, factor), `${name}.json`);
  try {
    unlinkSync(file);
  } catch (error) {
    throw describeFsError(error, file);
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw describeFsError(error, file);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Strict, capped reading of a record's fields: each accessor returns the
 * typed value or throws a FormatError naming the field.
 */
export class RecordFields {
  constructor(
    readonly raw: Readonly<Record<string, unknown>>,
    private readonly what: string,
  ) {}

  private fail(key: string, expected: string): never {
    throw new FormatError(`${this.what}: ${key} ${expected}`);
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined;
  }

  string(key: string, pattern?: RegExp): string {
    const v = this.raw[key];
    if (typeof v !== 'string' || v.length > MAX_STRING) this.fail(key, 'must be a string');
    if (pattern && !pattern.test(v)) this.fail(key, 'is not valid');
    return v;
  }

  int(key: string, lo: number, hi: number): number {
    const v = this.raw[key];
    if (!Number.isInteger(v) || (v as number) < lo || (v as number) > hi) this.fail(key, `must be an integer in ${lo}..${hi}`);
    return v as number;
  }

  boolean(key: string): boolean {
    const v = this.raw[key];
    if (typeof v !== 'boolean') this.fail(key, 'must be true or false');
    return v;
  }

  /** Base64 bytes, of exactly `length` bytes or at most `max`. */
  bytes(key: string, size: { length?: number; max?: number }): Uint8Array {
    const text = this.string(key);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) this.fail(key, 'is not base64');
    const b = new Uint8Array(Buffer.from(text, 'base64'));
    if (size.length !== undefined && b.length !== size.length) this.fail(key, `must be ${size.length} bytes`);
    if (size.max !== undefined && b.length > size.max) this.fail(key, `must be at most ${size.max} bytes`);
    return b;
  }

  intList(key: string, lo: number, hi: number, maxItems: number): number[] {
    const v = this.raw[key];
    if (!Array.isArray(v) || v.length > maxItems || !v.every((x) => Number.isInteger(x) && x >= lo && x <= hi)) {
      this.fail(key, `must be a list of at most ${maxItems} integers in ${lo}..${hi}`);
    }
    return v as number[];
  }

  object(key: string): RecordFields {
    const v = this.raw[key];
    if (!isObject(v)) this.fail(key, 'must be an object');
    return new RecordFields(v, `${this.what} ${key}`);
  }
}

/** Base64 text of bytes, for record fields. */
export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}
