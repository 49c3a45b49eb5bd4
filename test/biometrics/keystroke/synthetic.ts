/**
 * Synthetic typists for keystroke tests: each has their own typical hold
 * times, flight times, touch pressure and contact size per key, and types
 * with log-normal variation around them, as real typing varies.
 */
import { seededRandom } from '../../../src/eval/metrics.js';
import { phraseFeatures, type KeyEvent } from '../../../src/biometrics/keystroke/index.js';
import { MEU_FEATURE_COLUMNS } from '../../../src/eval/keystroke-eval.js';

/** The keys of MEU-Mobile KSD's phrase ".tie5Roanl" as its columns name them. */
export const MEU_KEYS = ['.', 't', 'i', 'e', 'Shift', '5', 'Shift', 'Caps', 'r', 'o', 'a', 'n', 'l', 'Enter'];

export interface Typist {
  /** Types a sequence of keys once. */
  type(keys: readonly string[]): KeyEvent[];
}

/** A standard normal deviate (Box-Muller). */
function gaussian(rnd: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}

/**
 * A typist whose per-key and per-digraph habits are drawn from `seed`;
 * `noise` is the spread of one typing around those habits (log scale).
 */
export function makeTypist(seed: number, options: { noise?: number; touch?: boolean } = {}): Typist {
  const habits = seededRandom(seed * 7919 + 1);
  const noiseRnd = seededRandom(seed * 104729 + 7);
  const noise = options.noise ?? 0.15;
  const cache = new Map<string, number>();
  const habit = (name: string, centre: number, spread: number) => {
    if (!cache.has(name)) cache.set(name, centre + spread * gaussian(habits));
    return cache.get(name)!;
  };
  const vary = (logMean: number) => Math.exp(logMean + noise * gaussian(noiseRnd));
  return {
    type(keys) {
      const events: KeyEvent[] = [];
      let t = 1000;
      keys.forEach((key, i) => {
        if (i > 0) t = events[i - 1]!.up + vary(habit(`flight ${keys[i - 1]}>${key}`, Math.log(180), 0.5));
        const hold = vary(habit(`hold ${key}`, Math.log(90), 0.3));
        const touch = options.touch ? { pressure: vary(habit(`pressure ${key}`, Math.log(0.2), 0.4)), size: vary(habit(`size ${key}`, Math.log(0.3), 0.3)) } : {};
        events.push({ key, down: t, up: t + hold, ...touch });
      });
      return events;
    },
  };
}

/** Random text made of a small alphabet, so digraphs repeat. */
export function randomText(seed: number, length: number, alphabet = 'etaoinshr '): string[] {
  const rnd = seededRandom(seed);
  return Array.from({ length }, () => alphabet[Math.floor(rnd() * alphabet.length)]!);
}

/** A CSV in the MEU-Mobile KSD layout, typed by synthetic typists. */
export function meuCsv(subjects: number, repetitions: number, noise = 0.15): string {
  const rows = [['Subject', ...MEU_FEATURE_COLUMNS].join(',')];
  for (let s = 1; s <= subjects; s++) {
    const t = makeTypist(s, { touch: true, noise });
    for (let r = 0; r < repetitions; r++) rows.push([String(s), ...phraseFeatures(t.type(MEU_KEYS)).values].join(','));
  }
  return rows.join('\n') + '\n';
}

