/**
 * Adding and removing key slots. Only the header changes: the payload is
 * copied byte for byte, never re-encrypted, and the file is replaced
 * atomically, so a crash leaves the old file intact. Changing slots requires
 * unlocking the file through an existing slot (the new header must be
 * authenticated under the data key).
 */
import { promises as fs } from 'node:fs';
import { coreOf, MAX_SLOTS, type KeySlot } from './format.js';
import { encodeHeader, makeSlot } from './keyschedule.js';
import { readSealedInfo, unlockHeader, type SlotSecretProvider } from './open.js';
import type { SlotMaterial } from './seal.js';
import { describeFsError, writeFileAtomic } from '../util/atomic-file.js';
import { wipe } from '../util/bytes.js';
import { UsageError } from '../errors.js';

export interface ChangeSlotsOptions {
  /** Unlocks the file through one of its current slots. */
  readonly provider: SlotSecretProvider;
  /** New slots to append. */
  readonly add?: readonly SlotMaterial[];
  /** Indices (as listed by inspect, from 0) of slots to remove. */
  readonly remove?: readonly number[];
}

export interface ChangeSlotsResult {
  readonly slots: readonly KeySlot[];
  /** Slot that unlocked the file for the change. */
  readonly unlockedWith: number;
}

const COPY_BYTES = 8 * 1024 * 1024;

/**
 * Rewrites the key slots of a sealed file in place (atomically).
 * @throws UsageError when the change would leave no slot, too many slots or names a missing slot;
 *   AuthError when the file cannot be unlocked; IOError on file-system failure.
 */
export async function changeSlots(file: string, options: ChangeSlotsOptions): Promise<ChangeSlotsResult> {
  const info = await readSealedInfo(file);
  const { header } = info;
  const remove = new Set(options.remove ?? []);
  for (const i of remove) {
    if (!Number.isInteger(i) || i < 0 || i >= header.slots.length) {
      throw new UsageError(`there is no key slot ${i}; this file has slots 0 to ${header.slots.length - 1}`);
    }
  }
  const kept = header.slots.filter((_, i) => !remove.has(i));
  const total = kept.length + (options.add?.length ?? 0);
  if (total === 0) throw new UsageError('refusing to remove the last key slot: the file could never be opened again');
  if (total > MAX_SLOTS) throw new UsageError(`a file holds at most ${MAX_SLOTS} key slots`);

  const { dataKey, slotIndex } = await unlockHeader(header, options.provider);
  try {
    const added = (options.add ?? []).map((m) => makeSlot(dataKey, header.fileId, m.factors, m.secrets));
    const slots = [...kept, ...added];
    const newHeader = encodeHeader(dataKey, coreOf(header), slots, header.signature);
    let mode = 0o644;
    try {
      mode = (await fs.stat(file)).mode & 0o777;
    } catch (error) {
      throw describeFsError(error, file);
    }
    const source = await fs.open(file, 'r').catch((error: unknown) => {
      throw describeFsError(error, file);
    });
    try {
      await writeFileAtomic(
        file,
        async (out) => {
          await out.write(newHeader, 0, newHeader.length, 0);
          const buf = new Uint8Array(COPY_BYTES);
          let from = info.headerLength;
          let to = newHeader.length;
          while (from < info.fileSize) {
            const { bytesRead } = await source.read(buf, 0, Math.min(buf.length, info.fileSize - from), from);
            if (bytesRead === 0) throw new Error(`${file} shrank while its slots were being changed`);
            let written = 0;
            while (written < bytesRead) {
              written += (await out.write(buf, written, bytesRead - written, to + written)).bytesWritten;
            }
            from += bytesRead;
            to += bytesRead;
          }
        },
        { overwrite: true, mode },
      );
    } finally {
      await source.close();
    }
    return { slots, unlockedWith: slotIndex };
  } finally {
    wipe(dataKey);
  }
}
