/**
 * Sealing: stream a plaintext file into a new `.bseal` file with constant
 * memory. The output is written atomically (util/atomic-file.ts).
 */
import { promises as fs } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { processChunks } from './aead.js';
import {
  DEFAULT_CHUNK_LOG2,
  FILE_ID_LENGTH,
  FORMAT_VERSION,
  MAX_CHUNK_LOG2,
  MAX_PLAINTEXT_LENGTH,
  MIN_CHUNK_LOG2,
  SUITE_AES256GCM_HKDF_SHA256,
  TAG_LENGTH,
  type HeaderCore,
  type SignatureBlock,
  type SlotFactor,
} from './format.js';
import { deriveKeyCommitment, derivePayloadKey, encodeHeader, generateDataKey, makeSlot } from './keyschedule.js';
import { chunkLayout } from './stream.js';
import { payloadDigest, signPayload } from './signature.js';
import { writeFileAtomic, describeFsError } from '../util/atomic-file.js';
import { wipe } from '../util/bytes.js';
import { IOError, UsageError } from '../errors.js';

/** The material for one key slot: its factors and each factor's secret, in the same order. */
export interface SlotMaterial {
  readonly factors: readonly SlotFactor[];
  readonly secrets: readonly Uint8Array[];
}

export interface SealFileOptions {
  /** Plaintext to seal: a file path (any format, read as bytes), or bytes in memory (never written anywhere but the sealed output). */
  readonly input: string | Uint8Array;
  /** Where to write the sealed file. */
  readonly output: string;
  /** One entry per key slot; at least one. The secrets are not wiped (the caller owns them). */
  readonly slots: readonly SlotMaterial[];
  /** Replace an existing output. Default false. */
  readonly overwrite?: boolean;
  /** File mode of the output; default 0o644 (the content is encrypted). */
  readonly mode?: number;
  /** log2 of the chunk size, 12..24; default 18 (256 KiB). */
  readonly chunkLog2?: number;
  /** A publisher's 32-byte Ed25519 secret key: sign the file (§5). */
  readonly signingKey?: Uint8Array;
  /** Called with (plaintext bytes sealed so far, total). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What was written. */
export interface SealResult {
  readonly output: string;
  readonly plaintextLength: number;
  readonly sealedLength: number;
  readonly chunkCount: number;
  readonly slotCount: number;
  readonly signed: boolean;
}

const BATCH_BYTES = 8 * 1024 * 1024;

/**
 * Seals `input` into `output`.
 *
 * @example
 *   await sealFile({ input: 'model.onnx', output: 'model.bseal',
 *                    slots: [{ factors: [{ name: 'keyfile', params }], secrets: [key] }] });
 * @throws UsageError for bad options, ExistsError when output exists,
 *   IOError for unreadable input or unwritable output (nothing is left behind).
 */
export async function sealFile(options: SealFileOptions): Promise<SealResult> {
  const chunkLog2 = options.chunkLog2 ?? DEFAULT_CHUNK_LOG2;
  if (!Number.isInteger(chunkLog2) || chunkLog2 < MIN_CHUNK_LOG2 || chunkLog2 > MAX_CHUNK_LOG2) {
    throw new UsageError(`chunk size must be 2^${MIN_CHUNK_LOG2} to 2^${MAX_CHUNK_LOG2} bytes`);
  }
  if (options.slots.length === 0) throw new UsageError('at least one key slot (policy branch or recipient) is required');
  const input = await openSource(options.input, options.output);
  const dataKey = generateDataKey();
  let payloadKey: Uint8Array | undefined;
  try {
    if (BigInt(input.size) > MAX_PLAINTEXT_LENGTH) throw new UsageError('input is larger than the format allows (2^50 bytes)');
    const plaintextLength = input.size;
    const layout = chunkLayout(plaintextLength, chunkLog2);
    const fileId = new Uint8Array(randomBytes(FILE_ID_LENGTH));
    const params = { suite: SUITE_AES256GCM_HKDF_SHA256, chunkLog2, plaintextLength: BigInt(plaintextLength), fileId };
    const core: HeaderCore = {
      version: FORMAT_VERSION,
      ...params,
      keyCommitment: deriveKeyCommitment(dataKey, params),
      signed: options.signingKey !== undefined,
    };
    payloadKey = derivePayloadKey(dataKey, params);
    const slots = options.slots.map((s) => makeSlot(dataKey, fileId, s.factors, s.secrets));
    // The signature needs the payload digest, known only at the end: write a
    // placeholder header of the final length, then the real one over it.
    const placeholderSignature: SignatureBlock | undefined = core.signed
      ? { publicKey: new Uint8Array(32), payloadDigest: new Uint8Array(32), signature: new Uint8Array(64) }
      : undefined;
    const headerLength = encodeHeader(dataKey, core, slots, placeholderSignature).length;
    const key = payloadKey;

    await writeFileAtomic(
      options.output,
      async (out) => {
        const chunkSize = layout.chunkSize;
        const batchChunks = Math.max(1, Math.floor(BATCH_BYTES / chunkSize));
        const plain = new Uint8Array(batchChunks * chunkSize);
        const sealed = new Uint8Array(batchChunks * (chunkSize + TAG_LENGTH));
        const chunkHashes = core.signed ? new Uint8Array(layout.chunkCount * 32) : undefined;
        let position = headerLength;
        try {
          for (let first = 0; first < layout.chunkCount; first += batchChunks) {
            const count = Math.min(batchChunks, layout.chunkCount - first);
            const plainStart = first * chunkSize;
            const plainLength = Math.min(count * chunkSize, plaintextLength - plainStart);
            await input.read(plain.subarray(0, plainLength), plainStart);
            const sealedLength = plainLength + count * TAG_LENGTH;
            processChunks(true, key, first, layout.chunkCount - 1, chunkSize, plainLength, plain, sealed);
            if (chunkHashes) {
              for (let i = 0; i < count; i++) {
                const start = i * (chunkSize + TAG_LENGTH);
                const end = Math.min(start + chunkSize + TAG_LENGTH, sealedLength);
                chunkHashes.set(createHash('sha256').update(sealed.subarray(start, end)).digest(), (first + i) * 32);
              }
            }
            await writeAll(out, sealed.subarray(0, sealedLength), position);
            position += sealedLength;
            options.onProgress?.(plainStart + plainLength, plaintextLength);
          }
          await input.checkUnchanged();
          const signature = core.signed ? signPayload(core, payloadDigest(chunkHashes!), options.signingKey!) : undefined;
          const header = encodeHeader(dataKey, core, slots, signature);
          if (header.length !== headerLength) throw new Error('internal: header length changed');
          await writeAll(out, header, 0);
        } finally {
          wipe(plain);
        }
      },
      { overwrite: options.overwrite, mode: options.mode },
    );
    return {
      output: options.output,
      plaintextLength,
      sealedLength: headerLength + layout.sealedLength,
      chunkCount: layout.chunkCount,
      slotCount: slots.length,
      signed: core.signed,
    };
  } finally {
    wipe(dataKey, payloadKey);
    await input.close();
  }
}

/** The plaintext being sealed, from a file or from memory. */
interface Source {
  readonly size: number;
  read(into: Uint8Array, position: number): Promise<void>;
  checkUnchanged(): Promise<void>;
  close(): Promise<void>;
}

async function openSource(input: string | Uint8Array, output: string): Promise<Source> {
  if (typeof input !== 'string') {
    return {
      size: input.length,
      read: async (into, position) => into.set(input.subarray(position, position + into.length)),
      checkUnchanged: async () => undefined,
      close: async () => undefined,
    };
  }
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(input, 'r');
  } catch (error) {
    throw describeFsError(error, input);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new IOError(`${input}: not a regular file`);
    const outStat = await fs.stat(output).catch(() => undefined);
    if (outStat && outStat.ino === stat.ino && outStat.dev === stat.dev) {
      throw new UsageError('the output would overwrite the input; choose another output path');
    }
    return {
      size: stat.size,
      async read(into, position) {
        let done = 0;
        while (done < into.length) {
          const { bytesRead } = await handle.read(into, done, into.length - done, position + done);
          if (bytesRead === 0) throw new IOError(`${input} shrank while it was being sealed`);
          done += bytesRead;
        }
      },
      async checkUnchanged() {
        const after = await handle.stat();
        if (after.size !== stat.size || after.mtimeMs !== stat.mtimeMs) throw new IOError(`${input} changed while it was being sealed`);
      },
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

async function writeAll(handle: fs.FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}
