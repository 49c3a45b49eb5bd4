/**
 * What a client sends to the aggregation server, and the checks every update
 * passes before it may touch the aggregate: the right length, only finite
 * numbers, a norm under a sanity cap, a positive sample count, one update per
 * client. An update that fails is refused with its own typed error and is
 * left out entirely; the rules never see it.
 */
import { FormatError } from '../errors.js';
import { l2Norm, type Vector } from './_vector.js';

/** One client's contribution to a round. */
export interface ClientUpdate {
  /** Who sent it (a device id); refusals and selections name clients by it. */
  readonly client: string;
  /** The model delta: the client's locally trained model minus the global model it started from. */
  readonly delta: Vector;
  /** How many local samples the client trained on (FedAvg's weight). */
  readonly samples: number;
}

/** Why an update was refused. */
export type RefusalReason = 'wrong-length' | 'non-finite' | 'norm-too-large' | 'bad-sample-count' | 'duplicate-client';

/** An update that was refused before aggregation (code E_FORMAT). */
export class UpdateRefusedError extends FormatError {
  readonly client: string;
  readonly reason: RefusalReason;
  constructor(client: string, reason: RefusalReason, message: string) {
    super(`update from client ${client} refused: ${message}`);
    this.client = client;
    this.reason = reason;
  }
}

/** What every update must satisfy. */
export interface UpdateLimits {
  /** The model's parameter count; every delta must have exactly this length. */
  readonly dimensions: number;
  /**
   * Largest L2 norm accepted at all (default 1e6). A sanity cap against
   * overflowing or garbage updates, far above honest ones; bounding the
   * influence of large but plausible updates is the job of clipping.
   */
  readonly maxNorm?: number;
}

/** Default {@link UpdateLimits.maxNorm}. */
export const DEFAULT_MAX_NORM = 1e6;

/**
 * Checks one update.
 *
 * @throws {UpdateRefusedError} with the reason it cannot be aggregated
 * @example checkUpdate({ client: 'd1', delta: new Float32Array(3), samples: 10 }, { dimensions: 3 })
 */
export function checkUpdate(update: ClientUpdate, limits: UpdateLimits): void {
  const { client, delta, samples } = update;
  if (!(delta instanceof Float32Array || delta instanceof Float64Array)) {
    throw new UpdateRefusedError(client, 'wrong-length', 'the update is not a Float32Array or Float64Array');
  }
  if (delta.length !== limits.dimensions) {
    throw new UpdateRefusedError(client, 'wrong-length', `${delta.length} values where the model has ${limits.dimensions}`);
  }
  for (let i = 0; i < delta.length; i++) {
    if (!Number.isFinite(delta[i])) throw new UpdateRefusedError(client, 'non-finite', `value ${i} is ${delta[i]}`);
  }
  if (!Number.isSafeInteger(samples) || samples < 1) {
    throw new UpdateRefusedError(client, 'bad-sample-count', `sample count ${samples} is not a positive integer`);
  }
  const norm = l2Norm(delta);
  const maxNorm = limits.maxNorm ?? DEFAULT_MAX_NORM;
  // A Float32Array of finite values can still have an infinite norm.
  if (!(norm <= maxNorm)) throw new UpdateRefusedError(client, 'norm-too-large', `norm ${norm.toPrecision(3)} is above the limit ${maxNorm}`);
}

/**
 * Splits a round's updates into those that may be aggregated and refusals,
 * one per refused update. Only a client's first update counts, accepted or not.
 */
export function screenUpdates(updates: readonly ClientUpdate[], limits: UpdateLimits): { accepted: ClientUpdate[]; refused: UpdateRefusedError[] } {
  const accepted: ClientUpdate[] = [];
  const refused: UpdateRefusedError[] = [];
  const seen = new Set<string>();
  for (const u of updates) {
    try {
      if (seen.has(u.client)) throw new UpdateRefusedError(u.client, 'duplicate-client', 'the client already sent an update this round');
      seen.add(u.client);
      checkUpdate(u, limits);
      accepted.push(u);
    } catch (error) {
      if (!(error instanceof UpdateRefusedError)) throw error;
      refused.push(error);
    }
  }
  return { accepted, refused };
}
