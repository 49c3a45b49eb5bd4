/**
 * Running tpm2-tools against one TPM. Every command gets the TCTI through
 * TPM2TOOLS_TCTI (no shell is involved), runs in a private working directory
 * (mkdtemp, mode 0700) that holds only public context files and is removed
 * afterwards, takes secrets on stdin and hands them back through a stdout
 * pipe, so no secret touches the disk.
 *
 * Without a resource manager (a raw /dev/tpm0, a software TPM on a socket)
 * objects and sessions a tool loads stay in the TPM after it exits, and a TPM
 * holds only a few: transient objects are flushed after each step
 * (`tpm2_flushcontext -t`) and sessions when the work is done (`-l`, `-s`),
 * or the next load fails with "out of memory for object contexts".
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeviceError, type BiosealError } from '../../errors.js';
import { wipe } from '../../util/bytes.js';
import { toolFailure } from './tool-errors.js';

/** How long one tool may take; a hardware TPM making an RSA primary can take seconds. */
export const DEFAULT_TOOL_TIMEOUT_MS = 30_000;
/** No tool bioseal runs prints more than this on stdout (the sealed secret is 32 bytes). */
const MAX_STDOUT = 64 * 1024;
const MAX_STDERR = 16 * 1024;

/** One working session with a TPM: runs tools, keeps their context files. */
export interface Tpm2Tools {
  /** The TCTI every tool is run with. */
  readonly tcti: string;
  /** A path in the private working directory, for context files and public blobs. */
  file(name: string): string;
  /**
   * Runs a tool and returns its stdout (the caller wipes it when it is secret).
   * @param input written to the tool's stdin (a secret to seal), then closed
   * @throws DeviceError mapped from the tool's failure, FormatError for blobs
   *   it cannot unmarshal (see tool-errors.ts)
   */
  run(tool: string, args: readonly string[], input?: Uint8Array): Promise<Uint8Array>;
  /** Flushes the transient objects the last steps left loaded. */
  flushTransients(): Promise<void>;
}

export interface Tpm2ToolsOptions {
  /** Per-tool time limit (default DEFAULT_TOOL_TIMEOUT_MS). */
  readonly timeoutMs?: number;
}

/**
 * Runs `work` with a tpm2-tools session on `tcti`, then flushes what is left
 * loaded and removes the working directory, whatever happened.
 * @example const secret = await withTpm2Tools(tcti, (tpm) => tpm.run('tpm2_unseal', ['-c', tpm.file('o.ctx')]));
 */
export async function withTpm2Tools<T>(tcti: string, work: (tpm: Tpm2Tools) => Promise<T>, options: Tpm2ToolsOptions = {}): Promise<T> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-tpm-'));
  const timeoutMs = options.timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS;
  const run = (tool: string, args: readonly string[], input?: Uint8Array) => runTool(tool, args, { tcti, cwd: dir, timeoutMs, input });
  const flush = (flag: string) => run('tpm2_flushcontext', [flag]).then(wipe);
  const tpm: Tpm2Tools = {
    tcti,
    file: (name) => path.join(dir, name),
    run,
    flushTransients: () => flush('-t'),
  };
  /** Flushes what is left loaded (unless the TPM could not be reached at all), then removes the directory. */
  const cleanUp = async (failure: unknown) => {
    try {
      const unreachable = failure instanceof DeviceError && (failure.failure === 'unavailable' || failure.failure === 'timeout');
      if (!unreachable) for (const flag of ['-t', '-l', '-s']) await flush(flag);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  let result: T;
  try {
    result = await work(tpm);
  } catch (error) {
    // The work's own error says more than a failure to clean up after it.
    await cleanUp(error).catch(() => undefined);
    throw error;
  }
  try {
    await cleanUp(undefined);
  } catch (error) {
    if (result instanceof Uint8Array) wipe(result);
    throw error;
  }
  return result;
}

interface RunOptions {
  readonly tcti: string;
  readonly cwd: string;
  readonly timeoutMs: number;
  readonly input?: Uint8Array;
}

function runTool(tool: string, args: readonly string[], o: RunOptions): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { cwd: o.cwd, env: { ...process.env, TPM2TOOLS_TCTI: o.tcti }, stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let settled = false;
    const finish = (error: BiosealError | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        wipe(...chunks);
        reject(error);
        return;
      }
      const out = new Uint8Array(stdoutBytes);
      let offset = 0;
      for (const c of chunks) {
        out.set(c, offset);
        offset += c.length;
      }
      wipe(...chunks);
      resolve(out);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new DeviceError('timeout', `the TPM at ${o.tcti} did not answer ${tool} within ${Math.round(o.timeoutMs / 1000)} s`));
    }, o.timeoutMs);
    child.on('error', (error: NodeJS.ErrnoException) => {
      finish(
        error.code === 'ENOENT'
          ? new DeviceError('unavailable', `tpm2-tools is not installed: ${tool} was not found (install the tpm2-tools package)`, { cause: error })
          : new DeviceError('unavailable', `cannot run ${tool}: ${error.message}`, { cause: error }),
      );
    });
    child.stdout.on('data', (c: Buffer) => {
      stdoutBytes += c.length;
      chunks.push(c);
      if (stdoutBytes > MAX_STDOUT) {
        child.kill('SIGKILL');
        finish(new DeviceError('invalid-response', `${tool} printed more than ${MAX_STDOUT} bytes`));
      }
    });
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      if (stderr.length < MAX_STDERR) stderr += t;
    });
    child.on('close', (code, signal) => {
      if (code === 0) finish(undefined);
      else if (signal) finish(new DeviceError('unavailable', `${tool} was stopped by ${signal}`));
      else finish(toolFailure(tool, o.tcti, stderr));
    });
    // A tool that fails early closes its stdin; the error is reported by 'close'.
    child.stdin.on('error', () => undefined);
    child.stdin.end(o.input ? Buffer.from(o.input.buffer, o.input.byteOffset, o.input.byteLength) : undefined);
  });
}
