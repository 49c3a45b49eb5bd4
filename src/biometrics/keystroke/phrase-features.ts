/**
 * Features of one typing of a fixed phrase (a password, a pass-phrase), in
 * the layout of the CMU benchmark (Killourhy & Maxion, DSN 2009) and of
 * MEU-Mobile KSD (Al-Obaidi & Al-Jarrah, 2016):
 *
 * - `Hold k`: how long key k was held (up − down), one per key;
 * - `DD a.b`: down-down latency from key a to the next key b;
 * - `UD a.b`: up-down latency, from a coming up to b going down (negative
 *   when the keys overlap);
 * - on a touch screen, when every event carries them: `Pressure k`, `Size k`
 *   per key, then the averages `AvH` (hold), `AvP` (pressure), `AvA` (size).
 *
 * A phrase of K keys gives 3K − 2 timing features, and 5K + 1 with touch.
 */
import { checkKeyEvents, type KeyEvent } from './key-events.js';

/** Named feature values of one sample. */
export interface PhraseFeatures {
  readonly names: readonly string[];
  readonly values: readonly number[];
}

/**
 * Extracts the features of one typing of a phrase.
 *
 * @example
 * phraseFeatures([{ key: 'a', down: 0, up: 90 }, { key: 'b', down: 200, up: 280 }])
 * // names: Hold a, Hold b, DD a.b, UD a.b   values: 90, 80, 200, 110
 * @throws FormatError when the events are malformed or fewer than two
 */
export function phraseFeatures(events: readonly KeyEvent[]): PhraseFeatures {
  checkKeyEvents(events, 2);
  const names: string[] = [];
  const values: number[] = [];
  const push = (name: string, value: number) => {
    names.push(name);
    values.push(value);
  };
  for (const e of events) push(`Hold ${e.key}`, e.up - e.down);
  for (let i = 1; i < events.length; i++) push(`DD ${events[i - 1]!.key}.${events[i]!.key}`, events[i]!.down - events[i - 1]!.down);
  for (let i = 1; i < events.length; i++) push(`UD ${events[i - 1]!.key}.${events[i]!.key}`, events[i]!.down - events[i - 1]!.up);
  if (events.every((e) => e.pressure !== undefined && e.size !== undefined)) {
    for (const e of events) push(`Pressure ${e.key}`, e.pressure!);
    for (const e of events) push(`Size ${e.key}`, e.size!);
    const mean = (f: (e: KeyEvent) => number) => events.reduce((s, e) => s + f(e), 0) / events.length;
    push('AvH', mean((e) => e.up - e.down));
    push('AvP', mean((e) => e.pressure!));
    push('AvA', mean((e) => e.size!));
  }
  return { names, values };
}
