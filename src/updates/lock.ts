/**
 * One update at a time per $BIOSEAL_HOME: two concurrent installs that both
 * read the old state could otherwise end with the older version recorded
 * last, a rollback. The lock is a file, `updates/lock`, created atomically
 * (it fails if it exists) and holding the owner's pid; a lock whose owner is
 * gone (killed mid-update) is taken over.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.js';
import { ExistsError, IOError } from '../errors.js';
import { updatesDir } from './state.js';
import { isProcessAlive } from '../util/process.js';

async function ownerOf(lock: string): Promise<number | undefined> {
  const text = await fs.readFile(lock, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Runs `work` holding the update lock of `home`.
 * @throws IOError when another live process holds it.
 */
export async function withUpdateLock<T>(home: string, work: () => Promise<T>): Promise<T> {
  const lock = path.join(updatesDir(home), 'lock');
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFileAtomic(lock, async (h) => void (await h.writeFile(`${process.pid}\n`)), { mode: 0o600 });
      break;
    } catch (error) {
      if (!(error instanceof ExistsError)) throw error;
      const owner = await ownerOf(lock);
      if (attempt > 0 || (owner !== undefined && isProcessAlive(owner))) {
        throw new IOError(`another update is in progress (process ${owner ?? 'unknown'} holds ${lock}; remove it if that process is not bioseal)`);
      }
      await fs.unlink(lock).catch(() => undefined);
    }
  }
  try {
    return await work();
  } finally {
    await fs.unlink(lock).catch(() => undefined);
  }
}
