/**
 * What the fleet service does with ciphertexts (src/he): check every upload
 * in full before it is stored, and compute 1:1 scores and 1:N searches with
 * the evaluation keys a device registered. It holds no secret key and has
 * nowhere to put one: evaluation keys, templates, probes, queries and gallery
 * groups are each read as their own envelope kind, and a secret key is none
 * of them.
 *
 * Loaded evaluation keys are kept for the most recently used devices (they
 * are megabytes to fetch and take 10-20 ms to check and load); a device's
 * keys never change after registration. Every SEAL object made for a request
 * is freed before the answer goes out.
 */
import { FormatError, UsageError } from '../errors.js';
import { HeContext, HeKind, HeMatcher, readEncrypted, readEvaluationKeys, type Encrypted, type EvaluationKeys } from '../he/index.js';
import type { GalleryGroupRecord } from './store/index.js';

/** Fetches a registered device's evaluation keys envelope. */
export type EvaluationKeyLoader = (deviceId: string) => Promise<Uint8Array | undefined>;

/** Devices whose loaded evaluation keys are kept. */
const KEY_CACHE_SIZE = 32;

/** A search answer: one encrypted result per gallery group. */
export interface GroupScores {
  readonly seq: number;
  readonly labels: readonly string[];
  /** The encrypted searchScores envelope (only the key holder can read it). */
  readonly scores: Uint8Array;
}

function asFormatError(error: unknown): never {
  if (error instanceof RangeError) throw new FormatError(error.message);
  throw error;
}

function disposeAll(objects: readonly { dispose(): void }[]): void {
  for (const o of objects) o.dispose();
}

export class EncryptedMatching {
  private readonly keys = new Map<string, EvaluationKeys>();

  private constructor(
    readonly ctx: HeContext,
    private readonly load: EvaluationKeyLoader,
  ) {}

  /** Loads SEAL and the parameter set; `load` fetches a device's keys when they are not loaded. */
  static async create(load: EvaluationKeyLoader): Promise<EncryptedMatching> {
    return new EncryptedMatching(await HeContext.create(), load);
  }

  /** The parameter set's fingerprint, stored beside every object. */
  get fingerprint(): Uint8Array {
    return this.ctx.fingerprint;
  }

  /**
   * Checks a device's evaluation keys in full.
   * @returns whether they enable 1:N search.
   * @throws FormatError for anything but evaluation keys of this parameter set (a secret key included).
   */
  checkEvaluationKeys(bytes: Uint8Array): { search: boolean } {
    const keys = readEvaluationKeys(this.ctx, bytes);
    try {
      return { search: keys.searchChunk !== null };
    } finally {
      keys.dispose();
    }
  }

  /** Checks a template for 1:1 enrolment. @throws FormatError */
  checkTemplate(bytes: Uint8Array): { dims: number } {
    const template = readEncrypted(this.ctx, bytes, HeKind.matchVector);
    try {
      return { dims: template.dims };
    } finally {
      template.dispose();
    }
  }

  /**
   * The encrypted score of `probe` against the stored `template`, for the device's key.
   * @throws FormatError for a malformed probe, or dimensions other than the template's.
   */
  async match(deviceId: string, probe: Uint8Array, template: Uint8Array): Promise<Uint8Array> {
    const matcher = new HeMatcher(await this.keysOf(deviceId));
    const objects: Encrypted[] = [];
    try {
      const p = readEncrypted(this.ctx, probe, HeKind.matchVector);
      objects.push(p);
      const t = readEncrypted(this.ctx, template, HeKind.matchVector);
      objects.push(t);
      return matcher.match(p, t).toBytesAndDispose();
    } catch (error) {
      return asFormatError(error);
    } finally {
      disposeAll(objects);
    }
  }

  /**
   * Checks a gallery group for `holder`'s gallery.
   * @returns the number of templates it packs.
   * @throws UsageError when the holder's keys do not enable search; FormatError for a malformed group or another layout.
   */
  async checkGalleryGroup(holderId: string, bytes: Uint8Array): Promise<{ count: number }> {
    const keys = await this.searchKeysOf(holderId);
    const group = readEncrypted(this.ctx, bytes, HeKind.galleryGroup);
    try {
      if (group.chunk !== keys.searchChunk) throw new FormatError(`the gallery group is packed with chunk ${group.chunk}, the key holder's keys with ${keys.searchChunk}`);
      return { count: group.count };
    } finally {
      group.dispose();
    }
  }

  /**
   * Runs `query` against each of the holder's gallery groups.
   * @throws UsageError when the holder's keys do not enable search; FormatError for a malformed query or one of another layout.
   */
  async search(holderId: string, query: Uint8Array, groups: readonly GalleryGroupRecord[]): Promise<GroupScores[]> {
    const matcher = new HeMatcher(await this.searchKeysOf(holderId));
    const objects: Encrypted[] = [];
    try {
      const q = readEncrypted(this.ctx, query, HeKind.searchQuery);
      objects.push(q);
      const loaded = groups.map((g) => {
        const group = readEncrypted(this.ctx, g.group, HeKind.galleryGroup);
        objects.push(group);
        return group;
      });
      const results = matcher.search(q, loaded);
      objects.push(...results);
      return results.map((r, i) => ({ seq: groups[i]!.seq, labels: groups[i]!.labels, scores: r.toBytes() }));
    } catch (error) {
      return asFormatError(error);
    } finally {
      disposeAll(objects);
    }
  }

  /** Forgets a device's loaded keys (after revocation). */
  forget(deviceId: string): void {
    this.keys.get(deviceId)?.dispose();
    this.keys.delete(deviceId);
  }

  /** Frees every SEAL object. */
  dispose(): void {
    for (const id of [...this.keys.keys()]) this.forget(id);
    this.ctx.dispose();
  }

  private async searchKeysOf(holderId: string): Promise<EvaluationKeys> {
    const keys = await this.keysOf(holderId);
    if (keys.searchChunk === null) throw new UsageError(`device "${holderId}" registered keys without 1:N search: it holds no gallery`);
    return keys;
  }

  /**
   * A device's loaded keys. The caller uses them before its next await:
   * only then may another request's load evict (and free) them. Between the
   * cache check and the return there is at most the fetch, after which the
   * cache is checked again.
   */
  private async keysOf(deviceId: string): Promise<EvaluationKeys> {
    const bytes = this.keys.has(deviceId) ? undefined : await this.load(deviceId);
    let keys = this.keys.get(deviceId);
    if (keys) {
      // Most recently used last.
      this.keys.delete(deviceId);
    } else {
      if (bytes === undefined) throw new UsageError(`no device "${deviceId}" is registered`);
      keys = readEvaluationKeys(this.ctx, bytes);
      if (this.keys.size >= KEY_CACHE_SIZE) this.forget(this.keys.keys().next().value!);
    }
    this.keys.set(deviceId, keys);
    return keys;
  }
}
