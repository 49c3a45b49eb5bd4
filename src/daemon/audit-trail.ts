/**
 * What the daemon writes to the audit log (src/audit). Unlocks, locks,
 * denials, enrolment changes and large trust changes are appended at once;
 * allowed inference decisions, which come with every call, are queued and
 * appended in batches (one signed head per batch) so that the log does not
 * cost each call an fsync. The queue is flushed within `flushMs`, when it
 * is full, before any immediate event, and when the daemon stops.
 */
import type { AuditEvent, AuditLog } from '../audit/index.js';
import { MAX_BATCH } from '../audit/index.js';

export class AuditTrail {
  readonly #queue: AuditEvent[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: AuditLog,
    private readonly flushMs = 200,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** Appends now (with anything queued before it, in order). */
  record(event: AuditEvent): void {
    this.#queue.push(event);
    this.flush();
  }

  /** Appends within `flushMs` (or sooner, when the queue fills). */
  queue(event: AuditEvent): void {
    this.#queue.push(event);
    if (this.#queue.length >= MAX_BATCH) this.flush();
    else if (!this.#timer) {
      this.#timer = setTimeout(() => this.flush(), this.flushMs);
      this.#timer.unref();
    }
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
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
