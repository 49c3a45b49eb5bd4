/**
 * A real software TPM for tests: swtpm on loopback with its state in a
 * temporary directory (src/devices/tpm/swtpm.ts does the starting, on free
 * ports with retries, and the waiting), plus a way to run tpm2-tools against
 * it (to extend a PCR, for instance). A missing swtpm or tpm2-tools fails the
 * test with a message naming the package: these tests are never skipped.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSoftwareTpm, type SoftwareTpm } from '../../src/devices/tpm/swtpm.js';

export interface TestTpm extends SoftwareTpm {
  /** Stops swtpm and removes its state. */
  dispose(): Promise<void>;
  /** Runs a tpm2-tools command against this TPM and returns its stdout. */
  tool(name: string, args: readonly string[]): string;
  /** Extends a sha256 PCR with a fixed digest, changing its value. */
  extendPcr(pcr: number): void;
}

/** Fails, naming the package, when a tool the TPM tests need is missing. */
export function assertTpmToolsInstalled(): void {
  for (const [tool, pkg] of [['swtpm', 'swtpm'], ['tpm2_createprimary', 'tpm2-tools']] as const) {
    const r = spawnSync(tool, ['--version'], { stdio: 'ignore' });
    assert.ok(!r.error, `${tool} is not installed: install the ${pkg} package (scripts/setup-system.sh does)`);
  }
}

/** Starts a software TPM with fresh state. Call dispose() in `after`. */
export async function startTestTpm(): Promise<TestTpm> {
  assertTpmToolsInstalled();
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-swtpm-'));
  let tpm: SoftwareTpm;
  try {
    tpm = await startSoftwareTpm(stateDir);
  } catch (error) {
    rmSync(stateDir, { recursive: true, force: true });
    throw error;
  }
  const tool = (name: string, args: readonly string[]) =>
    execFileSync(name, args, { env: { ...process.env, TPM2TOOLS_TCTI: tpm.tcti }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return {
    get tcti() {
      return tpm.tcti;
    },
    get port() {
      return tpm.port;
    },
    stateDir,
    stop: () => tpm.stop(),
    restart: () => tpm.restart(),
    async dispose() {
      await tpm.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
    tool,
    extendPcr(pcr: number) {
      tool('tpm2_pcrextend', [`${pcr}:sha256=${'ab'.repeat(32)}`]);
    },
  };
}
