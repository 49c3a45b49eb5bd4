/**
 * Opening a sealed file: read and parse the header, unlock a key slot through
 * a SlotSecretProvider, then authenticate and decrypt the payload in parallel
 * straight into memory. Nothing is ever written to disk. On any failure every
 * plaintext byte decrypted so far is zeroed before the error is thrown.
 */
import { promises as fs } from 'node:fs';
import {
  FIXED_PREFIX_LENGTH,
  coreOf,
  headerLengthFromPrefix,
  parseHeader,
  type Header,
  type KeySlot,
  type SlotFactor,
} from './format.js';
import { derivePayloadKey, openSlot, verifyHeaderKey } from './keyschedule.js';
import { chunkLayout, type ChunkLayout } from './stream.js';
import { PARALLEL_THRESHOLD, processPayload } from './parallel.js';
import { nativeOps, wipeBytes } from './payload-job.js';
import { payloadDigest, verifyPayloadSignature } from './signature.js';
import { profileKeyOf, type FileBoundKey } from './sealed-bytes.js';
import { describeFsError } from '../util/atomic-file.js';
import { constantTimeEqual, wipe } from '../util/bytes.js';
import { AuthError, BiosealError, FormatError, SignatureError, TamperedError, UsageError } from '../errors.js';

/**
 * Supplies the secrets of a key slot's factors. This is the container's only
 * view of factors: it hands over (name, params) pairs and gets secrets back.
 * Implemented by src/factors.
 */
export interface SlotSecretProvider {
  /**
   * Secrets for each factor of the slot, in order, or undefined when this slot
   * cannot be tried with what the user supplied. May throw a BiosealError the
   * user must see (a rate limit, a missing device); other failures of one slot
   * should return undefined so the next slot is tried.
   */
  secretsFor(factors: readonly SlotFactor[], slotIndex: number): Promise<Uint8Array[] | undefined>;
  /** Relative cost of trying a slot (lower is tried first); default 0. */
  cost?(factors: readonly SlotFactor[]): number;
  /**
   * Why slots could not be tried (a device that was missing, refused or
   * cancelled), once every slot failed. Thrown in place of the generic
   * AuthError when no slot got as far as its key check; otherwise its message
   * is added to the AuthError's hint.
   */
  failure?(): Error | undefined;
}

/** A parsed header together with the facts about the file it came from. */
export interface SealedFileInfo {
  readonly header: Header;
  readonly headerLength: number;
  readonly fileSize: number;
  readonly layout: ChunkLayout;
}

/** The largest payload that can be opened into one buffer (Node's typed-array limit). */
export const MAX_IN_MEMORY_LENGTH = 2 ** 32;

async function openHandle(file: string): Promise<fs.FileHandle> {
  try {
    const handle = await fs.open(file, 'r');
    const st = await handle.stat();
    if (!st.isFile()) {
      await handle.close();
      throw new FormatError(`${file}: not a regular file`);
    }
    return handle;
  } catch (error) {
    if (error instanceof BiosealError) throw error;
    throw describeFsError(error, file);
  }
}

async function readAt(handle: fs.FileHandle, length: number, position: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buf.subarray(0, done);
}

/** Reads and strictly parses the header of an open file, and checks the file's length against it. */
async function readInfo(handle: fs.FileHandle, file: string): Promise<SealedFileInfo> {
  const fileSize = (await handle.stat()).size;
  const prefix = await readAt(handle, FIXED_PREFIX_LENGTH, 0);
  if (prefix.length < FIXED_PREFIX_LENGTH) {
    throw new FormatError(prefix.length === 0 ? `${file}: empty file, not a sealed file` : `${file}: too short to be a sealed file`);
  }
  const headerLength = headerLengthFromPrefix(prefix);
  const bytes = await readAt(handle, headerLength, 0);
  if (bytes.length < headerLength) throw new FormatError(`${file}: header is truncated`);
  const header = parseHeader(bytes);
  const layout = chunkLayout(Number(header.plaintextLength), header.chunkLog2);
  const expected = headerLength + layout.sealedLength;
  if (fileSize < expected) throw new TamperedError(`${file} is truncated: ${expected - fileSize} bytes of the payload are missing`);
  if (fileSize > expected) throw new TamperedError(`${file} has ${fileSize - expected} unexpected bytes after the payload`);
  return { header, headerLength, fileSize, layout };
}

/**
 * Reads and parses a sealed file's header; needs no secret.
 * @throws FormatError, TamperedError, IOError
 */
export async function readSealedInfo(file: string): Promise<SealedFileInfo> {
  const handle = await openHandle(file);
  try {
    return await readInfo(handle, file);
  } finally {
    await handle.close();
  }
}

/** The data key of a file and the slot that yielded it. */
export interface UnlockedKey {
  readonly dataKey: Uint8Array;
  readonly slotIndex: number;
}

/**
 * Tries the header's slots (cheapest first) with the provider's secrets, and
 * checks the data key against the key commitment and header MAC.
 *
 * @throws AuthError (E_AUTH) when no slot opens; the message does not say why.
 * @throws TamperedError when a slot opens but the header does not authenticate.
 */
export async function unlockHeader(header: Header, provider: SlotSecretProvider): Promise<UnlockedKey> {
  const order = header.slots
    .map((slot, index) => ({ slot, index, cost: provider.cost?.(slot.factors) ?? 0 }))
    .sort((a, b) => a.cost - b.cost || a.index - b.index);
  let keyChecked = false;
  for (const { slot, index } of order) {
    const secrets = await provider.secretsFor(slot.factors, index);
    if (secrets === undefined) continue;
    keyChecked = true;
    let dataKey: Uint8Array | undefined;
    try {
      dataKey = openSlot(slot, header.fileId, secrets);
    } finally {
      wipe(...secrets);
    }
    if (dataKey === undefined) continue;
    try {
      verifyHeaderKey(dataKey, coreOf(header), header.bytes);
    } catch (error) {
      wipe(dataKey);
      throw error;
    }
    return { dataKey, slotIndex: index };
  }
  const failure = provider.failure?.();
  if (failure && !keyChecked) throw failure;
  // One message whatever happened (nothing supplied, a wrong secret, a key
  // file that matches no slot): the hint only repeats what inspect shows,
  // plus what a device said about itself.
  const accepts = `this file accepts: ${describeSlots(header.slots)}`;
  throw new AuthError(undefined, { hint: failure ? `${accepts}; ${failure.message}` : accepts });
}

/** `keyfile | recovery & tpm` style summary of what a file's slots need. */
export function describeSlots(slots: readonly KeySlot[]): string {
  return slots.map((s) => s.factors.map((f) => f.name).join(' & ')).join(' | ');
}

export interface OpenOptions {
  /** Supplies factor secrets to unlock a slot. */
  readonly provider: SlotSecretProvider;
  /** Require a valid signature by this Ed25519 public key (32 bytes). */
  readonly publisher?: Uint8Array;
  /** Called with (plaintext bytes processed, total). */
  readonly onProgress?: (done: number, total: number) => void;
  /** Threads for the payload, the calling thread included; default one per core. */
  readonly threads?: number;
  /** Also derive the file's profile key (sealed-bytes.ts) before the data key is wiped. */
  readonly profileKey?: boolean;
}

/** A payload opened into memory. Call `release()` when done: it zeroes the bytes. */
export interface OpenedPayload {
  /**
   * The plaintext. Backed by shared memory for large payloads (pass
   * unsharedView(bytes) to consumers that refuse SharedArrayBuffer); never
   * written to disk.
   */
  readonly bytes: Uint8Array;
  readonly info: SealedFileInfo;
  /** Index of the key slot that opened the file. */
  readonly slotIndex: number;
  /** Public key of the verified publisher signature, when the file is signed. */
  readonly signer?: Uint8Array;
  /** With `profileKey: true`: the file's profile key; the caller owns it and must `release()` it. */
  readonly profileKey?: FileBoundKey;
  /** Zeroes the plaintext. Idempotent. */
  release(): void;
}

/**
 * The same bytes as a view whose buffer is a plain ArrayBuffer, for
 * consumers that refuse SharedArrayBuffer (onnxruntime-node does). Large
 * opened payloads live in shared memory; with the native backend this is an
 * alias of that memory, not a copy: no plaintext is duplicated, and
 * `release()` of the payload zeroes what the alias shows. Returns `bytes`
 * itself when it is not shared, and undefined when no alias can be made (the
 * node backend): then the caller must copy, and wipe its copy.
 */
export function unsharedView(bytes: Uint8Array): Uint8Array | undefined {
  if (!(bytes.buffer instanceof SharedArrayBuffer)) return bytes;
  if (bytes.length === 0) return new Uint8Array(0);
  const alias = nativeOps?.aliasArrayBuffer(bytes);
  return alias ? new Uint8Array(alias) : undefined;
}

/** The outcome of a successful check. */
export interface CheckResult {
  readonly info: SealedFileInfo;
  readonly slotIndex: number;
  readonly signer?: Uint8Array;
}

async function processFile(file: string, options: OpenOptions, intoMemory: boolean): Promise<OpenedPayload> {
  const handle = await openHandle(file);
  let output: Uint8Array | undefined;
  let dataKey: Uint8Array | undefined;
  let payloadKey: Uint8Array | undefined;
  let done = false;
  try {
    const info = await readInfo(handle, file);
    const { header, layout } = info;
    if (options.publisher && !header.signature) {
      throw new SignatureError(`${file} carries no publisher signature, but one is required`);
    }
    if (options.publisher && !constantTimeEqual(options.publisher, header.signature!.publicKey)) {
      throw new SignatureError(`${file} is signed by a different publisher key than the one required`);
    }
    if (intoMemory && layout.plaintextLength > MAX_IN_MEMORY_LENGTH) {
      throw new UsageError(`the model is ${layout.plaintextLength} bytes; opening into one in-memory buffer is limited to 4 GiB (check and seal work at any size)`);
    }
    const unlocked = await unlockHeader(header, options.provider);
    dataKey = unlocked.dataKey;
    payloadKey = derivePayloadKey(dataKey, header);
    const parallel = layout.plaintextLength >= PARALLEL_THRESHOLD;
    if (intoMemory) {
      output = parallel ? new Uint8Array(new SharedArrayBuffer(layout.plaintextLength)) : new Uint8Array(layout.plaintextLength);
    }
    const chunkHashes = header.signature
      ? parallel
        ? new Uint8Array(new SharedArrayBuffer(layout.chunkCount * 32))
        : new Uint8Array(layout.chunkCount * 32)
      : undefined;
    const result = await processPayload({
      fd: handle.fd,
      payloadOffset: info.headerLength,
      chunkLog2: header.chunkLog2,
      plaintextLength: layout.plaintextLength,
      chunkCount: layout.chunkCount,
      key: payloadKey,
      output,
      chunkHashes,
      threads: options.threads,
      onProgress: options.onProgress && ((n) => options.onProgress!(n, layout.plaintextLength)),
    });
    if (result.failedChunk >= 0) {
      throw new TamperedError(`${file}: chunk ${result.failedChunk} of ${layout.chunkCount} failed authentication (the payload was changed, reordered, truncated or extended)`);
    }
    if (header.signature && !verifyPayloadSignature(coreOf(header), header.signature, payloadDigest(chunkHashes!))) {
      throw new SignatureError(`${file}: the publisher signature does not verify`);
    }
    const profileKey = options.profileKey ? profileKeyOf(dataKey, header.fileId) : undefined;
    done = true;
    const bytes = output ?? new Uint8Array(0);
    return {
      bytes,
      info,
      slotIndex: unlocked.slotIndex,
      signer: header.signature?.publicKey,
      ...(profileKey && { profileKey }),
      release: () => wipeBytes(bytes),
    };
  } finally {
    wipe(dataKey, payloadKey);
    if (!done && output) wipeBytes(output);
    await handle.close();
  }
}

/**
 * Opens a sealed file into memory.
 *
 * @example
 *   const opened = await openSealedFile('model.bseal', { provider });
 *   try { use(opened.bytes); } finally { opened.release(); }
 * @throws AuthError, TamperedError, FormatError, SignatureError, IOError
 */
export function openSealedFile(file: string, options: OpenOptions): Promise<OpenedPayload> {
  return processFile(file, options, true);
}

/**
 * Authenticates every byte of a sealed file without keeping any plaintext:
 * streaming, constant memory, on every core.
 * @throws AuthError, TamperedError, FormatError, SignatureError, IOError
 */
export async function checkSealedFile(file: string, options: OpenOptions): Promise<CheckResult> {
  const r = await processFile(file, options, false);
  return { info: r.info, slotIndex: r.slotIndex, signer: r.signer };
}

/** The result of checking a signature without any secret. */
export type SignatureStatus = 'unsigned' | 'valid' | 'invalid';

/**
 * Verifies a file's publisher signature by hashing its sealed payload; needs
 * no secret (the digest covers ciphertext).
 */
export async function verifySealedSignature(file: string): Promise<{ status: SignatureStatus; publicKey?: Uint8Array }> {
  const handle = await openHandle(file);
  try {
    const info = await readInfo(handle, file);
    const sig = info.header.signature;
    if (!sig) return { status: 'unsigned' };
    const parallel = info.layout.plaintextLength >= PARALLEL_THRESHOLD;
    const chunkHashes = parallel ? new Uint8Array(new SharedArrayBuffer(info.layout.chunkCount * 32)) : new Uint8Array(info.layout.chunkCount * 32);
    await processPayload({
      fd: handle.fd,
      payloadOffset: info.headerLength,
      chunkLog2: info.header.chunkLog2,
      plaintextLength: info.layout.plaintextLength,
      chunkCount: info.layout.chunkCount,
      chunkHashes,
    });
    const ok = verifyPayloadSignature(coreOf(info.header), sig, payloadDigest(chunkHashes));
    return { status: ok ? 'valid' : 'invalid', publicKey: sig.publicKey };
  } finally {
    await handle.close();
  }
}
