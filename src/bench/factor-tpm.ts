/**
 * What the tpm factor adds to an unlock: the real round trip of one unseal
 * through tpm2-tools (derive the ECC primary again, flush, load the sealed
 * object, flush, start a policy session, TPM2_PolicyPCR over PCR 7, unseal,
 * flush transients and sessions: 10 tool runs), measured against a software
 * TPM (swtpm on loopback) that the benchmark starts on a temporary state
 * directory and removes afterwards. The median over the runs is reported;
 * a hardware TPM is slower (tens to hundreds of milliseconds per command).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sealSecret, unsealSecret } from '../devices/tpm/seal.js';
import { startSoftwareTpm } from '../devices/tpm/swtpm.js';
import { wipe } from '../util/bytes.js';
import { median } from './common.js';
import type { FactorBench } from './factor-common.js';

const WHAT = 'TPM 2.0 (swtpm on loopback, tpm2-tools): createprimary + load + PCR policy session + unseal + context flushes, per unlock';

/** Why the benchmark cannot run here, or undefined. */
function missingTool(): string | undefined {
  for (const [tool, pkg] of [['swtpm', 'swtpm'], ['tpm2_createprimary', 'tpm2-tools']] as const) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).error) return `${tool} is not installed (package ${pkg})`;
  }
  return undefined;
}

export async function benchTpmFactor(options: { runs: number; log: (line: string) => void }): Promise<FactorBench> {
  const runs = Math.max(1, options.runs);
  const missing = missingTool();
  if (missing) return { factor: 'tpm', available: false, reason: missing, medianMs: null, runs: 0, what: WHAT };
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-bench-swtpm-'));
  const secret = new Uint8Array(randomBytes(32));
  try {
    const tpm = await startSoftwareTpm(stateDir);
    try {
      const sealed = await sealSecret(secret, [7], { tcti: tpm.tcti });
      wipe(await unsealSecret(sealed, { tcti: tpm.tcti })); // warm-up: tools in the page cache
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        wipe(await unsealSecret(sealed, { tcti: tpm.tcti }));
        times.push(performance.now() - t0);
      }
      const medianMs = median(times);
      options.log(`tpm: unseal round trip ${medianMs.toFixed(1)} ms (median of ${runs}; min ${Math.min(...times).toFixed(1)} ms)`);
      return { factor: 'tpm', available: true, medianMs, runs, what: WHAT };
    } finally {
      await tpm.stop();
    }
  } catch (error) {
    return { factor: 'tpm', available: false, reason: `the software TPM could not be used: ${(error as Error).message}`, medianMs: null, runs: 0, what: WHAT };
  } finally {
    wipe(secret);
    rmSync(stateDir, { recursive: true, force: true });
  }
}
