/**
 * Timings of free typing (any text): the hold time of each key press and the
 * down-down latency of each digraph (two keys typed one after the other), as
 * in Gunetti & Picardi, "Keystroke analysis of free text" (ACM TISSEC 2005).
 * Unlike a fixed phrase, samples share only some digraphs, so each timing is
 * an observation labelled by the key or key pair it belongs to.
 *
 * A latency longer than `maxLatencyMs` is a pause (thinking, reading), not a
 * digraph, and is left out.
 */
import { checkKeyEvents, type KeyEvent } from './key-events.js';

/** One observed timing: `hold k` or `dd a>b`, in ms. */
export interface TimingObservation {
  readonly feature: string;
  readonly ms: number;
}

export interface FreeTextOptions {
  /** Longest down-down latency still counted as a digraph, ms (default 1000). */
  readonly maxLatencyMs?: number;
}

export const DEFAULT_MAX_LATENCY_MS = 1000;

/** Label of a hold-time observation. */
export const holdFeature = (key: string) => `hold ${key}`;
/** Label of a digraph latency observation. */
export const digraphFeature = (a: string, b: string) => `dd ${a}>${b}`;

/**
 * The hold times and digraph latencies of a stretch of free typing, in order.
 * Key names are compared case-insensitively ("A" and "a" are one key).
 *
 * @example
 * freeTextTimings([{ key: 'h', down: 0, up: 80 }, { key: 'i', down: 150, up: 230 }])
 * // [{feature: 'hold h', ms: 80}, {feature: 'hold i', ms: 80}, {feature: 'dd h>i', ms: 150}]
 * @throws FormatError when the events are malformed
 */
export function freeTextTimings(events: readonly KeyEvent[], options: FreeTextOptions = {}): TimingObservation[] {
  checkKeyEvents(events, 1);
  const maxLatency = options.maxLatencyMs ?? DEFAULT_MAX_LATENCY_MS;
  const key = (e: KeyEvent) => e.key.toLowerCase();
  const out: TimingObservation[] = events.map((e) => ({ feature: holdFeature(key(e)), ms: e.up - e.down }));
  for (let i = 1; i < events.length; i++) {
    const ms = events[i]!.down - events[i - 1]!.down;
    if (ms <= maxLatency) out.push({ feature: digraphFeature(key(events[i - 1]!), key(events[i]!)), ms });
  }
  return out;
}
