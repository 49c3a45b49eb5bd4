/**
 * What the daemon writes to the audit log (src/audit). Unlocks, locks,
 * denials, enrolment changes and large trust changes are appended at once;
 * allowed inference decisions, which come with every call, are counted:
 * every call with the same decision (model, transport, policies, reason)
 * becomes one entry with the number of calls and the times of the first and
 * the last, appended within `flushMs`, before any immediate event (so a
 * lock's entry always follows the calls allowed before it), when the audit
 * log is read, and when the daemon stops. An entry costs tens of
 * microseconds and each append a signed head and an fsync: per call that
 * would cost more than the inference of a small model.
 */
import type { AuditEvent, AuditLog } from '../audit/index.js';
import { MAX_BATCH } from '../audit/index.js';

/** Calls counted under one key since the last flush. */
interface Tally {
  readonly event: AuditEvent;
  count: number;
  readonly first: number;
  last: number;
}

export class AuditTrail {
  readonly #queue: AuditEvent[] = [];
  readonly #tallies = new Map<string, Tally>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: AuditLog,
    /** Counted calls are appended within this many milliseconds. */
    readonly flushMs = 5000,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** Appends now (with anything queued before it, in order). */
  record(event: AuditEvent): void {
    this.#queue.push(event);
    this.flush();
  }

  /**
   * Counts one more call under `key` at `at` (ms); `event` makes its entry
   * on the first call of the key since the last flush. The entry, appended
   * within `flushMs`, carries `calls`, `first` and `last` in its details.
   */
  tally(key: string, at: number, event: () => AuditEvent): void {
    const t = this.#tallies.get(key);
    if (t) {
      t.count++;
      t.last = at;
      return;
    }
    this.#tallies.set(key, { event: event(), count: 1, first: at, last: at });
    if (!this.#timer) {
      this.#timer = setTimeout(() => this.flush(), this.flushMs);
      this.#timer.unref();
    }
  }

  /** Appends everything queued and counted, in order. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#tallies.size) {
      // Counted calls all happened before anything queued since: they go first.
      const counted = [...this.#tallies.values()].map(({ event, count, first, last }) => ({
        ...event,
        details: { ...event.details, calls: count, first: new Date(first).toISOString(), last: new Date(last).toISOString() },
      }));
      this.#tallies.clear();
      this.#queue.unshift(...counted);
    }
    while (this.#queue.length) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      try {
        this.log.appendBatch(batch);
      } catch (error) {
        this.onError(error);
      }
    }
  }

  close(): void {
    this.flush();
    this.log.close();
  }
}
