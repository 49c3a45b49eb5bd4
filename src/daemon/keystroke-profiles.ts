/**
 * Enrolled typing, kept across daemon restarts and never in the clear.
 *
 * A typing enrolment is stored at
 * `$BIOSEAL_HOME/enrolments/keystroke/<name>.json` (mode 0600, written
 * atomically through src/enrolment/record-store.ts), sealed to the sealed
 * model it was enrolled under: the record holds the model's file id and the
 * enrolment encrypted under that file's profile key (src/container/sealed-bytes.ts),
 * with the record's name and id as associated data. The name is derived
 * from the profile key (`FileBoundKey.name`), not from the public file id,
 * so a file crafted to carry another model's file id can neither find,
 * replace nor remove that model's enrolment. Only a daemon
 * that has that model open holds the key, so the enrolment opens only while
 * the model is loaded; a record that does not authenticate (changed, moved to
 * another model's name, or left from a model since re-sealed) is refused,
 * never used.
 *
 * What is sealed is the enrolment samples' key events (key, down, up: what
 * the free-typing profile is built from), and the profile is rebuilt from
 * them when opened: enrolment is deterministic, so it is the same profile.
 * The opened profiles live in memory only while their model's key does.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { enrolFreeText, type FreeTextProfile, type KeyEvent } from '../biometrics/keystroke/index.js';
import {
  loadEnrolmentRecord,
  newEnrolmentRecord,
  RecordFields,
  removeEnrolmentRecord,
  saveEnrolmentRecord,
  toBase64,
  type EnrolmentRecord,
} from '../enrolment/record-store.js';
import { FormatError, UsageError } from '../errors.js';
import { toHex, utf8, wipe } from '../util/bytes.js';
import type { ProfileSealer } from './models.js';

export const KEYSTROKE_FACTOR = 'keystroke';
const PLAINTEXT_FORMAT = 'bioseal-keystroke-samples';
/** Sealed bytes a record may hold: its base64 then stays well inside the record store's 256 KiB. */
const MAX_SEALED_BYTES = 160 * 1024;

/** A typing profile opened in this daemon run. */
export interface OpenedProfile {
  readonly profile: FreeTextProfile;
  /** The loaded model (name) whose key opened it. */
  readonly model: string;
}

/**
 * The typing profiles of this daemon run, by the record name of the model
 * each is sealed to, the most recently opened last; and why a stored one
 * was refused. Both forget a model's entry when its key is released.
 */
export interface KeystrokeState {
  profiles?: Map<string, OpenedProfile>;
  refused?: Map<string, string>;
}

function associatedData(name: string, recordId: string): Uint8Array {
  return utf8(`bioseal keystroke enrolment v1\n${name}\n${recordId}`);
}

/** The record name of the typing sealed to `sealer`'s model (derived from its key). */
function recordName(sealer: ProfileSealer): string {
  return sealer.name('keystroke enrolment');
}

function encodeSamples(samples: readonly (readonly KeyEvent[])[]): Uint8Array {
  return utf8(JSON.stringify({ format: PLAINTEXT_FORMAT, version: 1, samples: samples.map((s) => s.map((e) => [e.key, e.down, e.up])) }));
}

/** @throws FormatError for anything but what encodeSamples writes. */
function decodeSamples(bytes: Uint8Array): KeyEvent[][] {
  let o: unknown;
  try {
    o = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    throw new FormatError('the opened typing enrolment is not valid JSON');
  }
  const r = o as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || r.format !== PLAINTEXT_FORMAT || r.version !== 1 || !Array.isArray(r.samples)) {
    throw new FormatError('the opened typing enrolment is not of a known format');
  }
  return r.samples.map((s: unknown) => {
    if (!Array.isArray(s)) throw new FormatError('the opened typing enrolment holds a malformed sample');
    return s.map((e: unknown) => {
      if (!Array.isArray(e) || e.length !== 3 || typeof e[0] !== 'string' || typeof e[1] !== 'number' || typeof e[2] !== 'number') {
        throw new FormatError('the opened typing enrolment holds a malformed key event');
      }
      return { key: e[0], down: e[1], up: e[2] };
    });
  });
}

/** The record's `sealed` bytes (base64, capped). @throws FormatError */
function sealedField(value: unknown): Uint8Array {
  if (typeof value !== 'string' || value.length > Math.ceil(MAX_SEALED_BYTES / 3) * 4 || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw new FormatError(`keystroke enrolment: sealed must be base64 of at most ${MAX_SEALED_BYTES} bytes`);
  }
  return new Uint8Array(Buffer.from(value, 'base64'));
}

/** The profile record's path, whether or not it exists (nothing is created). */
export function keystrokeRecordPath(home: string, sealer: ProfileSealer): string {
  return path.join(home, 'enrolments', KEYSTROKE_FACTOR, `${recordName(sealer)}.json`);
}

/**
 * Enrols typing from `samples` and stores it sealed to the model `sealer`
 * belongs to, replacing what was stored for that model.
 * @throws UsageError, FormatError for samples that cannot be enrolled or are too large to store; IOError.
 */
export async function enrolSealedTyping(home: string, sealer: ProfileSealer, samples: readonly (readonly KeyEvent[])[]): Promise<{ profile: FreeTextProfile; file: string; id: string }> {
  const profile = enrolFreeText(samples);
  const name = recordName(sealer);
  const draft = newEnrolmentRecord(KEYSTROKE_FACTOR, name, {});
  const plaintext = encodeSamples(samples);
  let sealed: Uint8Array;
  try {
    sealed = sealer.seal(plaintext, associatedData(name, draft.id));
  } finally {
    wipe(plaintext);
  }
  if (sealed.length > MAX_SEALED_BYTES) {
    throw new UsageError(`the typing samples take ${sealed.length} bytes sealed, more than the ${MAX_SEALED_BYTES} stored: enrol from fewer or shorter samples`);
  }
  const record: EnrolmentRecord = { ...draft, data: { sealedTo: toHex(sealer.fileId), sealed: toBase64(sealed) } };
  const file = await saveEnrolmentRecord(home, record, { overwrite: true });
  return { profile, file, id: record.id };
}

/**
 * Opens the typing stored for the model `sealer` belongs to.
 * @returns undefined when none is stored for it.
 * @throws TamperedError when the record does not authenticate under this model's key; FormatError when it is malformed; IOError.
 */
export function openSealedTyping(home: string, sealer: ProfileSealer): FreeTextProfile | undefined {
  const name = recordName(sealer);
  if (!existsSync(keystrokeRecordPath(home, sealer))) return undefined;
  const record = loadEnrolmentRecord(home, KEYSTROKE_FACTOR, name);
  const fields = new RecordFields(record.data, 'keystroke enrolment');
  if (record.name !== name || fields.string('sealedTo') !== toHex(sealer.fileId)) throw new FormatError('the keystroke enrolment names another model than its file name');
  const plaintext = sealer.open(sealedField(record.data.sealed), associatedData(name, record.id));
  try {
    return enrolFreeText(decodeSamples(plaintext));
  } finally {
    wipe(plaintext);
  }
}

/** Removes the typing stored for the model `sealer` belongs to. @returns whether there was one. */
export function removeSealedTyping(home: string, sealer: ProfileSealer): boolean {
  if (!existsSync(keystrokeRecordPath(home, sealer))) return false;
  removeEnrolmentRecord(home, KEYSTROKE_FACTOR, recordName(sealer));
  return true;
}

/** Makes `profile` the one keystroke evidence is scored against, for as long as `sealer`'s key lives. */
export function rememberProfile(state: KeystrokeState, sealer: ProfileSealer, model: string, profile: FreeTextProfile): void {
  const id = recordName(sealer);
  const profiles = (state.profiles ??= new Map());
  state.refused?.delete(id);
  profiles.delete(id);
  profiles.set(id, { profile, model });
  sealer.onRelease(() => {
    if (profiles.get(id)?.profile === profile) profiles.delete(id);
  });
}

/** Records why the stored typing of `sealer`'s model was refused, for as long as its key lives. */
export function rememberRefusal(state: KeystrokeState, sealer: ProfileSealer, reason: string): void {
  const id = recordName(sealer);
  state.profiles?.delete(id);
  const refused = (state.refused ??= new Map());
  refused.set(id, reason);
  sealer.onRelease(() => {
    if (refused.get(id) === reason) refused.delete(id);
  });
}

/** Forgets the profile of `sealer`'s model (its enrolment was removed). */
export function forgetProfile(state: KeystrokeState, sealer: ProfileSealer): void {
  const id = recordName(sealer);
  state.profiles?.delete(id);
  state.refused?.delete(id);
}

/**
 * The profile keystroke evidence is scored against: the most recently
 * opened or enrolled one whose model is still loaded.
 * @throws UsageError when there is none, saying why a stored one was refused.
 */
export function activeProfile(state: KeystrokeState): OpenedProfile {
  const last = state.profiles && [...state.profiles.values()].at(-1);
  if (last) return last;
  const refused = state.refused && [...state.refused.values()].at(-1);
  throw new UsageError(
    refused
      ? `no typing is enrolled for the loaded models (${refused}): POST /v1/enrolments/keystroke to enrol again`
      : 'no typing is enrolled for the loaded models: POST /v1/enrolments/keystroke first',
  );
}
