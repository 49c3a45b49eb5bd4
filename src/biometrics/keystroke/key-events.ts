/**
 * Key events, the raw material of keystroke dynamics: which key, when it went
 * down and when it came up (milliseconds, any common origin), and on a touch
 * screen how hard and how wide the finger touched. Checked once here so that
 * feature extraction can trust them.
 */
import { FormatError } from '../../errors.js';

/** One key press. */
export interface KeyEvent {
  /** The key, as the client names it ("t", "Shift", "Enter"). */
  readonly key: string;
  /** Time the key went down, ms. */
  readonly down: number;
  /** Time the key came up, ms (not before `down`). */
  readonly up: number;
  /** Touch pressure as the device reports it (touch screens only). */
  readonly pressure?: number;
  /** Touch contact size as the device reports it (touch screens only). */
  readonly size?: number;
}

/** Longest sequence of events accepted in one sample (a cap on work per request). */
export const MAX_EVENTS = 10_000;

/**
 * Checks a sequence of key events: finite times, up not before down, presses
 * in the order they went down, touch values finite and not negative.
 *
 * @throws FormatError naming the first bad event
 */
export function checkKeyEvents(events: readonly KeyEvent[], minEvents = 1): void {
  if (!Array.isArray(events)) throw new FormatError('key events must be a list');
  if (events.length < minEvents) throw new FormatError(`a keystroke sample needs at least ${minEvents} key events, got ${events.length}`);
  if (events.length > MAX_EVENTS) throw new FormatError(`a keystroke sample holds at most ${MAX_EVENTS} key events, got ${events.length}`);
  let lastDown = -Infinity;
  events.forEach((e, i) => {
    const where = `key event ${i + 1}`;
    if (typeof e !== 'object' || e === null || typeof e.key !== 'string' || e.key.length === 0) throw new FormatError(`${where}: needs a key name`);
    if (!Number.isFinite(e.down) || !Number.isFinite(e.up)) throw new FormatError(`${where} (${e.key}): down and up must be finite times in ms`);
    if (e.up < e.down) throw new FormatError(`${where} (${e.key}): key comes up before it goes down`);
    if (e.down < lastDown) throw new FormatError(`${where} (${e.key}): events must be in the order keys went down`);
    for (const k of ['pressure', 'size'] as const) {
      const v = e[k];
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new FormatError(`${where} (${e.key}): ${k} must be a finite number >= 0`);
    }
    lastDown = e.down;
  });
}
