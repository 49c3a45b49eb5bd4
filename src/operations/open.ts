/**
 * Opening sealed models: into memory, as an onnxruntime session, or just
 * checking that every byte is authentic.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { checkSealedFile, openSealedFile, unsharedView, type CheckResult, type OpenedPayload } from '../container/open.js';
import type { FileBoundKey } from '../container/sealed-bytes.js';
import { factorProvider } from '../factors/registry.js';
import { parsePublisherKey } from '../keys/publisher.js';
import { createSessionFromMemory } from '../onnx/session.js';
import { inputsFromCredentials, type Credentials } from './credentials.js';

export interface OpenModelOptions extends Credentials {
  /** Require a signature by this publisher (`biosealpub1...`, a path to a .pub file, or 32 bytes). */
  readonly publisher?: string | Uint8Array;
  readonly onProgress?: (done: number, total: number) => void;
  /** Worker threads for decryption; default one per core. */
  readonly threads?: number;
}

function openOptions(options: OpenModelOptions) {
  return {
    provider: factorProvider(inputsFromCredentials(options)),
    publisher: typeof options.publisher === 'string' ? parsePublisherKey(options.publisher) : options.publisher,
    onProgress: options.onProgress,
    threads: options.threads,
  };
}

/**
 * Opens a sealed model into memory. Call `release()` on the result to zero it.
 * @throws AuthError, TamperedError, FormatError, SignatureError, IOError
 */
export function openModel(file: string, options: OpenModelOptions = {}): Promise<OpenedPayload> {
  return openSealedFile(file, openOptions(options));
}

/**
 * Authenticates every byte of a sealed model (streaming, constant memory).
 * @throws AuthError, TamperedError, FormatError, SignatureError, IOError
 */
export function checkModel(file: string, options: OpenModelOptions = {}): Promise<CheckResult> {
  return checkSealedFile(file, openOptions(options));
}

/** An onnxruntime session made from a sealed model, and the file facts. */
export interface SealedSession {
  readonly session: InferenceSession;
  readonly slotIndex: number;
  /** The factors of the key slot that opened it (what the person presented). */
  readonly factors: readonly string[];
  readonly signer?: Uint8Array;
  readonly modelBytes: number;
  /** The file's id (16 bytes, public; a re-sealed file has another). */
  readonly fileId: Uint8Array;
  /**
   * With `profileKey: true`: the file's profile key, for data kept beside the
   * model (an enrolled typing profile). The caller owns it and must
   * `release()` it when the model is closed.
   */
  readonly profileKey?: FileBoundKey;
}

/**
 * Opens a sealed ONNX model into memory and creates the onnxruntime-node
 * session from that buffer (never from a file). The plaintext buffer is
 * zeroed as soon as the runtime has its own copy. With `profileKey: true`
 * the result also carries the file's profile key (see {@link SealedSession}).
 *
 * @example
 *   const { session } = await createSealedSession('model.bseal', { keyFiles: ['k.key'] });
 *   const out = await session.run({ input: tensor });
 * @throws AuthError, TamperedError, SignatureError, ModelError, ...
 */
export async function createSealedSession(
  file: string,
  options: OpenModelOptions & { sessionOptions?: InferenceSession.SessionOptions; profileKey?: boolean } = {},
): Promise<SealedSession> {
  const opened = await openSealedFile(file, { ...openOptions(options), profileKey: options.profileKey === true });
  const profileKey = opened.profileKey;
  // Large payloads are opened into shared memory, which onnxruntime refuses:
  // hand it an alias of the same memory (no copy), or else a copy we wipe.
  const alias = unsharedView(opened.bytes);
  const bytes = alias ?? opened.bytes.slice();
  try {
    const session = await createSessionFromMemory(bytes, options.sessionOptions);
    const factors = opened.info.header.slots[opened.slotIndex]!.factors.map((f) => f.name);
    return { session, slotIndex: opened.slotIndex, factors, signer: opened.signer, modelBytes: opened.bytes.length, fileId: opened.info.header.fileId.slice(), profileKey };
  } catch (error) {
    profileKey?.release();
    throw error;
  } finally {
    if (!alias) bytes.fill(0);
    opened.release();
  }
}
