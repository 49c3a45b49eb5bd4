/**
 * Where bioseal keeps its state: `$BIOSEAL_HOME`, default `~/.bioseal`,
 * created with mode 0700. Identities, enrolments, generated keys and, later,
 * rate-limit counters and the audit log live there.
 */
import { mkdirSync, statSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IOError } from './errors.js';

/** The state directory path, without creating it. */
export function biosealHomePath(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.BIOSEAL_HOME;
  return path.resolve(fromEnv && fromEnv.length > 0 ? fromEnv : path.join(os.homedir(), '.bioseal'));
}

/**
 * The state directory, created (mode 0700) if missing. A directory that
 * others can read or write is tightened to 0700.
 * @throws IOError when it cannot be created or is not a directory.
 */
export function ensureBiosealHome(home = biosealHomePath()): string {
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 });
    const st = statSync(home);
    if (!st.isDirectory()) throw new IOError(`${home} (BIOSEAL_HOME) is not a directory`);
    if ((st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) chmodSync(home, 0o700);
    return home;
  } catch (error) {
    if (error instanceof IOError) throw error;
    throw new IOError(`cannot create the bioseal state directory ${home}: ${(error as Error).message}`, { cause: error });
  }
}

/** A subdirectory of the state directory, created with mode 0700. */
export function homeSubdir(home: string, name: string): string {
  const dir = path.join(ensureBiosealHome(home), name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}
