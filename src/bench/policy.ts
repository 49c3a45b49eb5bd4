/**
 * The cost of the checks the daemon makes on every inference call: one
 * Cedar decision (`isAuthorized` on the pre-parsed default policy), the same
 * decision answered from the decision cache, and the trust read (decay).
 * Medians over `runs` batches after warm-up; the request varies trust and
 * factor ages so Cedar evaluates real conditions.
 */
import { PolicyAuthorizer } from '../policy/cedar/authorizer.js';
import { toCedarRequest, type AuthorizationRequest } from '../policy/cedar/request.js';
import { TrustEngine } from '../trust/trust-engine.js';
import { median, round } from './common.js';

/** Decisions per timed batch. */
const BATCH = 200;

export interface PolicyBench {
  /** Cedar decisions per second (1e6 / medianUs). */
  readonly decisionsPerSecond: number;
  /** Median time of one Cedar decision, microseconds. */
  readonly medianUs: number;
  /** One decision answered from the cache (request checked, key built, looked up). */
  readonly cached: { readonly decisionsPerSecond: number; readonly medianUs: number };
  /** Reading the session's decayed trust. */
  readonly trustMedianUs: number;
  /** Loading the wasm engine, the schema and the default policy. */
  readonly loadMs: number;
  readonly runs: number;
  readonly decisionsPerRun: number;
}

/**
 * Measures policy and trust checks.
 * @throws {RangeError} when runs is not 1..1000
 */
export async function benchPolicy({ runs = 20 }: { runs?: number } = {}): Promise<PolicyBench> {
  if (!Number.isInteger(runs) || runs < 1 || runs > 1000) throw new RangeError('policy bench runs must be 1..1000');
  const started = performance.now();
  const policy = await PolicyAuthorizer.load();
  const loadMs = performance.now() - started;
  const now = Date.now();
  const request = (i: number): AuthorizationRequest => ({
    principal: { id: 'bench', uid: 1000 },
    action: i % 4 === 0 ? 'model:load' : 'model:infer',
    resource: { type: 'Model', id: 'bench-model', name: 'bench-model', sensitivity: 'internal', labels: ['bench'] },
    trust: 0.3 + (i % 7) / 10,
    factorAge: { face: i % 400, keystroke: 5 },
    client: { transport: 'socket', uid: 1000 },
    now,
  });
  const calls = Array.from({ length: BATCH }, (_, i) => toCedarRequest(request(i)));
  const requests = Array.from({ length: BATCH }, (_, i) => request(i));
  const engine = new TrustEngine();
  const state = engine.start(now, [{ modality: 'unlock', observedAt: now, factors: ['face', 'keyfile'] }]).state;

  const perCallUs = (work: (i: number) => unknown): number => {
    for (let i = 0; i < BATCH; i++) work(i);
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t = performance.now();
      for (let i = 0; i < BATCH; i++) work(i);
      times.push(((performance.now() - t) * 1000) / BATCH);
    }
    return median(times);
  };
  const cedarUs = perCallUs((i) => policy.evaluate(calls[i]!));
  const cachedUs = perCallUs((i) => policy.authorize(requests[i]!));
  const trustUs = perCallUs((i) => engine.trustAt(state, now + i));
  return {
    decisionsPerSecond: Math.round(1e6 / cedarUs),
    medianUs: round(cedarUs, 2),
    cached: { decisionsPerSecond: Math.round(1e6 / cachedUs), medianUs: round(cachedUs, 2) },
    trustMedianUs: round(trustUs, 3),
    loadMs: round(loadMs, 1),
    runs,
    decisionsPerRun: BATCH,
  };
}
