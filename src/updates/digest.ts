/**
 * The whole-file SHA-256 a manifest names, computed when signing, and the
 * verified copy a device installs: the bytes are hashed as they are written,
 * so what lands under $BIOSEAL_HOME is exactly what matched the manifest,
 * even if the source file changes while it is read.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { describeFsError, writeFileAtomic } from '../util/atomic-file.js';
import { BiosealError, DigestError } from '../errors.js';
import type { ManifestFile } from './manifest.js';

const BLOCK = 1024 * 1024;

async function openSource(file: string): Promise<fs.FileHandle> {
  try {
    const handle = await fs.open(file, 'r');
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      throw describeFsError(Object.assign(new Error('not a regular file'), { code: 'EISDIR' }), file);
    }
    return handle;
  } catch (error) {
    if (error instanceof BiosealError) throw error;
    throw describeFsError(error, file);
  }
}

/**
 * Streams a file through SHA-256, handing each block to `sink`.
 * @returns the byte count and the hex digest.
 */
async function hashFile(file: string, sink?: (block: Uint8Array) => Promise<void>): Promise<{ size: number; sha256: string }> {
  const handle = await openSource(file);
  try {
    const hash = createHash('sha256');
    const buf = Buffer.alloc(BLOCK);
    let size = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, BLOCK, size);
      if (bytesRead === 0) break;
      const block = buf.subarray(0, bytesRead);
      hash.update(block);
      await sink?.(block);
      size += bytesRead;
    }
    return { size, sha256: hash.digest('hex') };
  } catch (error) {
    if (error instanceof BiosealError) throw error;
    throw describeFsError(error, file);
  } finally {
    await handle.close();
  }
}

/**
 * Size and SHA-256 of a whole file.
 * @throws IOError
 */
export function digestFile(file: string): Promise<{ size: number; sha256: string }> {
  return hashFile(file);
}

/**
 * Copies `source` to `target` atomically (temporary file, fsync, rename)
 * only if its bytes have the manifest's size and SHA-256; otherwise nothing
 * is left at `target`.
 * @throws DigestError on a size or digest mismatch; IOError
 */
export async function installVerifiedCopy(source: string, target: string, expected: ManifestFile): Promise<void> {
  await writeFileAtomic(
    target,
    async (out) => {
      let written = 0;
      const actual = await hashFile(source, async (block) => {
        written += block.length;
        // Stop early rather than copy an arbitrarily large file that cannot match.
        if (written > expected.size) throw new DigestError(`${source} is larger than the ${expected.size} bytes the manifest names`);
        await out.write(block);
      });
      if (actual.size !== expected.size) throw new DigestError(`${source} is ${actual.size} bytes, the manifest names ${expected.size}`);
      if (actual.sha256 !== expected.sha256) {
        throw new DigestError(`${source} does not match the manifest: SHA-256 ${actual.sha256.slice(0, 16)}..., expected ${expected.sha256.slice(0, 16)}...`);
      }
    },
    { overwrite: true, mode: 0o600 },
  );
}
