/**
 * Cohort means: the average embedding of many people, per face model.
 * Subtracting it before comparing removes the part every face shares (some
 * models output only non-negative values, so strangers look alike), which
 * lowers impostor scores. A mean is computed once from people who are never
 * the ones being compared (see scripts/face-cohort.mjs) and shipped here.
 */
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export interface Cohort {
  /** Recorded in enrolments: a template only matches embeddings centred on the same mean. */
  readonly id: string;
  readonly mean: Float32Array;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** Shipped cohort files live beside the sources, in the package's data folder. */
const DATA_DIR = path.join(here, '..', '..', '..', '..', 'data', 'cohorts');

const cache = new Map<string, (Cohort & { people: string[] }) | undefined>();

/** The shipped cohort mean for an embedder, or undefined when none is shipped. */
export function cohortFor(embedder: string): Cohort | undefined {
  if (cache.has(embedder)) return cache.get(embedder);
  const file = path.join(DATA_DIR, `${embedder}.json`);
  let cohort: (Cohort & { people: string[] }) | undefined;
  if (existsSync(file)) {
    const o = JSON.parse(readFileSync(file, 'utf8')) as { id: string; mean: number[]; people?: string[] };
    cohort = { id: o.id, mean: Float32Array.from(o.mean), people: o.people ?? [] };
  }
  cache.set(embedder, cohort);
  return cohort;
}

/** The people (dataset folder names) a shipped cohort mean was computed from: evaluations leave them out. */
export function cohortPeople(embedder: string): string[] {
  cohortFor(embedder);
  return cache.get(embedder)?.people ?? [];
}
