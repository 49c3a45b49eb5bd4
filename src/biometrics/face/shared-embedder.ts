/**
 * The default face engine, loaded once per process and shared by every
 * caller (CLI commands, the daemon): loading the models takes about a second.
 *
 * Two engines run Human's face models and describe a face identically
 * (same landmarks, scores and `faceres-aligned` embedding, measured in
 * docs/FACE.md): `ort` (OrtFaceEmbedder, every model on onnxruntime; the
 * default, several times faster) and `human` (HumanEmbedder, Human on tfjs
 * WASM). `BIOSEAL_FACE_ENGINE=human` selects the latter.
 */
import { UsageError } from '../../errors.js';
import type { FaceEmbedder } from './embedder.js';

/** The face engines `BIOSEAL_FACE_ENGINE` can name. */
export const FACE_ENGINES = ['ort', 'human'] as const;
export type FaceEngine = (typeof FACE_ENGINES)[number];

/**
 * The engine `BIOSEAL_FACE_ENGINE` names (default `ort`).
 * @throws {UsageError} for an unknown name
 */
export function faceEngineFromEnv(env: NodeJS.ProcessEnv = process.env): FaceEngine {
  const name = env['BIOSEAL_FACE_ENGINE'] || 'ort';
  if (!(FACE_ENGINES as readonly string[]).includes(name)) throw new UsageError(`BIOSEAL_FACE_ENGINE must be one of ${FACE_ENGINES.join(', ')}; it is "${name}"`);
  return name as FaceEngine;
}

/** Loads a face engine with its default options. */
export async function createFaceEngine(engine: FaceEngine): Promise<FaceEmbedder> {
  if (engine === 'human') return (await import('./human.js')).HumanEmbedder.create();
  return (await import('./ort/embedder.js')).OrtFaceEmbedder.create();
}

let shared: Promise<FaceEmbedder> | undefined;

/** The default face model, loaded on first use. A failed load is retried on the next call. */
export function sharedEmbedder(): Promise<FaceEmbedder> {
  shared ??= Promise.resolve()
    .then(() => createFaceEngine(faceEngineFromEnv()))
    .catch((error: unknown) => {
      shared = undefined;
      throw error;
    });
  return shared;
}
