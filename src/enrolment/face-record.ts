/**
 * Face enrolment records under `$BIOSEAL_HOME/enrolments/face/NAME.json`.
 *
 * A record holds a protected template (seed, chosen coordinates, fuzzy
 * commitment, salt, check value) and nothing from which the face can be
 * rebuilt. It is parsed strictly with every size capped, and authenticated by
 * an HMAC under a key derived from the face secret: it can only be checked
 * after a successful match, which is also when it matters (a record swapped
 * for an attacker's own face yields a different secret and fails the slot's
 * check value first).
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import type { ProtectedTemplate } from '../biometrics/template/protected-template.js';
import { bchCode, templateLength } from '../biometrics/template/fuzzy-commitment.js';
import { homeSubdir } from '../home.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { ExistsError, FormatError, TamperedError, UsageError } from '../errors.js';

export const FACE_RECORD_FORMAT = 'bioseal-face-enrolment';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_RECORD_BYTES = 256 * 1024;

export interface FaceEnrolment {
  readonly name: string;
  /** 16 random bytes, hex: names this enrolment in key slots. */
  readonly id: string;
  readonly created: string;
  /** Identifier of the cohort mean the embeddings were centred on. */
  readonly cohort: string;
  readonly template: ProtectedTemplate;
  /** HMAC-SHA256 over the canonical record under a key derived from the face secret. */
  readonly mac: Uint8Array;
}

const b64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

function packBits(bits: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  for (let i = 0; i < bits.length; i++) if (bits[i]) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

function unpackBits(bytes: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = (bytes[i >> 3]! >> (i & 7)) & 1;
  return out;
}

/** The record as JSON without its MAC: what the MAC covers. */
function body(e: Omit<FaceEnrolment, 'mac'>): Record<string, unknown> {
  const t = e.template;
  const indices = Buffer.alloc(t.indices.length * 4);
  t.indices.forEach((v, i) => indices.writeUInt32BE(v, i * 4));
  return {
    format: FACE_RECORD_FORMAT,
    version: 1,
    name: e.name,
    id: e.id,
    created: e.created,
    cohort: e.cohort,
    embedder: t.embedder,
    dimensions: t.dimensions,
    projection: { seed: b64(t.projection.seed), outputs: t.projection.outputs },
    indices: indices.toString('base64'),
    // Listed field by field: the MAC covers exactly what is stored, whatever else the in-memory object carries.
    code: {
      m: t.commitment.params.m,
      t: t.commitment.params.t,
      blocks: t.commitment.params.blocks,
      kdfMemoryKiB: t.commitment.params.kdfMemoryKiB,
      kdfPasses: t.commitment.params.kdfPasses,
    },
    commitment: b64(packBits(t.commitment.commitment)),
    salt: b64(t.commitment.salt),
    check: b64(t.commitment.check),
  };
}

function macKey(secret: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, new Uint8Array(0), 'bioseal/v1 face record mac', 32));
}

function computeMac(e: Omit<FaceEnrolment, 'mac'>, secret: Uint8Array): Uint8Array {
  const key = macKey(secret);
  try {
    return new Uint8Array(createHmac('sha256', key).update(JSON.stringify(body(e))).digest());
  } finally {
    key.fill(0);
  }
}

/** A new record for a template, authenticated under its secret. */
export function newFaceEnrolment(name: string, cohort: string, template: ProtectedTemplate, secret: Uint8Array): FaceEnrolment {
  checkEnrolmentName(name);
  const base = { name, id: randomBytes(16).toString('hex'), created: new Date().toISOString(), cohort, template };
  return { ...base, mac: computeMac(base, secret) };
}

/** @throws TamperedError when the record was changed since enrolment. */
export function verifyFaceEnrolment(e: FaceEnrolment, secret: Uint8Array): void {
  const mac = computeMac(e, secret);
  if (!timingSafeEqual(mac, e.mac)) throw new TamperedError(`face enrolment "${e.name}" was modified after enrolment`);
}

export function checkEnrolmentName(name: string): void {
  if (!NAME.test(name)) throw new UsageError(`enrolment name "${name}" must be 1-64 letters, digits, ".", "_" or "-"`);
}

function field<T>(o: Record<string, unknown>, key: string, check: (v: unknown) => v is T, what: string): T {
  const v = o[key];
  if (!check(v)) throw new FormatError(`face enrolment: ${key} ${what}`);
  return v;
}
const isString = (v: unknown): v is string => typeof v === 'string' && v.length <= 8192;
const isInt = (lo: number, hi: number) => (v: unknown): v is number => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function bytes(text: string, length: number | undefined, what: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new FormatError(`face enrolment: ${what} is not base64`);
  const b = new Uint8Array(Buffer.from(text, 'base64'));
  if (length !== undefined && b.length !== length) throw new FormatError(`face enrolment: ${what} must be ${length} bytes`);
  return b;
}

/**
 * Parses a record strictly.
 * @throws FormatError for anything malformed or beyond the caps.
 */
export function parseFaceEnrolment(text: string): FaceEnrolment {
  if (text.length > MAX_RECORD_BYTES) throw new FormatError('face enrolment record is too large');
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    throw new FormatError('face enrolment record is not valid JSON');
  }
  if (!isObject(o) || o.format !== FACE_RECORD_FORMAT) throw new FormatError('not a bioseal face enrolment record');
  if (o.version !== 1) throw new FormatError(`face enrolment version ${String(o.version)} is not supported`);
  const name = field(o, 'name', isString, 'must be a string');
  if (!NAME.test(name)) throw new FormatError('face enrolment: the name is not valid');
  const id = field(o, 'id', (v): v is string => typeof v === 'string' && /^[0-9a-f]{32}$/.test(v), 'must be 32 hex digits');
  const created = field(o, 'created', isString, 'must be a string');
  const cohort = field(o, 'cohort', isString, 'must be a string');
  const embedder = field(o, 'embedder', isString, 'must be a string');
  const dimensions = field(o, 'dimensions', isInt(1, 8192), 'must be 1..8192');
  const projection = field(o, 'projection', isObject, 'must be an object');
  const seed = bytes(field(projection, 'seed', isString, 'must be base64'), 32, 'projection seed');
  const outputs = field(projection, 'outputs', isInt(1, 65536), 'must be 1..65536');
  const code = field(o, 'code', isObject, 'must be an object');
  const params = {
    m: field(code, 'm', isInt(5, 10), 'must be 5..10'),
    t: field(code, 't', isInt(1, 128), 'must be 1..128'),
    blocks: field(code, 'blocks', isInt(1, 16), 'must be 1..16'),
    kdfMemoryKiB: field(code, 'kdfMemoryKiB', isInt(8, 1024 * 1024), 'must be 8..1048576'),
    kdfPasses: field(code, 'kdfPasses', isInt(1, 32), 'must be 1..32'),
  };
  try {
    bchCode(params.m, params.t);
  } catch {
    throw new FormatError(`face enrolment: no BCH code has m=${params.m} and t=${params.t}`);
  }
  let padded = 1;
  while (padded < dimensions) padded <<= 1;
  if (outputs % padded !== 0) throw new FormatError('face enrolment: projection size does not fit the embedding size');
  const bits = templateLength(params);
  if (bits > outputs) throw new FormatError('face enrolment: more template bits than projected coordinates');
  const rawIndices = bytes(field(o, 'indices', isString, 'must be base64'), bits * 4, 'indices');
  const indices = new Uint32Array(bits);
  const seen = new Set<number>();
  for (let i = 0; i < bits; i++) {
    const v = Buffer.from(rawIndices).readUInt32BE(i * 4);
    if (v >= outputs || seen.has(v)) throw new FormatError('face enrolment: indices out of range or repeated');
    seen.add(v);
    indices[i] = v;
  }
  const commitment = unpackBits(bytes(field(o, 'commitment', isString, 'must be base64'), Math.ceil(bits / 8), 'commitment'), bits);
  const salt = bytes(field(o, 'salt', isString, 'must be base64'), 16, 'salt');
  const check = bytes(field(o, 'check', isString, 'must be base64'), 32, 'check');
  const mac = bytes(field(o, 'mac', isString, 'must be base64'), 32, 'mac');
  return {
    name,
    id,
    created,
    cohort,
    template: { embedder, dimensions, projection: { seed, outputs }, indices, commitment: { params, commitment, salt, check } },
    mac,
  };
}

export function serializeFaceEnrolment(e: FaceEnrolment): string {
  return JSON.stringify({ ...body(e), mac: b64(e.mac) }, null, 2) + '\n';
}

function faceDir(home: string): string {
  return homeSubdir(homeSubdir(home, 'enrolments'), 'face');
}

/** Writes a record atomically (mode 0600). Replacing an existing name revokes the old template. */
export async function saveFaceEnrolment(home: string, e: FaceEnrolment, options: { overwrite?: boolean } = {}): Promise<string> {
  const file = path.join(faceDir(home), `${e.name}.json`);
  if (!options.overwrite && existsSync(file)) throw new ExistsError(`a face enrolment named "${e.name}" exists (use --force to re-enrol, which revokes it)`);
  await writeFileAtomic(file, async (h) => void (await h.writeFile(serializeFaceEnrolment(e))), { overwrite: options.overwrite, mode: 0o600 });
  return file;
}

/**
 * Loads a record by name.
 * @throws UsageError when there is none; FormatError when it is malformed.
 */
export function loadFaceEnrolment(home: string, name: string): FaceEnrolment {
  checkEnrolmentName(name);
  const file = path.join(faceDir(home), `${name}.json`);
  if (!existsSync(file)) throw new UsageError(`no face enrolment named "${name}" (run: bioseal enroll face --images DIR --name ${name})`);
  return parseFaceEnrolment(readFileSync(file, 'utf8'));
}

/** All records, skipping damaged ones. */
export function listFaceEnrolments(home: string): FaceEnrolment[] {
  const out: FaceEnrolment[] = [];
  for (const f of readdirSync(faceDir(home)).sort()) {
    if (!f.endsWith('.json')) continue;
    try {
      out.push(parseFaceEnrolment(readFileSync(path.join(faceDir(home), f), 'utf8')));
    } catch (error) {
      if (!(error instanceof FormatError || error instanceof UsageError)) throw error;
    }
  }
  return out;
}

/** Finds a record by its id (as stored in key slots). */
export function findFaceEnrolmentById(home: string, id: string): FaceEnrolment | undefined {
  return listFaceEnrolments(home).find((e) => e.id === id);
}

export function removeFaceEnrolment(home: string, name: string): void {
  checkEnrolmentName(name);
  unlinkSync(path.join(faceDir(home), `${name}.json`));
}
