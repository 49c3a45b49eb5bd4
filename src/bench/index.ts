/**
 * `bioseal bench`: measures, in one run and on the same data, bioseal check
 * against age, open-into-memory against a plain readFile, seal throughput and
 * peak memory, and the time to a ready onnxruntime session from a sealed
 * model against one from the plaintext file (the `container` section); the
 * face engine's time per camera frame (`face`); the daemon's per-call policy
 * and trust checks, load from a second process and a lock mid-run (`daemon`). Medians of N runs; every goal
 * is reported with whether this run met it.
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
import { FACE_GOAL_MAX_FRAME_MS, type FaceBench } from './face.js';
import type { FactorBench } from './factor-common.js';
import { HE_GOAL_MATCH_MS, HE_GOAL_MAX_ERROR, HE_GOAL_SEARCH_MS, type HeBench } from './he.js';
import { describeDaemon, type DaemonBench } from './daemon-report.js';

export { CHECK_GOAL_SPEEDUP } from './check.js';
export { OPEN_GOAL_RATIO } from './open.js';
export { SEAL_GOAL_MAX_RSS } from './seal.js';
export { SESSION_GOAL_MAX_SLOWER_PERCENT, UNLOCK_GOAL_MAX_MS } from './session.js';
export { FACE_GOAL_MAX_FRAME_MS } from './face.js';
export { HE_GOAL_MATCH_MS, HE_GOAL_SEARCH_MS, HE_GOAL_MAX_ERROR } from './he.js';
export type { CheckBench, OpenBench, SealBench, SessionBench, FaceBench, FactorBench, HeBench, Environment };

/** The parts `bioseal bench` can measure; all of them by default. */
export const BENCH_SECTIONS = ['container', 'face', 'factors', 'daemon', 'he'] as const;

/** The goal for the time a passkey or PKCS#11 factor adds once its secret arrives. */
export const FACTOR_GOAL_MAX_MS = 1.7;
const FACTORS_WITH_GOAL = new Set(['passkey', 'pkcs11']);
export type BenchSection = (typeof BENCH_SECTIONS)[number];

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
  /** Which parts to measure; default all. */
  readonly sections?: readonly BenchSection[];
  /** Per-call rounds side by side in the daemon section; default 2000. */
  readonly rounds?: number;
  /** Seconds of each load run of the daemon section; default 60. */
  readonly durationSeconds?: number;
}

export interface BenchReport {
  readonly environment: Environment;
  readonly sections: readonly BenchSection[];
  readonly sizeBytes: number;
  readonly runs: number;
  /** The container section (absent when not measured). */
  readonly check?: CheckBench;
  readonly open?: OpenBench;
  readonly seal?: SealBench;
  readonly session?: SessionBench;
  readonly face?: FaceBench;
  /** What each device factor adds to an unlock beyond the person's action. */
  readonly factors?: readonly FactorBench[];
  /** The daemon: per-call cost of policy and trust checks, load, a lock mid-run. */
  readonly daemon?: DaemonBench;
  /** Encrypted template matching (CKKS): 1:1 match, 1:N search, error, sizes. */
  readonly he?: HeBench;
  /** The he section's headline figures, also at the top level (absent when he was not measured). */
  readonly match_1to1_ms?: number;
  readonly search_1000_ms?: number | null;
  readonly max_abs_error?: number;
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
  const sections = options.sections?.length ? [...new Set(options.sections)] : [...BENCH_SECTIONS];
  const dir = mkdtempSync(path.join(options.dir ?? os.tmpdir(), 'bioseal-bench-'));
  const ctx: BenchContext = { dir, runs, log: options.log ?? (() => undefined) };
  try {
    const environment = await describeEnvironment();
    ctx.log(`bench in ${dir}: ${sections.join(', ')}; ${formatSize(sizeBytes)}, ${runs} runs, AEAD backend ${environment.aeadBackend}, ${environment.cores} cores`);
    const container = sections.includes('container') ? await benchContainer(ctx, sizeBytes, environment) : undefined;
    const face = sections.includes('face') ? await (await import('./face.js')).benchFace({ log: ctx.log }) : undefined;
    const factors = sections.includes('factors') ? await benchFactors(ctx) : undefined;
    const he = sections.includes('he') ? await (await import('./he.js')).benchHe({ runs, log: ctx.log }) : undefined;
    const daemon = sections.includes('daemon') ? await (await import('./daemon.js')).benchDaemon({ ctx, durationSeconds: options.durationSeconds, rounds: options.rounds }) : undefined;
    const goals: Record<string, boolean | null> = {
      ...(container && {
        checkAtLeast5xFasterThanAge: container.check.goal.met,
        openAtMost1_2xReadFile: container.open.goal.met,
        seal4GiBUnder256MiBRss: container.seal.goal.met,
        sessionAtMost5PercentSlower: container.session.goal.met,
        keyUnwrapUnder1_7ms: container.session.unlock.goal.met,
      }),
      ...(face && { faceFrameUnder50ms: face.goal.met }),
      ...(he && {
        heMatchUnder20ms: he.goals.match_1to1_ms.met,
        heSearch1000Under1s: he.goals.search_1000_ms.met,
        heErrorUnder1e_4: he.goals.max_abs_error.met,
      }),
      ...(daemon && {
        daemonChecksAtMost0_5PercentThroughput: daemon.goal.overheadMet,
        daemonChecksAtMost0_5PercentThroughputLargeModel: daemon.goal.overheadMetLargeModel,
        daemonLoadWithoutErrors: daemon.goal.loadWithoutErrors,
        daemonLockStopsLaterResponses: daemon.goal.lockStopsLaterResponses,
      }),
      ...Object.fromEntries(
        (factors ?? []).filter((f) => FACTORS_WITH_GOAL.has(f.factor)).map((f) => [`${f.factor}AddsUnder1_7ms`, f.medianMs === null ? null : f.medianMs < FACTOR_GOAL_MAX_MS]),
      ),
    };
    return {
      environment,
      sections,
      sizeBytes,
      runs,
      ...container,
      face,
      factors,
      daemon,
      he,
      ...(he && { match_1to1_ms: he.match_1to1_ms, search_1000_ms: he.search_1000_ms, max_abs_error: he.max_abs_error }),
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

/** Each device factor against the real software device it starts itself (swtpm, SoftHSM2, Chromium). */
async function benchFactors(ctx: BenchContext): Promise<FactorBench[]> {
  const options = { runs: Math.max(15, ctx.runs * 10), log: (line: string) => ctx.log(line) };
  const out: FactorBench[] = [];
  out.push(await (await import('./factor-passkey.js')).benchPasskeyFactor(options));
  out.push(await (await import('./factor-pkcs11.js')).benchPkcs11Factor(options));
  out.push(await (await import('./factor-fido2.js')).benchFido2Factor(options));
  out.push(await (await import('./factor-tpm.js')).benchTpmFactor(options));
  return out;
}

async function benchContainer(ctx: BenchContext, sizeBytes: number, environment: Environment) {
  const fixture = await makeFixture(ctx, sizeBytes);
  const check = await benchCheck(ctx, fixture, environment.age ?? undefined);
  const open = await benchOpen(ctx, fixture);
  const seal = await benchSeal(ctx, fixture);
  const session = await benchSession(ctx, fixture);
  return { check, open, seal, session };
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
  const lines = [
    `bioseal bench: ${r.sections.join(', ')}; median of ${r.runs} runs`,
    `  machine: ${e.cores} cores (${e.cpuModel}), node ${e.node}, OpenSSL ${e.openssl}, AEAD backend ${e.aeadBackend}, ${e.age ? `age ${e.age}` : 'age not installed'}`,
  ];
  if (r.check && r.open && r.seal && r.session) lines.push(...describeContainer(r.sizeBytes, r.check, r.open, r.seal, r.session));
  if (r.face) lines.push(...describeFace(r.face));
  if (r.factors) lines.push(...describeFactors(r.factors));
  if (r.daemon) lines.push(...describeDaemon(r.daemon));
  if (r.he) lines.push(...describeHe(r.he));
  lines.push(
    '',
    `all goals met: ${r.allGoalsMet ? 'yes' : 'no'} (${r.totalSeconds} s in all; load average ${r.loadAverage.start} at the start, ${r.loadAverage.end} at the end)`,
  );
  if (Math.max(r.loadAverage.start, r.loadAverage.end) > e.cores) {
    lines.push(`warning: the machine was busy with other work (load above ${e.cores} cores); the figures are noisy`);
  }
  return lines;
}

function describeFactors(factors: readonly FactorBench[]): string[] {
  const lines = ['', 'device factors: time added to an unlock beyond the person\'s own action (median)'];
  for (const f of factors) {
    if (!f.available || f.medianMs === null) {
      lines.push(`   ${f.factor.padEnd(8)} unavailable (${f.reason})`);
      continue;
    }
    const goal = FACTORS_WITH_GOAL.has(f.factor) ? `; goal < ${FACTOR_GOAL_MAX_MS} ms: ${yes(f.medianMs < FACTOR_GOAL_MAX_MS)}` : '';
    lines.push(`   ${f.factor.padEnd(8)} ${f.medianMs.toFixed(3)} ms over ${f.runs} runs${goal}`);
    lines.push(`            ${f.what}`);
    if (f.parts) lines.push(`            ${Object.entries(f.parts).map(([k, v]) => `${k} ${v.toFixed(3)} ms`).join(', ')}`);
  }
  return lines;
}

function describeHe(h: HeBench): string[] {
  const p = h.parameters;
  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  const z = h.sizes_bytes;
  return [
    '',
    `encrypted template matching: CKKS ${p.name}, N=${p.poly_modulus_degree}, ${p.security_bits}-bit security, ${h.dims} dimensions`,
    `   1:1 service match (multiply, relinearise, rescale): median ${h.match_1to1_ms} ms over ${h.runs.match}; goal < ${HE_GOAL_MATCH_MS} ms: ${yes(h.goals.match_1to1_ms.met)}`,
    `   device: encrypt ${h.encrypt_ms} ms, decrypt ${h.decrypt_ms} ms; service reads both ciphertexts in ${h.read_ms} ms; keys generated in ${h.keygen_ms} ms`,
    `   1:N search over ${h.search_templates} templates (${h.search_groups} groups, chunk ${h.search_chunk}): median ${h.search_ms} ms over ${h.runs.search}; goal < ${HE_GOAL_SEARCH_MS} ms for 1,000: ${yes(h.goals.search_1000_ms.met)}`,
    `   query encrypt ${h.query_encrypt_ms} ms, decrypt all scores ${h.search_decrypt_ms} ms, gallery enrolment ${h.gallery_encrypt_ms} ms`,
    `   max |decrypted - plaintext| ${h.max_abs_error.toExponential(2)} (1:1 ${h.max_abs_error_1to1.toExponential(2)}, search ${h.max_abs_error_search.toExponential(2)}); goal < ${HE_GOAL_MAX_ERROR}: ${yes(h.goals.max_abs_error.met)}`,
    `   sizes: evaluation keys ${kib(z.evaluation_keys)} (public ${kib(z.public_key)}, relinearisation ${kib(z.relin_keys)}, Galois ${kib(z.galois_keys)}), secret key ${kib(z.secret_key)}`,
    `          probe ${kib(z.match_vector)}, score ${kib(z.match_score)}, search query ${kib(z.search_query)}, gallery group ${kib(z.gallery_group)} (gallery ${kib(z.gallery)}), group scores ${kib(z.search_scores)}`,
  ];
}

function describeFace(f: FaceBench): string[] {
  if (!f.available || !f.perFrameMs) return ['', 'face engine', `   unavailable (${f.reason}); goal: n/a`];
  return [
    '',
    `face engine (${f.engine}, ${f.embedder}): one frame of ${f.frame}, face ${f.faceWidthPx} px wide`,
    `   detection + landmarks + quality + anti-spoof + liveness + embedding: min ${f.perFrameMs.min} / median ${f.perFrameMs.median} / p90 ${f.perFrameMs.p90} ms over ${f.frames} frames`,
    `   model load ${f.loadMs} ms, first inference ${f.warmupMs} ms (not counted)`,
    `   goal <= ${FACE_GOAL_MAX_FRAME_MS} ms per frame: ${yes(f.goal.met)}`,
    ...f.engines.map((e) => `   engine ${e.engine}${e.engine === f.engine ? ' (default)' : ''}: ${e.perFrameMs ? `min ${e.perFrameMs.min} / median ${e.perFrameMs.median} / p90 ${e.perFrameMs.p90} ms, load ${e.loadMs} ms` : `unavailable (${e.reason})`}`),
    `   embeddings of the two engines: cosine ${f.embeddingCosine ?? 'n/a'}`,
  ];
}

function describeContainer(sizeBytes: number, check: CheckBench, open: OpenBench, seal: SealBench, session: SessionBench): string[] {
  const s = (x: number) => `${x.toFixed(3)} s`;
  const lines = [
    '',
    `container: ${formatSize(sizeBytes)} of random data`,
    '1. check (authenticate every byte, keep nothing)',
    `   bioseal checkModel   ${s(check.bioseal.medianSeconds)}  ${check.bioseal.gbPerSecond.toFixed(2)} GB/s`,
    `   bioseal check (CLI)  ${s(check.cli.seconds)}  ${check.cli.gbPerSecond.toFixed(2)} GB/s  (one fresh process)`,
  ];
  const age = check.age;
  if (age.available) {
    lines.push(`   age -d > /dev/null   ${s(age.medianSeconds)}  ${age.gbPerSecond.toFixed(2)} GB/s`);
    lines.push(`   bioseal is ${check.speedupVsAge!.toFixed(2)}x faster than age (CLI: ${check.cliSpeedupVsAge!.toFixed(2)}x); goal >= ${check.goal.minSpeedupVsAge}x: ${yes(check.goal.met)}`);
    if (check.cpuRatioVsAge !== null) {
      lines.push(`   CPU time: bioseal ${check.bioseal.cpuSecondsMedian.toFixed(3)} s, age ${age.cpuSecondsMedian!.toFixed(3)} s (all threads): ${check.cpuRatioVsAge.toFixed(2)}x less work`);
    }
  } else {
    lines.push(`   age: unavailable (${age.reason}); goal: n/a`);
  }
  lines.push(
    '',
    '2. open into memory',
    `   openModel            ${s(open.bioseal.medianSeconds)}  ${open.bioseal.gbPerSecond.toFixed(2)} GB/s  (then release() ${s(open.release.medianSeconds)})`,
    `   fs.readFile          ${s(open.readFile.medianSeconds)}  ${open.readFile.gbPerSecond.toFixed(2)} GB/s`,
    `   ratio ${open.ratioVsReadFile.toFixed(3)}x; goal <= ${open.goal.maxRatioVsReadFile}x: ${yes(open.goal.met)}`,
    '',
    '3. seal (child process, file to file, fsync included)',
    `   ${formatSize(seal.full.bytes).padEnd(9)} ${s(seal.full.medianSeconds)}  ${seal.full.gbPerSecond.toFixed(2)} GB/s  peak RSS ${seal.full.maxRssMiB} MiB`,
    `   (the disk alone, write+fsync of as many bytes: ${s(seal.plainWriteFsync.medianSeconds)}  ${seal.plainWriteFsync.gbPerSecond.toFixed(2)} GB/s; seal/disk ${seal.ratioVsPlainWrite.toFixed(2)}x)`,
    `   ${formatSize(seal.quarter.bytes).padEnd(9)} ${s(seal.quarter.medianSeconds)}  ${seal.quarter.gbPerSecond.toFixed(2)} GB/s  peak RSS ${seal.quarter.maxRssMiB} MiB`,
    `   RSS growth ${(seal.rssGrowthBytes / 1024 / 1024).toFixed(1)} MiB for ${formatSize(seal.full.bytes - seal.quarter.bytes)} more input: ${seal.rssFlat ? 'flat' : 'NOT flat'}; ` +
      `extrapolated 4 GiB seal: ${seal.projected4GiBRssMiB} MiB; goal < 256 MiB: ${yes(seal.goal.met)}`,
    '',
    `4. session from a ${(session.modelBytes / 1e6).toFixed(0)} MB sealed ONNX model (key bytes in hand -> ready session)`,
    `   sealed: openModel + createSessionFromMemory  ${s(session.sealed.medianSeconds)}  (bytes handed over: ${session.handoff})`,
    `   plain: InferenceSession.create(path)         ${s(session.plain.medianSeconds)}`,
    `   ${describeSlower(session.slowerPercent)}; goal <= ${session.goal.maxSlowerPercent}% slower: ${yes(session.goal.met)}`,
    ...(session.createSealedSessionWorks
      ? []
      : [`   note: createSealedSession itself failed on this model: ${session.createSealedSessionError}`]),
    `   key unwrap (unlockHeader, keyfile): median ${session.unlock.medianMs.toFixed(3)} ms over ${session.unlock.iterations}; goal < ${session.unlock.goal.maxMedianMs} ms: ${yes(session.unlock.goal.met)}`,
  );
  return lines;
}
