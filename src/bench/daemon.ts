/**
 * The daemon in `bioseal bench` (section `daemon`), on a multi-layer
 * perceptron sealed under a key file and loaded into a daemon started in
 * this process:
 *
 * 1. Per-call cost of the policy and trust checks. In one run, each round
 *    makes one call of every path, in a fresh random order (so neither a
 *    drift in the machine's speed nor a place in the round favours a path):
 *    `direct`, onnxruntime's `session.run` on prepared tensors; `json`, the
 *    daemon's inference step alone (`runModel`: JSON tensors in, JSON out);
 *    `again`, the json path again in a function of its own (an A/A control:
 *    the noise floor of comparing two code paths on this machine); `gated`, the daemon's per-call path
 *    in-process (token check, Cedar decision with the current trust and
 *    factor ages, the call counted for the audit log, inference, the lock
 *    re-check); and `http`, the same call end to end over HTTP on loopback
 *    (JSON parsing, the network stack). All but `http` share one onnxruntime
 *    session, so they differ only in what each adds. The overhead of a path
 *    is the median over rounds of its call time over its baseline's, with a
 *    bootstrap interval over rounds. Appending the counted calls to the
 *    audit log (which the daemon does once per audit window, blocking its
 *    event loop) is timed apart and added as its share of the window. The
 *    checks alone are also timed without inference, which bounds their
 *    share far more tightly than a side-by-side difference can.
 * 2. Load from a second process (autocannon, 100 connections, bounded in
 *    time) on `POST /v1/models/NAME/infer`; then the same with `POST
 *    /v1/lock` sent at half time, where every response the daemon writes
 *    after the lock answer arrived must be a 423. The daemon's writes are
 *    seen through node:diagnostics_channel (`http.server.response.finish`).
 *
 * autocannon is a devDependency: without it the load runs report
 * `available: false` and the per-call figures are still measured.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dc from 'node:diagnostics_channel';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { startDaemon, type Daemon } from '../daemon/server.js';
import { buildMlpModel } from '../onnx/model-builder.js';
import { createSessionFromMemory, runModel, tensorsFromJson, type JsonTensors } from '../onnx/session.js';
import { sealModel } from '../operations/seal.js';
import { seededRandom } from '../eval/metrics.js';
import { median, round, type BenchContext } from './common.js';
import type { LoadMessage, LoadRequest, LoadSummary } from './daemon-load-child.js';

/** The goal: the per-call checks cost at most this share of throughput. */
export const DAEMON_GOAL_MAX_OVERHEAD_PERCENT = 0.5;
/** Length of each load run, seconds (`bioseal bench daemon --duration S`). */
export const DEFAULT_LOAD_SECONDS = 60;
/** Longest load run: trust from an unlock decays below what inference needs after about 10 minutes. */
export const MAX_LOAD_SECONDS = 300;
/** Concurrent clients of the load runs. */
export const LOAD_CONNECTIONS = 100;
/** The benchmark model: 256 inputs, two hidden layers of 2048 with ReLU, 10-way softmax (19 MB; about 2 ms a call on a 2-core machine). */
export const BENCH_MLP = { inputs: 256, hidden: 2048, layers: 2, outputs: 10 } as const;
/**
 * The same comparison on a model of a size people run locally: three hidden
 * layers of 4096 (139 MB, 5-15 ms a call here), where the checks' fixed cost
 * per call is a small share.
 */
export const BENCH_MLP_LARGE = { inputs: 256, hidden: 4096, layers: 3, outputs: 10 } as const;

type MlpSpec = { readonly inputs: number; readonly hidden: number; readonly layers: number; readonly outputs: number };

const MODEL_NAME = 'bench-mlp';
const LARGE_MODEL_NAME = 'bench-mlp-large';
const inferPath = (name: string) => `/v1/models/${name}/infer`;

export interface DaemonBenchOptions {
  readonly ctx: BenchContext;
  /** Seconds of each load run; default 60. */
  readonly durationSeconds?: number;
  /** Timed rounds of the side-by-side comparison (one call of each path per round); default 2000, a quarter of it (at least 100) for the large model. */
  readonly rounds?: number;
}

/** A path's cost against its baseline, from paired rounds. */
export interface OverheadEstimate {
  /** How much slower per call, percent: median over rounds of path/baseline, minus 1. */
  readonly slowerPercent: number;
  /** 95% bootstrap interval of `slowerPercent`, resampling rounds. */
  readonly ci: { readonly low: number; readonly high: number };
  /** Throughput lost, percent: 1 - baseline time / path time. */
  readonly throughputLossPercent: number;
  /**
   * How much slower over the whole run, percent: total path time over total
   * baseline time, minus 1. Unlike the median, it counts the rare slow call
   * (a policy evaluation, a collection) as a run of back-to-back calls
   * would; it also counts whatever else the machine did, so it is noisier.
   */
  readonly totalSlowerPercent: number;
}

/** Responses of a load run, split by status: 2xx, 423, anything else. */
export interface ResponseCount {
  readonly responses: number;
  readonly ok: number;
  readonly locked: number;
  readonly other: number;
}

/** The completion time (ms, wall clock) and HTTP status of each response. */
export interface ResponseLog {
  readonly at: readonly number[];
  readonly status: readonly number[];
}

export interface LoadRun extends LoadSummary {
  readonly connections: number;
  /** Responses the daemon wrote (diagnostics channel), by status. */
  readonly written: ResponseCount;
  /** Internal errors the daemon reported during the run. */
  readonly internalErrors: number;
}

export interface LockRun extends LoadRun {
  /** Seconds into the run when POST /v1/lock was sent. */
  readonly lockSentAfterSeconds: number;
  /** From sending POST /v1/lock to its answer arriving, ms. */
  readonly lockAnswerMs: number;
  /** Responses the daemon wrote after the lock answer arrived: all must be 423. */
  readonly writtenAfterLock: ResponseCount;
  /** Responses the load generator completed after the lock answer arrived (2xx here were written before it, in flight). */
  readonly completedAfterLock: ResponseCount;
}

export type Unavailable = { readonly available: false; readonly reason: string };

export interface BenchModel {
  readonly description: string;
  readonly bytes: number;
  readonly inputs: number;
  readonly hidden: number;
  readonly layers: number;
  readonly outputs: number;
}

/** One model's paths side by side. */
export type PerCall = {
  readonly rounds: number;
  /** Median time of one call on each path, ms. */
  readonly medianMs: { readonly direct: number; readonly json: number; readonly gated: number; readonly http: number };
  /** gated against json: what the token, trust, policy and lock checks cost per call, counting the call for the audit log. */
  readonly checks: OverheadEstimate;
  /** json against a copy of itself (identical code, a function of its own): how precise a side-by-side figure can be on this machine. */
  readonly noiseFloor: OverheadEstimate;
  /**
   * Appending the counted calls to the audit log (one entry, a signed head,
   * an fsync), which the daemon does once every `everyMs` under load,
   * blocking its event loop for `medianMs`: `sharePercent` of throughput.
   */
  readonly auditAppend: { readonly medianMs: number; readonly everyMs: number; readonly sharePercent: number };
  /**
   * The Cedar evaluations the gated calls made (a standing decision ends
   * where trust or a factor's age crosses a cut of the policy, and after
   * a minute): how many, their mean time, and their time as a share of the json
   * calls' time (the median comparison leaves rare slow calls out, so they
   * are counted here).
   */
  readonly policyEvaluations: { readonly count: number; readonly calls: number; readonly meanMs: number; readonly sharePercent: number };
  /** checks.throughputLossPercent + auditAppend.sharePercent + policyEvaluations.sharePercent: the goal's figure. */
  readonly totalThroughputLossPercent: number;
  /** gated against direct: the checks plus turning JSON into tensors and back. */
  readonly gatedVsDirect: OverheadEstimate;
  /** http against direct: everything a client over HTTP sees (parsing, network stack, checks, conversion). */
  readonly httpVsDirect: OverheadEstimate;
  /** The checks timed alone, without inference, µs per call: token and lock checks, the decision, the audit entry and its share of the batch write. */
  readonly checksAloneUs: number;
  /** checksAloneUs as a share of the json call, percent. */
  readonly checksAloneSharePercent: number;
  /**
   * What the gated path adds to a call side by side, µs (the json call times
   * the checks' slowdown). It does not grow with the model, so the same
   * checks cost `goal` percent or less of models that take
   * `modelMsForGoal` ms or more per call.
   */
  readonly fixedCostUs: number;
  readonly modelMsForGoal: number;
};

export interface DaemonBench {
  readonly model: BenchModel;
  readonly perCall: PerCall;
  /** The same comparison on {@link BENCH_MLP_LARGE}. */
  readonly large: { readonly model: BenchModel; readonly perCall: PerCall };
  readonly load: (LoadRun & { readonly available: true }) | Unavailable;
  readonly lock: (LockRun & { readonly available: true }) | Unavailable;
  readonly goal: {
    readonly maxOverheadPercent: number;
    /** perCall.totalThroughputLossPercent within the goal (the small model: the strictest case). */
    readonly overheadMet: boolean;
    /** large.perCall.totalThroughputLossPercent within the goal. */
    readonly overheadMetLargeModel: boolean;
    /** No connection errors, timeouts or non-2xx answers under load (null when the load run was not possible). */
    readonly loadWithoutErrors: boolean | null;
    /** No response but 423 written after the lock answer arrived, and the lock did land mid-run (null when not run). */
    readonly lockStopsLaterResponses: boolean | null;
  };
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * The overhead of `path` over `baseline` from per-round call times
 * (paired: round i of one with round i of the other).
 * @throws {RangeError} without at least one pair, or with a non-positive time
 */
export function overheadEstimate(baseline: readonly number[], pathTimes: readonly number[], options: { replicates?: number; seed?: number } = {}): OverheadEstimate {
  if (baseline.length === 0 || baseline.length !== pathTimes.length) throw new RangeError('overhead needs as many path rounds as baseline rounds, at least one');
  if ([...baseline, ...pathTimes].some((t) => !(t > 0) || !Number.isFinite(t))) throw new RangeError('round times must be positive');
  const ratios = baseline.map((b, i) => pathTimes[i]! / b);
  const replicates = options.replicates ?? 2000;
  const rnd = seededRandom(options.seed ?? 1);
  const medians: number[] = [];
  for (let r = 0; r < replicates; r++) medians.push(median(ratios.map(() => ratios[Math.floor(rnd() * ratios.length)]!)));
  medians.sort((a, b) => a - b);
  const ratio = median(ratios);
  const pct = (x: number) => round(100 * (x - 1), 3);
  return {
    slowerPercent: pct(ratio),
    ci: { low: pct(medians[Math.floor(0.025 * (replicates - 1))]!), high: pct(medians[Math.ceil(0.975 * (replicates - 1))]!) },
    throughputLossPercent: round(100 * (1 - 1 / ratio), 3),
    totalSlowerPercent: pct(sum(pathTimes) / sum(baseline)),
  };
}

/** Counts the responses of `log` completed strictly after `after` (ms; default: all). */
export function countResponses(log: ResponseLog, after = -Infinity): ResponseCount {
  let responses = 0;
  let ok = 0;
  let locked = 0;
  for (let i = 0; i < log.at.length; i++) {
    if (!(log.at[i]! > after)) continue;
    responses++;
    const s = log.status[i]!;
    if (s >= 200 && s < 300) ok++;
    else if (s === 423) locked++;
  }
  return { responses, ok, locked, other: responses - ok - locked };
}

/** Whether a lock run met the goal: it landed mid-run, and nothing but 423 was written after its answer arrived. */
export function lockRunMet(r: Pick<LockRun, 'writtenAfterLock' | 'written' | 'errors' | 'timeouts'>): boolean {
  const a = r.writtenAfterLock;
  return a.ok === 0 && a.other === 0 && a.locked > 0 && r.written.ok > 0 && r.errors === 0 && r.timeouts === 0;
}

const wallNow = () => performance.timeOrigin + performance.now();

/** One request to the daemon; resolves with the status and the parsed body. */
function call(agent: http.Agent, port: number, method: string, urlPath: string, body?: string, token?: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        agent,
        headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...(token && { authorization: `Bearer ${token}` }) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
          } catch (error) {
            reject(error);
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A deterministic input row for the model. */
function benchInput(): JsonTensors {
  const data = Array.from({ length: BENCH_MLP.inputs }, (_, i) => Math.round(1000 * Math.sin(i + 1)) / 1000);
  return { input: { type: 'float32', dims: [1, BENCH_MLP.inputs], data } };
}

function describeModel(spec: MlpSpec, bytes: number): BenchModel {
  return { description: `MLP ${spec.inputs}-${Array(spec.layers).fill(spec.hidden).join('-')}-${spec.outputs} (ReLU, softmax), batch 1`, bytes, ...spec };
}

/** Whether the load generator can run here. */
function autocannonAvailable(): string | undefined {
  try {
    createRequire(import.meta.url).resolve('autocannon');
    return undefined;
  } catch {
    return 'autocannon is not installed (it is a devDependency: npm install in a checkout)';
  }
}

/** Runs the daemon benchmark. */
export async function benchDaemon(options: DaemonBenchOptions): Promise<DaemonBench> {
  const { ctx } = options;
  const durationSeconds = options.durationSeconds ?? DEFAULT_LOAD_SECONDS;
  const rounds = options.rounds ?? 2000;
  if (!(durationSeconds >= 1 && durationSeconds <= MAX_LOAD_SECONDS)) throw new RangeError(`daemon bench duration must be 1..${MAX_LOAD_SECONDS} s`);
  const modelBytes = buildMlpModel(BENCH_MLP);
  const home = path.join(ctx.dir, 'daemon-home');
  const key = new Uint8Array(randomBytes(32));
  const sealedPath = (name: string) => path.join(ctx.dir, `${name}.bseal`);
  await sealModel({ input: modelBytes, output: sealedPath(MODEL_NAME), policies: ['keyfile'], keyFiles: [key], home, useIdentities: false });
  let internalErrors = 0;
  const daemon = await startDaemon({ home, port: 0, onInternalError: () => internalErrors++ });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const plain = await createSessionFromMemory(modelBytes);
  try {
    // Each part starts from a fresh unlock, so trust decay over a long run cannot deny inference.
    // On a connection of its own: the kept-alive one may have idled past the server's keep-alive timeout.
    const unlock = async (name = MODEL_NAME): Promise<string> => {
      await daemon.lock('command', 'bench: a fresh unlock for the next part');
      const loaded = await call(new http.Agent({ keepAlive: false }), daemon.port, 'POST', '/v1/models', JSON.stringify({ name, path: sealedPath(name), unlock: { keyfile: Buffer.from(key).toString('base64') } }));
      if (loaded.status !== 201) throw new Error(`the daemon did not load the bench model: ${loaded.status} ${JSON.stringify(loaded.body)}`);
      return loaded.body.token as string;
    };
    ctx.log(`daemon: per-call paths side by side, ${rounds} rounds of one call each`);
    const perCall = await measurePerCall(daemon, plain, agent, await unlock(), rounds, MODEL_NAME);
    // The large model: sealed, loaded and compared the same way, then released before the load runs.
    const largeBytes = buildMlpModel(BENCH_MLP_LARGE);
    const largeRounds = Math.max(100, Math.round(rounds / 4));
    await sealModel({ input: largeBytes, output: sealedPath(LARGE_MODEL_NAME), policies: ['keyfile'], keyFiles: [key], home, useIdentities: false });
    const plainLarge = await createSessionFromMemory(largeBytes);
    let large: DaemonBench['large'];
    try {
      ctx.log(`daemon: the same on a ${(largeBytes.length / 1e6).toFixed(0)} MB model, ${largeRounds} rounds`);
      large = { model: describeModel(BENCH_MLP_LARGE, largeBytes.length), perCall: await measurePerCall(daemon, plainLarge, agent, await unlock(LARGE_MODEL_NAME), largeRounds, LARGE_MODEL_NAME) };
    } finally {
      await plainLarge.release();
    }
    const missing = autocannonAvailable();
    const body = JSON.stringify({ inputs: benchInput() });
    const counted = () => internalErrors;
    let load: DaemonBench['load'];
    let lock: DaemonBench['lock'];
    if (missing) {
      load = { available: false, reason: missing };
      lock = { available: false, reason: missing };
    } else {
      ctx.log(`daemon: ${LOAD_CONNECTIONS} clients for ${durationSeconds} s from a second process`);
      load = { available: true, ...(await loadRun(daemon, await unlock(), body, durationSeconds, false, counted)) };
      ctx.log(`daemon: ${LOAD_CONNECTIONS} clients for ${durationSeconds} s with POST /v1/lock at ${durationSeconds / 2} s`);
      lock = { available: true, ...((await loadRun(daemon, await unlock(), body, durationSeconds, true, counted)) as LockRun) };
    }
    return {
      model: describeModel(BENCH_MLP, modelBytes.length),
      perCall,
      large,
      load,
      lock,
      goal: {
        maxOverheadPercent: DAEMON_GOAL_MAX_OVERHEAD_PERCENT,
        overheadMet: perCall.totalThroughputLossPercent <= DAEMON_GOAL_MAX_OVERHEAD_PERCENT,
        overheadMetLargeModel: large.perCall.totalThroughputLossPercent <= DAEMON_GOAL_MAX_OVERHEAD_PERCENT,
        loadWithoutErrors: load.available ? load.errors === 0 && load.timeouts === 0 && load.non2xx === 0 && load.internalErrors === 0 : null,
        lockStopsLaterResponses: lock.available ? lockRunMet(lock) : null,
      },
    };
  } finally {
    agent.destroy();
    await plain.release();
    await daemon.close();
  }
}

type Arm = 'direct' | 'json' | 'again' | 'gated' | 'http';
const ARMS: readonly Arm[] = ['direct', 'json', 'again', 'gated', 'http'];
const WARMUP_ROUNDS = 50;

async function measurePerCall(daemon: Daemon, plain: InferenceSession, agent: http.Agent, token: string, rounds: number, name: string): Promise<PerCall> {
  const input = benchInput();
  const feeds: Record<string, Tensor> = tensorsFromJson(input, plain);
  const body = JSON.stringify({ inputs: input });
  const session = daemon.session;
  const audit = session.gate.audit;
  // As the infer route does it, for one client connection.
  const connection = {};
  const checks = () => {
    const now = Date.now();
    const epoch = session.authorize(token, now, connection);
    session.gate.require('model:infer', session.models.resource(name), 'socket', now);
    return epoch;
  };
  const json = async () => {
    const out = await runModel(plain, input);
    return out;
  };
  const calls: Record<Arm, () => Promise<unknown>> = {
    // Each path is one async function awaiting its call, so that they differ only in what they do.
    direct: async () => {
      const out = await plain.run(feeds);
      return out;
    },
    json,
    // The json path again, as a function of its own: how far two paths that
    // differ in nothing but their place in memory differ here (the noise floor).
    again: async () => {
      const out = await runModel(plain, input);
      return out;
    },
    gated: async () => {
      const epoch = checks();
      const out = await runModel(plain, input);
      session.assertStill(epoch);
      return out;
    },
    http: async () => {
      const r = await call(agent, daemon.port, 'POST', inferPath(name), body, token);
      if (r.status !== 200) throw new Error(`inference over HTTP answered ${r.status}: ${JSON.stringify(r.body)}`);
    },
  };
  const ms: Record<Arm, number[]> = { direct: [], json: [], again: [], gated: [], http: [] };
  const flushMs: number[] = [];
  // Cedar evaluations made by the gated calls (the policy counts and times its own).
  const policy = session.gate.policy.evaluations;
  const evaluations = { count: 0, ms: 0 };
  const rnd = seededRandom(5);
  let flushed = performance.now();
  for (let r = -WARMUP_ROUNDS; r < rounds; r++) {
    // The counted calls go to the audit log between rounds, timed apart, well
    // within the daemon's own audit window (whose timer thus never fires
    // inside a round); their cost is added as its share of that window.
    if (performance.now() - flushed > Math.min(1000, audit.flushMs / 2)) {
      const f = performance.now();
      audit.flush();
      flushed = performance.now();
      if (r >= 0) flushMs.push(flushed - f);
    }
    // One call of each path, in a fresh random order: neither a drift in the
    // machine's speed nor a place in the round favours any path.
    const order = [...ARMS];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const arm of order) {
      const before = { count: policy.count, ms: policy.ms };
      const t = performance.now();
      await calls[arm]();
      if (r >= 0) ms[arm].push(performance.now() - t);
      if (r >= 0 && arm === 'gated') {
        evaluations.count += policy.count - before.count;
        evaluations.ms += policy.ms - before.ms;
      }
    }
  }
  // The checks alone, many times: what the gated path adds, without the noise of inference.
  const alone = 20_000;
  const t0 = performance.now();
  for (let i = 0; i < alone; i++) session.assertStill(checks());
  const checksAloneUs = ((performance.now() - t0) * 1000) / alone;
  audit.flush();
  const med = (a: readonly number[]) => round(median(a), 4);
  const jsonMs = median(ms.json);
  const checksEstimate = overheadEstimate(ms.json, ms.gated);
  const flushMedian = flushMs.length ? median(flushMs) : 0;
  const auditShare = (100 * flushMedian) / audit.flushMs;
  const policyShare = (100 * evaluations.ms) / rounds / jsonMs;
  const fixedCostUs = Math.max(0, 1000 * jsonMs * (checksEstimate.slowerPercent / 100));
  return {
    rounds,
    medianMs: { direct: med(ms.direct), json: med(ms.json), gated: med(ms.gated), http: med(ms.http) },
    checks: checksEstimate,
    noiseFloor: overheadEstimate(ms.json, ms.again),
    auditAppend: { medianMs: round(flushMedian, 4), everyMs: audit.flushMs, sharePercent: round(auditShare, 3) },
    policyEvaluations: { count: evaluations.count, calls: rounds, meanMs: round(evaluations.count ? evaluations.ms / evaluations.count : 0, 4), sharePercent: round(policyShare, 3) },
    totalThroughputLossPercent: round(checksEstimate.throughputLossPercent + auditShare + policyShare, 3),
    gatedVsDirect: overheadEstimate(ms.direct, ms.gated),
    httpVsDirect: overheadEstimate(ms.direct, ms.http),
    checksAloneUs: round(checksAloneUs, 2),
    checksAloneSharePercent: round((100 * checksAloneUs) / 1000 / jsonMs, 3),
    fixedCostUs: round(fixedCostUs, 1),
    modelMsForGoal: round(fixedCostUs / 1000 / (DAEMON_GOAL_MAX_OVERHEAD_PERCENT / 100), 1),
  };
}

/** One load run from the child process; with `lockMidRun`, POST /v1/lock at half time. */
async function loadRun(daemon: Daemon, token: string, body: string, durationSeconds: number, lockMidRun: boolean, internalErrors: () => number): Promise<LoadRun | LockRun> {
  const written = { at: [] as number[], status: [] as number[] };
  const onFinish = (m: unknown) => {
    const { request, response } = m as { request: http.IncomingMessage; response: http.ServerResponse };
    if (request.url !== inferPath(MODEL_NAME)) return;
    written.at.push(wallNow());
    written.status.push(response.statusCode);
  };
  const errorsBefore = internalErrors();
  dc.subscribe('http.server.response.finish', onFinish);
  const child = fork(path.join(path.dirname(fileURLToPath(import.meta.url)), 'daemon-load-child.js'), [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let lockTimer: NodeJS.Timeout | undefined;
  try {
    const lockAgent = new http.Agent({ keepAlive: false });
    let lockSentAt = NaN;
    let startedAt = NaN;
    let answered: Promise<number> | undefined;
    const done = await new Promise<Extract<LoadMessage, { type: 'done' }>>((resolve, reject) => {
      child.on('message', (m: LoadMessage) => {
        if (m.type === 'started') {
          startedAt = m.at;
          if (!lockMidRun) return;
          lockTimer = setTimeout(() => {
            lockSentAt = wallNow();
            answered = call(lockAgent, daemon.port, 'POST', '/v1/lock').then((r) => {
              if (r.status !== 200) throw new Error(`POST /v1/lock answered ${r.status}`);
              return wallNow();
            });
            // Awaited below; a failure must not go unhandled meanwhile.
            answered.catch(() => undefined);
          }, (durationSeconds * 1000) / 2);
        } else if (m.type === 'done') resolve(m);
        else reject(new Error(`the load generator failed: ${m.message}`));
      });
      child.on('close', (code) => reject(new Error(`the load generator exited (${code}) before reporting${stderr ? `: ${stderr.trim().split('\n').slice(-5).join(' | ')}` : ''}`)));
      const request: LoadRequest = { url: `http://127.0.0.1:${daemon.port}${inferPath(MODEL_NAME)}`, token, body, connections: LOAD_CONNECTIONS, durationSeconds };
      child.send(request);
    });
    // Under load the lock takes effect at once but its answer can come late (it waits for the models' release): wait for it.
    const lockAt = answered ? await answered : NaN;
    lockAgent.destroy();
    const run: LoadRun = { ...done.summary, connections: LOAD_CONNECTIONS, written: countResponses(written), internalErrors: internalErrors() - errorsBefore };
    if (!lockMidRun) return run;
    if (!answered) throw new Error('the load run ended before the lock was sent');
    return {
      ...run,
      lockSentAfterSeconds: round((lockSentAt - startedAt) / 1000, 3),
      lockAnswerMs: round(lockAt - lockSentAt, 3),
      writtenAfterLock: countResponses(written, lockAt),
      completedAfterLock: countResponses({ at: done.at, status: done.status }, lockAt),
    } satisfies LockRun;
  } finally {
    clearTimeout(lockTimer);
    dc.unsubscribe('http.server.response.finish', onFinish);
    if (child.exitCode === null) child.kill();
  }
}
