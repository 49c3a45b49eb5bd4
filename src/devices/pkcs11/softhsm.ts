/**
 * A throwaway SoftHSM2 token store in a temporary folder, for the benchmark
 * and the tests: its own softhsm2.conf (pointed to by SOFTHSM2_CONF) and
 * token directory, tokens made and deleted with `softhsm2-util`.
 *
 * The PINs of these throwaway tokens go on softhsm2-util's command line; no
 * real token's PIN ever should.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Debian's SoftHSM2 PKCS#11 module. */
export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

/** Why SoftHSM2 cannot be used here, or undefined when it can. */
export function softHsmProblem(): string | undefined {
  if (!existsSync(SOFTHSM_MODULE)) return `the SoftHSM2 module ${SOFTHSM_MODULE} is missing (install the softhsm2 package)`;
  try {
    execFileSync('softhsm2-util', ['--version'], { stdio: 'pipe' });
  } catch {
    return 'softhsm2-util is not on the PATH (install the softhsm2 package)';
  }
  return undefined;
}

export interface SoftHsmStore {
  readonly dir: string;
  /** The softhsm2.conf path. */
  readonly conf: string;
  /** Environment that points SoftHSM2 at this store (for child processes, or process.env before loading the module). */
  readonly env: { readonly SOFTHSM2_CONF: string };
  /** Initializes a token in a free slot; returns its serial number. */
  initToken(label: string, pin: string, soPin: string): string;
  /** Deletes a token and everything on it. */
  deleteToken(label: string): void;
  /** Removes the store. */
  cleanup(): void;
}

/** Creates an empty store under the system's temporary folder. */
export function createSoftHsmStore(prefix = 'bioseal-softhsm-'): SoftHsmStore {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const tokens = path.join(dir, 'tokens');
  mkdirSync(tokens, { mode: 0o700 });
  const conf = path.join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  const env = { SOFTHSM2_CONF: conf };
  const util = (args: string[]) => execFileSync('softhsm2-util', args, { env: { ...process.env, ...env }, stdio: 'pipe', encoding: 'utf8' });
  return {
    dir,
    conf,
    env,
    initToken(label, pin, soPin) {
      util(['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', soPin]);
      const serial = tokenSerials(util(['--show-slots'])).get(label);
      if (serial === undefined) throw new Error(`softhsm2-util did not list the token "${label}" it made`);
      return serial;
    },
    deleteToken(label) {
      util(['--delete-token', '--token', label]);
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Label to serial number, from `softhsm2-util --show-slots`. */
function tokenSerials(listing: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const block of listing.split(/^Slot /m)) {
    const serial = /^\s+Serial number:[ \t]*(\S*)/m.exec(block)?.[1];
    const label = /^\s+Label:[ \t]*(.*?)\s*$/m.exec(block)?.[1];
    if (serial && label) out.set(label, serial);
  }
  return out;
}
