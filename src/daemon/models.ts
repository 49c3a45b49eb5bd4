/**
 * The sealed ONNX models a session holds open: each decrypted into memory by
 * the container library and handed to onnxruntime, never written to disk.
 * Releasing a model releases its inference session; bioseal's own copy of
 * the plaintext is zeroed as soon as the runtime has it.
 *
 * Each loaded model also holds its file's profile key (docs/KEYSTROKE.md),
 * which seals and opens the typing profile kept for that model; it is
 * zeroed when the model is unloaded or the session locks.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { createSealedSession } from '../operations/open.js';
import type { FileBoundKey } from '../container/sealed-bytes.js';
import type { Credentials } from '../operations/credentials.js';
import { runModel, type JsonTensors } from '../onnx/session.js';
import { ExistsError, UsageError } from '../errors.js';
import { NotFoundError } from './errors.js';
import type { PolicyResource } from '../policy/cedar/index.js';
import { MODEL_SENSITIVITIES, type ModelSensitivity } from '../policy/cedar/vocabulary.js';

/** A model as the policy sees it. */
export type ModelResource = Extract<PolicyResource, { type: 'Model' }>;

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface LoadedModelInfo {
  readonly name: string;
  readonly path: string;
  readonly loadedAt: string;
  readonly bytes: number;
  readonly slot: number;
  /** The factors of the key slot that opened it. */
  readonly factors: readonly string[];
  readonly sensitivity: ModelSensitivity;
  readonly labels: readonly string[];
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

interface LoadedModel {
  readonly info: LoadedModelInfo;
  /** What the policy sees of it: one object for the model's life, so that the gate can tell it is the same. */
  readonly resource: ModelResource;
  readonly session: InferenceSession;
  readonly profileKey: FileBoundKey;
}

/** What the profile store may do with a loaded model's file: seal and open bytes bound to it, never see the key. */
export type ProfileSealer = Pick<FileBoundKey, 'fileId' | 'name' | 'seal' | 'open' | 'released' | 'onRelease'>;

const LABEL = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** The request's optional `sensitivity` (default internal) and `labels`. */
export function checkModelClass(sensitivity: unknown, labels: unknown): { sensitivity: ModelSensitivity; labels: string[] } {
  if (sensitivity !== undefined && !(MODEL_SENSITIVITIES as readonly unknown[]).includes(sensitivity)) {
    throw new UsageError(`"sensitivity" must be one of ${MODEL_SENSITIVITIES.join(', ')}`);
  }
  if (labels !== undefined && (!Array.isArray(labels) || labels.length > 64 || !labels.every((l) => typeof l === 'string' && LABEL.test(l)))) {
    throw new UsageError('"labels" must be a list of at most 64 lower-case labels');
  }
  return { sensitivity: (sensitivity as ModelSensitivity | undefined) ?? 'internal', labels: (labels as string[] | undefined) ?? [] };
}

export function modelResource(info: LoadedModelInfo): ModelResource {
  return { type: 'Model', id: info.name, name: info.name, sensitivity: info.sensitivity, labels: info.labels };
}

export function checkModelName(name: unknown): string {
  if (typeof name !== 'string' || !MODEL_NAME.test(name)) throw new UsageError('"name" must be 1-64 letters, digits, ".", "_" or "-"');
  return name;
}

export class ModelTable {
  readonly #models = new Map<string, LoadedModel>();

  /**
   * Unlocks and loads a sealed model under `name`.
   * @throws ExistsError when the name is taken; AuthError, TamperedError, ModelError, ... from opening.
   */
  async load(name: string, path: string, credentials: Credentials, cls: { sensitivity: ModelSensitivity; labels: readonly string[] }): Promise<LoadedModelInfo> {
    if (this.#models.has(name)) throw new ExistsError(`a model named "${name}" is loaded (unload it first)`);
    const opened = await createSealedSession(path, { ...credentials, profileKey: true });
    const info: LoadedModelInfo = {
      name,
      path,
      loadedAt: new Date().toISOString(),
      bytes: opened.modelBytes,
      slot: opened.slotIndex,
      factors: opened.factors,
      sensitivity: cls.sensitivity,
      labels: [...cls.labels],
      inputs: [...opened.session.inputNames],
      outputs: [...opened.session.outputNames],
    };
    if (this.#models.has(name)) {
      // Loaded concurrently under the same name: keep the first.
      opened.profileKey!.release();
      await opened.session.release();
      throw new ExistsError(`a model named "${name}" is loaded (unload it first)`);
    }
    this.#models.set(name, { info, resource: Object.freeze(modelResource(info)), session: opened.session, profileKey: opened.profileKey! });
    return info;
  }

  list(): LoadedModelInfo[] {
    return [...this.#models.values()].map((m) => m.info);
  }

  /** @throws NotFoundError */
  info(name: string): LoadedModelInfo {
    return this.get(name).info;
  }

  /** The model as the policy sees it. @throws NotFoundError */
  resource(name: string): ModelResource {
    return this.get(name).resource;
  }

  /**
   * The profile key of the model named, or of the only loaded model when no
   * name is given.
   * @throws NotFoundError when no such model is loaded; UsageError when none is named and not exactly one is loaded.
   */
  profileSealer(name?: string): { model: string; sealer: ProfileSealer } {
    if (name !== undefined) return { model: name, sealer: this.get(name).profileKey };
    if (this.#models.size !== 1) {
      throw new UsageError(this.#models.size === 0 ? 'no model is loaded' : `${this.#models.size} models are loaded: name the one to seal to with "model"`);
    }
    const [model, m] = [...this.#models][0]!;
    return { model, sealer: m.profileKey };
  }

  /** @throws NotFoundError */
  infer(name: string, inputs: unknown): Promise<JsonTensors> {
    return runModel(this.get(name).session, inputs);
  }

  /** @throws NotFoundError */
  async unload(name: string): Promise<void> {
    const m = this.get(name);
    this.#models.delete(name);
    m.profileKey.release();
    await m.session.release();
  }

  /** Releases every model (the lock). */
  async releaseAll(): Promise<number> {
    const all = [...this.#models.values()];
    this.#models.clear();
    for (const m of all) m.profileKey.release();
    await Promise.allSettled(all.map((m) => m.session.release()));
    return all.length;
  }

  private get(name: string): LoadedModel {
    const m = this.#models.get(name);
    if (!m) throw new NotFoundError(`no model named "${name}" is loaded`);
    return m;
  }
}
