/**
 * `bioseal bench`: measures, in one run and on the same data, bioseal check
 * against age, open-into-memory against a plain readFile, seal throughput and
 * peak memory, and the time to a ready onnxruntime session from a sealed
 * model against one from the plaintext file. Medians of N runs; every goal is
 * reported with whether this run met it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closeWorkerPool } from '../container/parallel.js';
import { GIB, describeEnvironment, formatSize, makeFixture, type BenchContext, type Environment } from './common.js';
import { benchCheck, type CheckBench } from './check.js';
import { benchOpen, type OpenBench } from './open.js';
import { benchSeal, type SealBench } from './seal.js';
import { benchSession, type SessionBench } from './session.js';

export { CHECK_GOAL_SPEEDUP } from './check.js';
export { OPEN_GOAL_RATIO } from './open.js';
export { SEAL_GOAL_MAX_RSS } from './seal.js';
export { SESSION_GOAL_MAX_SLOWER_PERCENT, UNLOCK_GOAL_MAX_MS } from './session.js';
export type { CheckBench, OpenBench, SealBench, SessionBench, Environment };

export const DEFAULT_BENCH_SIZE = GIB;
export const DEFAULT_BENCH_RUNS = 3;

export interface BenchOptions {
  /** Payload size for check, open and seal; default 1 GiB. */
  readonly sizeBytes?: number;
  /** Timed runs per measurement (median reported); default 3. */
  readonly runs?: number;
  /** Parent of the temporary working directory; default the OS temp dir. */
  readonly dir?: string;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

export interface BenchReport {
  readonly environment: Environment;
  readonly sizeBytes: number;
  readonly runs: number;
  readonly check: CheckBench;
  readonly open: OpenBench;
  readonly seal: SealBench;
  readonly session: SessionBench;
  /** Each goal: met (true/false), or null when it could not be measured. */
  readonly goals: Record<string, boolean | null>;
  readonly allGoalsMet: boolean;
  readonly totalSeconds: number;
  /**
   * 1-minute load average at the start and the end. Other work on the
   * machine slows every contender, but not always alike: read figures taken
   * under load (above the core count) with care.
   */
  readonly loadAverage: { readonly start: number; readonly end: number };
}

/** Runs every benchmark in a temporary directory, removed afterwards. */
export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const sizeBytes = options.sizeBytes ?? DEFAULT_BENCH_SIZE;
  const runs = options.runs ?? DEFAULT_BENCH_RUNS;
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 1024 * 1024) throw new RangeError('bench size must be at least 1 MiB');
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) throw new RangeError('bench runs must be 1..100');
  const started = performance.now();
  const loadStart = os.loadavg()[0]!;
  const dir = mkdtempSync(path.join(options.dir ?? os.tmpdir(), 'bioseal-bench-'));
  const ctx: BenchContext = { dir, runs, log: options.log ?? (() => undefined) };
  try {
    const environment = await describeEnvironment();
    ctx.log(`bench in ${dir}: ${formatSize(sizeBytes)}, ${runs} runs, AEAD backend ${environment.aeadBackend}, ${environment.cores} cores`);
    const fixture = await makeFixture(ctx, sizeBytes);
    const check = await benchCheck(ctx, fixture, environment.age ?? undefined);
    const open = await benchOpen(ctx, fixture);
    const seal = await benchSeal(ctx, fixture);
    const session = await benchSession(ctx, fixture);
    const goals = {
      checkAtLeast5xFasterThanAge: check.goal.met,
      openAtMost1_2xReadFile: open.goal.met,
      seal4GiBUnder256MiBRss: seal.goal.met,
      sessionAtMost5PercentSlower: session.goal.met,
      keyUnwrapUnder1_7ms: session.unlock.goal.met,
    };
    return {
      environment,
      sizeBytes,
      runs,
      check,
      open,
      seal,
      session,
      goals,
      allGoalsMet: Object.values(goals).every((g) => g === true),
      totalSeconds: Math.round((performance.now() - started) / 100) / 10,
      loadAverage: { start: Math.round(loadStart * 100) / 100, end: Math.round(os.loadavg()[0]! * 100) / 100 },
    };
  } finally {
    await closeWorkerPool();
    rmSync(dir, { recursive: true, force: true });
  }
}

function yes(met: boolean | null): string {
  return met === null ? 'n/a' : met ? 'met' : 'MISSED';
}

function describeSlower(percent: number): string {
  if (Math.abs(percent) < 0.05) return 'as fast';
  return percent > 0 ? `${percent.toFixed(1)}% slower` : `${(-percent).toFixed(1)}% faster`;
}

/** The report as lines for people. */
export function describeReport(r: BenchReport): string[] {
  const e = r.environment;
  const s = (x: number) => `${x.toFixed(3)} s`;
  const lines = [
    `bioseal bench: ${formatSize(r.sizeBytes)}, median of ${r.runs} runs`,
    `  machine: ${e.cores} cores (${e.cpuModel}), node ${e.node}, OpenSSL ${e.openssl}, AEAD backend ${e.aeadBackend}, ${e.age ? `age ${e.age}` : 'age not installed'}`,
    '',
    '1. check (authenticate every byte, keep nothing)',
    `   bioseal checkModel   ${s(r.check.bioseal.medianSeconds)}  ${r.check.bioseal.gbPerSecond.toFixed(2)} GB/s`,
    `   bioseal check (CLI)  ${s(r.check.cli.seconds)}  ${r.check.cli.gbPerSecond.toFixed(2)} GB/s  (one fresh process)`,
  ];
  const age = r.check.age;
  if (age.available) {
    lines.push(`   age -d > /dev/null   ${s(age.medianSeconds)}  ${age.gbPerSecond.toFixed(2)} GB/s`);
    lines.push(`   bioseal is ${r.check.speedupVsAge!.toFixed(2)}x faster than age (CLI: ${r.check.cliSpeedupVsAge!.toFixed(2)}x); goal >= ${r.check.goal.minSpeedupVsAge}x: ${yes(r.check.goal.met)}`);
    if (r.check.cpuRatioVsAge !== null) {
      lines.push(`   CPU time: bioseal ${r.check.bioseal.cpuSecondsMedian.toFixed(3)} s, age ${age.cpuSecondsMedian!.toFixed(3)} s (all threads): ${r.check.cpuRatioVsAge.toFixed(2)}x less work`);
    }
  } else {
    lines.push(`   age: unavailable (${age.reason}); goal: n/a`);
  }
  lines.push(
    '',
    '2. open into memory',
    `   openModel            ${s(r.open.bioseal.medianSeconds)}  ${r.open.bioseal.gbPerSecond.toFixed(2)} GB/s  (then release() ${s(r.open.release.medianSeconds)})`,
    `   fs.readFile          ${s(r.open.readFile.medianSeconds)}  ${r.open.readFile.gbPerSecond.toFixed(2)} GB/s`,
    `   ratio ${r.open.ratioVsReadFile.toFixed(3)}x; goal <= ${r.open.goal.maxRatioVsReadFile}x: ${yes(r.open.goal.met)}`,
    '',
    '3. seal (child process, file to file, fsync included)',
    `   ${formatSize(r.seal.full.bytes).padEnd(9)} ${s(r.seal.full.medianSeconds)}  ${r.seal.full.gbPerSecond.toFixed(2)} GB/s  peak RSS ${r.seal.full.maxRssMiB} MiB`,
    `   (the disk alone, write+fsync of as many bytes: ${s(r.seal.plainWriteFsync.medianSeconds)}  ${r.seal.plainWriteFsync.gbPerSecond.toFixed(2)} GB/s; seal/disk ${r.seal.ratioVsPlainWrite.toFixed(2)}x)`,
    `   ${formatSize(r.seal.quarter.bytes).padEnd(9)} ${s(r.seal.quarter.medianSeconds)}  ${r.seal.quarter.gbPerSecond.toFixed(2)} GB/s  peak RSS ${r.seal.quarter.maxRssMiB} MiB`,
    `   RSS growth ${(r.seal.rssGrowthBytes / 1024 / 1024).toFixed(1)} MiB for ${formatSize(r.seal.full.bytes - r.seal.quarter.bytes)} more input: ${r.seal.rssFlat ? 'flat' : 'NOT flat'}; ` +
      `extrapolated 4 GiB seal: ${r.seal.projected4GiBRssMiB} MiB; goal < 256 MiB: ${yes(r.seal.goal.met)}`,
    '',
    `4. session from a ${(r.session.modelBytes / 1e6).toFixed(0)} MB sealed ONNX model (key bytes in hand -> ready session)`,
    `   sealed: openModel + createSessionFromMemory  ${s(r.session.sealed.medianSeconds)}  (bytes handed over: ${r.session.handoff})`,
    `   plain: InferenceSession.create(path)         ${s(r.session.plain.medianSeconds)}`,
    `   ${describeSlower(r.session.slowerPercent)}; goal <= ${r.session.goal.maxSlowerPercent}% slower: ${yes(r.session.goal.met)}`,
    ...(r.session.createSealedSessionWorks
      ? []
      : [`   note: createSealedSession itself failed on this model: ${r.session.createSealedSessionError}`]),
    `   key unwrap (unlockHeader, keyfile): median ${r.session.unlock.medianMs.toFixed(3)} ms over ${r.session.unlock.iterations}; goal < ${r.session.unlock.goal.maxMedianMs} ms: ${yes(r.session.unlock.goal.met)}`,
    '',
    `all goals met: ${r.allGoalsMet ? 'yes' : 'no'} (${r.totalSeconds} s in all; load average ${r.loadAverage.start} at the start, ${r.loadAverage.end} at the end)`,
  );
  if (Math.max(r.loadAverage.start, r.loadAverage.end) > e.cores) {
    lines.push(`warning: the machine was busy with other work (load above ${e.cores} cores); the figures are noisy`);
  }
  return lines;
}
