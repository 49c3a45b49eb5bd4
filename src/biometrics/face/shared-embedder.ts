/**
 * The default face engine, loaded once per process and shared by every
 * caller (CLI commands, the daemon): loading the models takes about a second.
 */
import type { FaceEmbedder } from './embedder.js';

let shared: Promise<FaceEmbedder> | undefined;

/** The default face model, loaded on first use. A failed load is retried on the next call. */
export function sharedEmbedder(): Promise<FaceEmbedder> {
  shared ??= import('./human.js')
    .then((m) => m.HumanEmbedder.create())
    .catch((error: unknown) => {
      shared = undefined;
      throw error;
    });
  return shared;
}
