/**
 * AES-256-GCM over many STREAM chunks per call (docs/FORMAT.md §4).
 *
 * Two interchangeable backends with the same semantics:
 * - `native`: native/aead.c, which calls the OpenSSL that Node itself links
 *   (EVP_aes_256_gcm) on caller-owned buffers, decrypting in place. It runs at
 *   OpenSSL speed because nothing is allocated per chunk.
 * - `node`: node:crypto's Cipheriv/Decipheriv, one object per chunk, copying
 *   each result into place. Used when the native part is not built, or when
 *   BIOSEAL_AEAD=node asks for it.
 * Tests check that both produce and accept exactly the same bytes.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { streamNonce } from './stream.js';
import { TAG_LENGTH } from './format.js';

/**
 * Encrypts or decrypts the chunks `first .. first+n-1` of a payload whose
 * final chunk is `last`. Decrypting, `src` holds ciphertext||tag per chunk and
 * plaintext goes to `dst`; encrypting, the reverse. `plainLength` is the
 * number of plaintext bytes the batch covers.
 *
 * @returns -1 on success, else the batch-relative index of the first chunk
 *   that failed authentication; in that case `dst` has been zeroed.
 */
export type ProcessChunks = (
  encrypt: boolean,
  key: Uint8Array,
  first: number,
  last: number,
  chunkSize: number,
  plainLength: number,
  src: Uint8Array,
  dst: Uint8Array,
) => number;

const processChunksNode: ProcessChunks = (encrypt, key, first, last, chunkSize, plainLength, src, dst) => {
  const n = plainLength === 0 ? 1 : Math.ceil(plainLength / chunkSize);
  for (let i = 0; i < n; i++) {
    const counter = first + i;
    const len = i === n - 1 ? plainLength - i * chunkSize : chunkSize;
    const nonce = streamNonce(counter, counter === last);
    const sealedAt = i * (chunkSize + TAG_LENGTH);
    const plainAt = i * chunkSize;
    if (encrypt) {
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      dst.set(cipher.update(src.subarray(plainAt, plainAt + len)), sealedAt);
      cipher.final();
      dst.set(cipher.getAuthTag(), sealedAt + len);
    } else {
      const decipher = createDecipheriv('aes-256-gcm', key, nonce);
      decipher.setAuthTag(src.subarray(sealedAt + len, sealedAt + len + TAG_LENGTH));
      const out = decipher.update(src.subarray(sealedAt, sealedAt + len));
      try {
        decipher.final();
      } catch {
        out.fill(0);
        dst.subarray(0, plainLength).fill(0);
        return i;
      }
      dst.set(out, plainAt);
      out.fill(0);
    }
  }
  return -1;
};

export type AeadBackendName = 'native' | 'node';

function loadNative(): ProcessChunks | undefined {
  try {
    const here = path.dirname(fileURLToPath(import.meta.url));
    // dist/src/container -> package root
    const addon = createRequire(import.meta.url)(path.join(here, '..', '..', '..', 'native', 'build', 'Release', 'bioseal_aead.node')) as {
      processChunks: ProcessChunks;
    };
    return addon.processChunks;
  } catch {
    return undefined;
  }
}

const native = process.env.BIOSEAL_AEAD === 'node' ? undefined : loadNative();

/** The backend in use: `native` when the OpenSSL binding is built, else `node`. */
export const aeadBackend: AeadBackendName = native ? 'native' : 'node';

/** The chunk function of the active backend. */
export const processChunks: ProcessChunks = native ?? processChunksNode;

/** Both backends, for tests and the benchmark. */
export const aeadBackends: Readonly<Partial<Record<AeadBackendName, ProcessChunks>>> = native
  ? { native, node: processChunksNode }
  : { node: processChunksNode };
