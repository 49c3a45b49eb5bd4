/**
 * The installed state of a device, the anchor of rollback protection:
 * `$BIOSEAL_HOME/updates/installed.json` records, per model name, the
 * installed version, its file and digest, the hash of the manifest that
 * installed it and when; and every publisher rotation accepted so far. It is
 * replaced atomically, and its replacement is the moment an update takes
 * effect (docs/UPDATES.md §4).
 *
 * A state file that does not parse is refused (E_FORMAT), never reset: an
 * empty state would accept any old version again.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { homeSubdir } from '../home.js';
import { encodePublisherKey } from '../keys/publisher.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { parseRotation, rotationDocument, type RotationStatement } from './rotation.js';
import {
  expectInteger,
  expectObject,
  expectPublisherKey,
  expectString,
  readDocumentFile,
  requireCanonicalLayout,
  serializeDocument,
} from './document.js';
import { MODEL_NAME_PATTERN } from './manifest.js';
import { formatTimestamp, parseTimestamp } from './time.js';
import { FormatError } from '../errors.js';

export const STATE_FORMAT = 'bioseal-installed-models/1';
const MAX_STATE_BYTES = 4 * 1024 * 1024;
const INSTALLED_FILE_PATTERN = /^v[1-9][0-9]{0,15}\.bseal$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;

/** One installed model. */
export interface InstalledModel {
  readonly name: string;
  readonly version: number;
  /** The sealed file's name in $BIOSEAL_HOME/models/NAME/ (`vN.bseal`). */
  readonly file: string;
  readonly size: number;
  readonly sha256: string;
  /** SHA-256 of the signed manifest body that installed it (manifest.ts manifestHash). */
  readonly manifestSha256: string;
  readonly publisher: Uint8Array;
  readonly installedAt: Date;
  readonly expiresAt: Date;
}

export interface InstalledState {
  /** By model name. */
  readonly models: ReadonlyMap<string, InstalledModel>;
  /** Rotations accepted by earlier updates, oldest first. */
  readonly rotations: readonly RotationStatement[];
}

/** The directory holding the state, trust store and lock: $BIOSEAL_HOME/updates (created 0700). */
export function updatesDir(home: string): string {
  return homeSubdir(home, 'updates');
}

/** Where a model's installed files live: $BIOSEAL_HOME/models/NAME (not created). */
export function modelDir(home: string, name: string): string {
  return path.join(home, 'models', name);
}

function stateFile(home: string): string {
  return path.join(home, 'updates', 'installed.json');
}

function modelDocument(m: InstalledModel) {
  return {
    version: m.version,
    file: m.file,
    size: m.size,
    sha256: m.sha256,
    manifestSha256: m.manifestSha256,
    publisher: encodePublisherKey(m.publisher),
    installedAt: formatTimestamp(m.installedAt),
    expiresAt: formatTimestamp(m.expiresAt),
  };
}

function stateDocument(state: InstalledState) {
  const names = [...state.models.keys()].sort();
  return {
    format: STATE_FORMAT,
    models: Object.fromEntries(names.map((n) => [n, modelDocument(state.models.get(n)!)])),
    rotations: state.rotations.map(rotationDocument),
  };
}

function parseModel(name: string, value: unknown): InstalledModel {
  const what = `installed model "${name}"`;
  const m = expectObject(value, what, ['version', 'file', 'size', 'sha256', 'manifestSha256', 'publisher', 'installedAt', 'expiresAt']);
  return {
    name,
    version: expectInteger(m.version, `${what} version`, 1),
    file: expectString(m.file, `${what} file`, INSTALLED_FILE_PATTERN, 'vN.bseal'),
    size: expectInteger(m.size, `${what} size`, 1),
    sha256: expectString(m.sha256, `${what} sha256`, SHA256_PATTERN, '64 hex digits'),
    manifestSha256: expectString(m.manifestSha256, `${what} manifestSha256`, SHA256_PATTERN, '64 hex digits'),
    publisher: expectPublisherKey(m.publisher, `${what} publisher`),
    installedAt: parseTimestamp(m.installedAt, `${what} installedAt`),
    expiresAt: parseTimestamp(m.expiresAt, `${what} expiresAt`),
  };
}

/**
 * Reads the installed state; an absent file is the empty state.
 * @throws FormatError when the file is damaged; IOError
 */
export async function readInstalledState(home: string): Promise<InstalledState> {
  const file = stateFile(home);
  if (!existsSync(file)) return { models: new Map(), rotations: [] };
  const { text, value } = await readDocumentFile(file, 'installed-models state', MAX_STATE_BYTES);
  const what = `installed-models state ${file}`;
  try {
    const doc = expectObject(value, what, ['format', 'models', 'rotations']);
    if (doc.format !== STATE_FORMAT) throw new FormatError(`${what} has an unknown format`);
    if (doc.models === null || typeof doc.models !== 'object' || Array.isArray(doc.models)) throw new FormatError(`${what} models must be a JSON object`);
    const models = doc.models as Record<string, unknown>;
    const parsed = new Map<string, InstalledModel>();
    for (const name of Object.keys(models)) {
      expectString(name, `${what} model name`, MODEL_NAME_PATTERN, 'a model name');
      parsed.set(name, parseModel(name, models[name]));
    }
    if (!Array.isArray(doc.rotations)) throw new FormatError(`${what} rotations must be a list`);
    const state = { models: parsed, rotations: doc.rotations.map((r, i) => parseRotation(r, `${what} rotation ${i + 1}`)) };
    requireCanonicalLayout(text, stateDocument(state), what);
    return state;
  } catch (error) {
    if (error instanceof FormatError) {
      throw new FormatError(`${error.message}; the state is damaged (it guards against rollback, so it is not reset automatically)`, { cause: error });
    }
    throw error;
  }
}

/**
 * Replaces the installed state atomically (temporary file, fsync, rename, directory fsync).
 * @throws IOError
 */
export async function writeInstalledState(home: string, state: InstalledState): Promise<void> {
  updatesDir(home);
  const text = serializeDocument(stateDocument(state));
  await writeFileAtomic(stateFile(home), async (h) => void (await h.writeFile(text)), { overwrite: true, mode: 0o600 });
}
