/**
 * Crash-safe file replacement: write a temporary file in the target's
 * directory, fsync it, then rename it over the target (or link it, when
 * overwriting is not allowed, which fails atomically if the target exists),
 * and fsync the directory. A crash at any moment leaves either the old file
 * or the new one, never a mix; a failure removes the temporary file.
 */
import { promises as fs, constants as fsc } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { BiosealError, ExistsError, IOError } from '../errors.js';
import { isProcessAlive } from './process.js';

export interface AtomicWriteOptions {
  /** Replace an existing file. Default false: refuse with E_EXISTS. */
  readonly overwrite?: boolean;
  /** Mode of the new file. Default 0o644. */
  readonly mode?: number;
}

/** Describes a file-system error in words a user can act on. */
export function describeFsError(error: unknown, file: string): IOError {
  const code = (error as NodeJS.ErrnoException)?.code;
  const reason: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EISDIR: 'is a directory',
    ENOTDIR: 'a parent is not a directory',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on device',
    EEXIST: 'already exists',
  };
  return new IOError(`${file}: ${(code && reason[code]) ?? (error instanceof Error ? error.message : String(error))}`, { cause: error });
}

/**
 * Writes `target` atomically through `write`, which receives an open file
 * handle positioned at 0.
 * @throws ExistsError when the target exists and overwrite is false.
 * @throws IOError for file-system failures (nothing is left behind).
 */
export async function writeFileAtomic(
  target: string,
  write: (handle: fs.FileHandle) => Promise<void>,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const dir = path.dirname(path.resolve(target));
  if (!options.overwrite && (await exists(target))) {
    throw new ExistsError(`${target} already exists (use --force to replace it)`);
  }
  await removeAbandonedTemps(dir, path.basename(target));
  const temp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(temp, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY, options.mode ?? 0o644);
  } catch (error) {
    throw describeFsError(error, dir);
  }
  let committed = false;
  try {
    await write(handle);
    await handle.sync();
    await handle.close();
    handle = undefined;
    if (options.overwrite) {
      await fs.rename(temp, target);
    } else {
      try {
        await fs.link(temp, target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ExistsError(`${target} already exists (use --force to replace it)`);
        throw error;
      }
      await fs.unlink(temp);
    }
    committed = true;
    await syncDirectory(dir);
  } catch (error) {
    if (error instanceof BiosealError) throw error;
    throw describeFsError(error, target);
  } finally {
    await handle?.close().catch(() => undefined);
    if (!committed) await fs.unlink(temp).catch(() => undefined);
  }
}

/**
 * Removes temporary files that an earlier writer of the same target left when
 * it was killed: their names carry the writer's pid, and that process is gone.
 */
async function removeAbandonedTemps(dir: string, base: string): Promise<void> {
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch {
    return;
  }
  const prefix = `.${base}.`;
  for (const name of entries) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const match = /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name.slice(prefix.length));
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || isProcessAlive(pid)) continue;
    await fs.unlink(path.join(dir, name)).catch(() => undefined);
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch {
    return false;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const h = await fs.open(dir, fsc.O_RDONLY);
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
