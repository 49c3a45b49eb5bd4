/**
 * One daemon per state directory: `$BIOSEAL_HOME/daemon.pid`, created
 * exclusively and holding the owner's pid. A file left by a daemon that
 * died is taken over; one whose process lives is refused.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ExistsError, IOError } from '../errors.js';
import { isProcessAlive } from '../util/process.js';

export interface StateLock {
  readonly file: string;
  release(): void;
}

/** @throws ExistsError when another live daemon holds the state. */
export function acquireStateLock(home: string): StateLock {
  const file = path.join(home, 'daemon.pid');
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new IOError(`cannot create ${file}: ${(error as Error).message}`, { cause: error });
      const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
      if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid)) {
        throw new ExistsError(`another bioseal daemon (pid ${pid}) is serving ${home}; stop it first, or use another BIOSEAL_HOME`);
      }
      // Left by a daemon that is gone: take it over.
      try {
        unlinkSync(file);
      } catch {
        // Another starter removed it first; try again.
      }
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return {
      file,
      release() {
        try {
          if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
        } catch {
          // Already gone.
        }
      },
    };
  }
  throw new ExistsError(`could not take ${file}: other daemons are starting on ${home}`);
}
