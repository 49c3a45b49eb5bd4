/**
 * Reads the failed-attempt limiter's state file (src/factors/rate-limit.ts),
 * so that tests can ask the limiter about a moment relative to the last
 * failure (an injected clock) instead of racing the real one.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** When the last failure of `key` was recorded under `home`, ms since 1970. */
export function lastFailureAt(home: string, key: string): number {
  const state = JSON.parse(readFileSync(path.join(home, 'attempts.json'), 'utf8')) as Record<string, { lastFailure: number } | undefined>;
  const entry = state[key];
  if (!entry) throw new Error(`no failure recorded for ${key}`);
  return entry.lastFailure;
}
