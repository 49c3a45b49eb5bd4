/**
 * The sealed ONNX models a session holds open: each decrypted into memory by
 * the container library and handed to onnxruntime, never written to disk.
 * Releasing a model releases its inference session; bioseal's own copy of
 * the plaintext is zeroed as soon as the runtime has it.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { createSealedSession } from '../operations/open.js';
import type { Credentials } from '../operations/credentials.js';
import { runModel, type JsonTensors } from '../onnx/session.js';
import { ExistsError, UsageError } from '../errors.js';
import { NotFoundError } from './errors.js';

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface LoadedModelInfo {
  readonly name: string;
  readonly path: string;
  readonly loadedAt: string;
  readonly bytes: number;
  readonly slot: number;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

interface LoadedModel {
  readonly info: LoadedModelInfo;
  readonly session: InferenceSession;
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
  async load(name: string, path: string, credentials: Credentials): Promise<LoadedModelInfo> {
    if (this.#models.has(name)) throw new ExistsError(`a model named "${name}" is loaded (unload it first)`);
    const opened = await createSealedSession(path, credentials);
    const info: LoadedModelInfo = {
      name,
      path,
      loadedAt: new Date().toISOString(),
      bytes: opened.modelBytes,
      slot: opened.slotIndex,
      inputs: [...opened.session.inputNames],
      outputs: [...opened.session.outputNames],
    };
    if (this.#models.has(name)) {
      // Loaded concurrently under the same name: keep the first.
      await opened.session.release();
      throw new ExistsError(`a model named "${name}" is loaded (unload it first)`);
    }
    this.#models.set(name, { info, session: opened.session });
    return info;
  }

  list(): LoadedModelInfo[] {
    return [...this.#models.values()].map((m) => m.info);
  }

  /** @throws NotFoundError */
  infer(name: string, inputs: unknown): Promise<JsonTensors> {
    return runModel(this.get(name).session, inputs);
  }

  /** @throws NotFoundError */
  async unload(name: string): Promise<void> {
    const m = this.get(name);
    this.#models.delete(name);
    await m.session.release();
  }

  /** Releases every model (the lock). */
  async releaseAll(): Promise<number> {
    const all = [...this.#models.values()];
    this.#models.clear();
    await Promise.allSettled(all.map((m) => m.session.release()));
    return all.length;
  }

  private get(name: string): LoadedModel {
    const m = this.#models.get(name);
    if (!m) throw new NotFoundError(`no model named "${name}" is loaded`);
    return m;
  }
}
