/**
 * Shared pieces of `bioseal bench`: timing helpers, the data every benchmark
 * measures (one random plaintext file, its sealed copy and the key file that
 * opens it), and a description of the machine.
 *
 * Every figure is measured, never assumed: a benchmark that cannot run (a
 * missing tool) reports `available: false` and null figures.
 */
import { randomBytes } from 'node:crypto';
import { formatBytes } from '../util/format.js';
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { generateKeyFile, readKeyFile } from '../keys/keyfile.js';
import { sealModel } from '../operations/seal.js';
import type { Credentials } from '../operations/credentials.js';
import { aeadBackend } from '../container/aead.js';

/** 10^9 bytes: throughput figures are in decimal GB/s. */
export const GB = 1e9;
export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;

/** What every benchmark gets. */
export interface BenchContext {
  /** The temporary directory of this run (removed afterwards). */
  readonly dir: string;
  /** Timed repetitions per measurement; the median is reported. */
  readonly runs: number;
  /** A progress line for people (stderr), or nothing with --json. */
  readonly log: (line: string) => void;
}

/** The data shared by the check and open benchmarks. */
export interface Fixture {
  readonly sizeBytes: number;
  readonly plaintextPath: string;
  readonly sealedPath: string;
  readonly keyFilePath: string;
  /** The key file's 32 bytes, already loaded: "secrets in hand". */
  readonly keyBytes: Uint8Array;
  /** bioseal home of the run (empty: no identities). */
  readonly home: string;
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of nothing');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Decimal GB per second. */
export function gbps(bytes: number, seconds: number): number {
  return bytes / GB / seconds;
}

/** Rounds for the report (the raw values stay in `runsSeconds`). */
export function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Seconds taken by `fn`. */
export async function timeIt(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/** Median and all runs of one timed measurement. */
export interface Timing {
  readonly medianSeconds: number;
  /** The fastest run: the closest to the cost with nothing else running. */
  readonly minSeconds: number;
  readonly runsSeconds: readonly number[];
}

export function timing(runs: readonly number[]): Timing {
  return { medianSeconds: round(median(runs), 5), minSeconds: round(Math.min(...runs), 5), runsSeconds: runs.map((r) => round(r, 5)) };
}

/** Throughput figures of one timing over `bytes`. */
export function throughput(t: Timing, bytes: number): Timing & { gbPerSecond: number } {
  return { ...t, gbPerSecond: round(gbps(bytes, t.medianSeconds), 3) };
}

/** Runs a child process to completion; rejects on a non-zero exit. Returns its wall time and output. */
export function runChild(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; stdio?: 'pipe' | 'ignore' } = {},
): Promise<{ seconds: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const seconds = (performance.now() - t0) / 1000;
      if (code === 0) resolve({ seconds, stdout, stderr });
      else reject(new Error(`${path.basename(command)} ${args.join(' ')} exited with ${code ?? signal}: ${stderr.trim().split('\n').slice(-12).join(' | ')}`));
    });
  });
}

/**
 * CPU seconds (user + system) used so far by the waited-for children of this
 * process, from /proc/self/stat (Linux; 10 ms resolution), or null.
 */
export function childrenCpuSeconds(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cutime = Number(fields[13]);
    const cstime = Number(fields[14]);
    if (!Number.isFinite(cutime) || !Number.isFinite(cstime)) return null;
    return (cutime + cstime) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** USER_HZ: Linux reports times in /proc in 1/100 s on every common architecture. */
const CLOCK_TICKS = 100;

/** CPU seconds (user + system) used so far by this process, all its threads included. */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Writes `size` random bytes to `file`, 16 MiB at a time. */
export async function writeRandomFile(file: string, size: number): Promise<void> {
  const h = await fs.open(file, 'w', 0o600);
  try {
    const block = 16 * MIB;
    for (let done = 0; done < size; done += block) {
      const n = Math.min(block, size - done);
      const bytes = randomBytes(n);
      let written = 0;
      while (written < n) written += (await h.write(bytes, written, n - written, done + written)).bytesWritten;
    }
  } finally {
    await h.close();
  }
}

/** Reads a whole file once, so that it sits in the page cache for every contender alike. */
export async function warmPageCache(file: string): Promise<void> {
  const h = await fs.open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(8 * MIB);
    let pos = 0;
    for (;;) {
      const { bytesRead } = await h.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
    }
  } finally {
    await h.close();
  }
}

/** Credentials of the bench: the loaded key file bytes only (no identities, no passphrase). */
export function benchCredentials(f: Pick<Fixture, 'keyBytes' | 'home'>): Credentials {
  return { keyFiles: [f.keyBytes], home: f.home, useIdentities: false };
}

/** Makes the random plaintext, a key file, and the plaintext sealed under `keyfile`. */
export async function makeFixture(ctx: BenchContext, sizeBytes: number): Promise<Fixture> {
  const home = path.join(ctx.dir, 'home');
  await fs.mkdir(home, { mode: 0o700 });
  const keyFilePath = path.join(ctx.dir, 'bench.key');
  await generateKeyFile(keyFilePath);
  const keyBytes = readKeyFile(keyFilePath);
  const plaintextPath = path.join(ctx.dir, 'plain.bin');
  ctx.log(`writing ${formatSize(sizeBytes)} of random data`);
  await writeRandomFile(plaintextPath, sizeBytes);
  const sealedPath = path.join(ctx.dir, 'plain.bseal');
  ctx.log('sealing it under the policy "keyfile"');
  await sealModel({ input: plaintextPath, output: sealedPath, policies: ['keyfile'], keyFiles: [keyBytes], home, useIdentities: false });
  return { sizeBytes, plaintextPath, sealedPath, keyFilePath, keyBytes, home };
}

/** `1 GiB`, `256 MiB`, ... */
export const formatSize = formatBytes;

/** The built CLI entry point (dist/src/cli/bin.js). */
export function cliEntry(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'bin.js');
}

/** `age --version`, or undefined when age is not installed. */
export function ageVersion(): string | undefined {
  const r = spawnSync('age', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.trim();
}

/** The machine and software the figures were taken on. */
export interface Environment {
  readonly aeadBackend: string;
  readonly node: string;
  readonly openssl: string;
  readonly v8: string;
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryBytes: number;
  readonly platform: string;
  readonly age: string | null;
  readonly transparentHugePages: string | null;
}

export async function describeEnvironment(): Promise<Environment> {
  const thp = await fs
    .readFile('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8')
    .then((t) => /\[(\w+)\]/.exec(t)?.[1] ?? null)
    .catch(() => null);
  return {
    aeadBackend,
    node: process.versions.node,
    openssl: process.versions.openssl,
    v8: process.versions.v8,
    cores: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    age: ageVersion() ?? null,
    transparentHugePages: thp,
  };
}

let collect: (() => void) | undefined;

/** A full garbage collection (node's --expose-gc, turned on for this process only when first needed). */
function fullGc(): void {
  if (!collect) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) collect = exposed;
    else {
      v8.setFlagsFromString('--expose-gc');
      collect = vm.runInNewContext('gc') as () => void;
    }
  }
  collect();
}

/**
 * Frees the large buffers of the previous run before the next one is timed,
 * so that no run pays for another's garbage.
 */
export async function settle(): Promise<void> {
  await new Promise((r) => setImmediate(r));
  fullGc();
  await new Promise((r) => setTimeout(r, 20));
}
