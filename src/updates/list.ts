/**
 * `listInstalledModels`: what `update apply` has installed, read from the
 * installed state without changing anything.
 */
import path from 'node:path';
import { biosealHomePath } from '../home.js';
import { modelDir, readInstalledState, type InstalledModel } from './state.js';

export interface InstalledModelEntry extends InstalledModel {
  /** The absolute path of the installed sealed file. */
  readonly path: string;
}

/**
 * The installed models, by name.
 * @throws FormatError when the state is damaged; IOError
 */
export async function listInstalledModels(home = biosealHomePath()): Promise<InstalledModelEntry[]> {
  const state = await readInstalledState(home);
  return [...state.models.values()]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((m) => ({ ...m, path: path.join(modelDir(home, m.name), m.file) }));
}
