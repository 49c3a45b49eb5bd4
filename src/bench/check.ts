/**
 * Benchmark 1: authenticate a whole sealed file without keeping plaintext.
 *
 * bioseal: in-process checkModel with the key file's bytes in hand, and the
 * `bioseal check` command once as a fresh process, so the cost of starting
 * node and the worker threads is visible too.
 * age: the same plaintext encrypted to an X25519 identity from age-keygen,
 * timed as `age -d -i IDENTITY -o /dev/null FILE` (a process per run: age
 * has no library form here; its start-up is a few milliseconds).
 *
 * Both files are read once before timing so both come from the page cache,
 * and one untimed warm-up run of each comes first; then the contenders
 * alternate run by run.
 */
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { checkModel } from '../operations/open.js';
import {
  benchCredentials,
  childrenCpuSeconds,
  cliEntry,
  median,
  ownCpuSeconds,
  runChild,
  round,
  settle,
  throughput,
  timeIt,
  timing,
  warmPageCache,
  type BenchContext,
  type Fixture,
  type Timing,
} from './common.js';

/** The speed-up over age that bioseal check aims for. */
export const CHECK_GOAL_SPEEDUP = 5;

export interface CheckBench {
  readonly bytes: number;
  /** In-process checkModel (worker pool already started by the warm-up run). */
  readonly bioseal: Timing & { gbPerSecond: number; cpuSecondsMedian: number };
  /** One `node bin.js check FILE --key-file K --json` process, wall clock, start-up included. */
  readonly cli: { seconds: number; gbPerSecond: number };
  readonly age: ({ available: true; version: string; cpuSecondsMedian: number | null } & Timing & { gbPerSecond: number }) | { available: false; reason: string };
  /**
   * age CPU seconds / bioseal CPU seconds (medians, all threads counted): how
   * much less work bioseal does, whatever else runs on the machine. Null
   * without age or where the OS does not report children's CPU time.
   */
  readonly cpuRatioVsAge: number | null;
  /** age seconds / bioseal seconds (medians); null without age. */
  readonly speedupVsAge: number | null;
  readonly cliSpeedupVsAge: number | null;
  readonly goal: { minSpeedupVsAge: number; met: boolean | null };
}

interface AgeFiles {
  readonly identity: string;
  readonly encrypted: string;
}

async function prepareAge(ctx: BenchContext, f: Fixture, version: string | undefined): Promise<AgeFiles | string> {
  if (!version) return 'age is not installed (apt package "age")';
  const identity = path.join(ctx.dir, 'age-identity.txt');
  const encrypted = path.join(ctx.dir, 'plain.age');
  try {
    await runChild('age-keygen', ['-o', identity]);
    const recipient = (await runChild('age-keygen', ['-y', identity])).stdout.trim();
    ctx.log('encrypting the same plaintext with age (X25519 recipient)');
    await runChild('age', ['-r', recipient, '-o', encrypted, f.plaintextPath]);
    return { identity, encrypted };
  } catch (error) {
    return `age could not be used: ${error instanceof Error ? error.message : String(error)}`;
  }
}

export async function benchCheck(ctx: BenchContext, f: Fixture, ageVersion: string | undefined): Promise<CheckBench> {
  const age = await prepareAge(ctx, f, ageVersion);
  const credentials = benchCredentials(f);
  const checkOnce = async () => {
    const r = await checkModel(f.sealedPath, credentials);
    if (r.info.layout.plaintextLength !== f.sizeBytes) throw new Error('bench: check saw the wrong length');
  };
  const ageOnce = async (a: AgeFiles) => {
    await runChild('age', ['-d', '-i', a.identity, '-o', '/dev/null', a.encrypted]);
  };

  await warmPageCache(f.sealedPath);
  if (typeof age !== 'string') await warmPageCache(age.encrypted);
  ctx.log('check: warm-up runs');
  await checkOnce();
  if (typeof age !== 'string') await ageOnce(age);

  const biosealRuns: number[] = [];
  const biosealCpu: number[] = [];
  const ageRuns: number[] = [];
  const ageCpu: number[] = [];
  for (let i = 0; i < ctx.runs; i++) {
    await settle();
    const cpu0 = ownCpuSeconds();
    biosealRuns.push(await timeIt(checkOnce));
    biosealCpu.push(ownCpuSeconds() - cpu0);
    if (typeof age !== 'string') {
      const c0 = childrenCpuSeconds();
      ageRuns.push(await timeIt(() => ageOnce(age)));
      const c1 = childrenCpuSeconds();
      if (c0 !== null && c1 !== null) ageCpu.push(c1 - c0);
    }
    ctx.log(
      `check run ${i + 1}/${ctx.runs}: bioseal ${biosealRuns.at(-1)!.toFixed(3)} s` +
        (typeof age !== 'string' ? `, age ${ageRuns.at(-1)!.toFixed(3)} s` : ''),
    );
  }

  ctx.log('check: one run of the `bioseal check` command');
  const cliRun = await runChild(process.execPath, [cliEntry(), 'check', f.sealedPath, '--key-file', f.keyFilePath, '--json'], {
    env: { ...process.env, BIOSEAL_HOME: f.home },
  });
  const cliDoc = JSON.parse(cliRun.stdout) as { ok?: boolean };
  if (cliDoc.ok !== true) throw new Error(`bench: bioseal check did not report ok: ${cliRun.stdout}`);

  const bioseal = { ...throughput(timing(biosealRuns), f.sizeBytes), cpuSecondsMedian: round(median(biosealCpu), 4) };
  const cli = { seconds: round(cliRun.seconds, 5), gbPerSecond: round(f.sizeBytes / 1e9 / cliRun.seconds, 3) };
  if (typeof age === 'string') {
    return {
      bytes: f.sizeBytes,
      bioseal,
      cli,
      age: { available: false, reason: age },
      speedupVsAge: null,
      cliSpeedupVsAge: null,
      cpuRatioVsAge: null,
      goal: { minSpeedupVsAge: CHECK_GOAL_SPEEDUP, met: null },
    };
  }
  await fs.rm(age.encrypted, { force: true });
  const ageTiming = throughput(timing(ageRuns), f.sizeBytes);
  const speedup = ageTiming.medianSeconds / bioseal.medianSeconds;
  const ageCpuMedian = ageCpu.length === ageRuns.length ? median(ageCpu) : null;
  return {
    bytes: f.sizeBytes,
    bioseal,
    cli,
    age: { available: true, version: ageVersion!, cpuSecondsMedian: ageCpuMedian === null ? null : round(ageCpuMedian, 4), ...ageTiming },
    speedupVsAge: round(speedup, 3),
    cpuRatioVsAge: ageCpuMedian === null || bioseal.cpuSecondsMedian <= 0 ? null : round(ageCpuMedian / bioseal.cpuSecondsMedian, 3),
    cliSpeedupVsAge: round(ageTiming.medianSeconds / cliRun.seconds, 3),
    goal: { minSpeedupVsAge: CHECK_GOAL_SPEEDUP, met: speedup >= CHECK_GOAL_SPEEDUP },
  };
}
