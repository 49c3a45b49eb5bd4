/**
 * Biometric verification metrics (ISO/IEC 19795-1): error rates from
 * genuine and impostor comparison scores, where a higher score means more
 * alike and a comparison is accepted when score >= threshold.
 *
 * - FMR(τ): fraction of impostor scores >= τ (false matches)
 * - FNMR(τ): fraction of genuine scores < τ (false non-matches)
 * - EER: the rate where FMR = FNMR
 */

export interface ScoreSets {
  readonly genuine: readonly number[];
  readonly impostor: readonly number[];
}

export interface OperatingPoint {
  readonly threshold: number;
  readonly fmr: number;
  readonly fnmr: number;
}

function sorted(a: readonly number[]): Float64Array {
  return Float64Array.from(a).sort();
}

/** Count of values in sorted `a` that are < x. */
function countBelow(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Every distinct threshold with its FMR and FNMR, from accept-all to
 * reject-all (for plots; the metrics below sweep without building this list).
 */
export function operatingPoints(s: ScoreSets): OperatingPoint[] {
  const g = sorted(s.genuine);
  const i = sorted(s.impostor);
  const thresholds = Float64Array.from(new Set([...g, ...i])).sort();
  const out: OperatingPoint[] = [];
  for (const t of [...thresholds, Infinity]) {
    out.push({
      threshold: t,
      fmr: i.length ? (i.length - countBelow(i, t)) / i.length : 0,
      fnmr: g.length ? countBelow(g, t) / g.length : 0,
    });
  }
  return out;
}

/**
 * Equal error rate: the mean of FMR and FNMR where they cross, interpolated
 * between neighbouring thresholds. One merge-style sweep over the sorted scores.
 */
export function equalErrorRate(s: ScoreSets): { eer: number; threshold: number } {
  const g = sorted(s.genuine);
  const i = sorted(s.impostor);
  if (g.length === 0 || i.length === 0) return { eer: 0.5, threshold: NaN };
  // Threshold t accepts scores >= t. Walk t upward over the distinct scores.
  let gi = 0;
  let ii = 0;
  let prev = { fmr: 1, fnmr: 0, t: -Infinity };
  while (gi < g.length || ii < i.length) {
    const t = Math.min(gi < g.length ? g[gi]! : Infinity, ii < i.length ? i[ii]! : Infinity);
    const fmr = (i.length - ii) / i.length;
    const fnmr = gi / g.length;
    if (fmr <= fnmr) {
      const da = prev.fmr - prev.fnmr;
      const db = fmr - fnmr;
      const w = da === db ? 0.5 : da / (da - db);
      return { eer: (prev.fmr + w * (fmr - prev.fmr) + prev.fnmr + w * (fnmr - prev.fnmr)) / 2, threshold: t };
    }
    prev = { fmr, fnmr, t };
    while (gi < g.length && g[gi] === t) gi++;
    while (ii < i.length && i[ii] === t) ii++;
  }
  // Past the highest score: accept nothing.
  const da = prev.fmr - prev.fnmr;
  const db = 0 - 1;
  const w = da / (da - db);
  return { eer: (prev.fmr + w * (0 - prev.fmr) + prev.fnmr + w * (1 - prev.fnmr)) / 2, threshold: Infinity };
}

/**
 * The lowest FNMR at which FMR <= target, with its threshold: just above
 * the (k+1)-th highest impostor score, k = floor(target x impostors). When
 * the impostor set is too small to resolve the target (fewer than 1/target
 * scores), `resolvable` is false and the figure rests on zero observed false
 * matches.
 */
export function fnmrAtFmr(s: ScoreSets, target: number): OperatingPoint & { resolvable: boolean } {
  const g = sorted(s.genuine);
  const i = sorted(s.impostor);
  const allowed = Math.floor(target * i.length);
  const resolvable = i.length * target >= 1;
  if (allowed >= i.length) return { threshold: -Infinity, fmr: 1, fnmr: 0, resolvable };
  const v = i[i.length - 1 - allowed]!; // the (allowed+1)-th highest impostor score
  const threshold = nextUp(v);
  const fmr = (i.length - countBelow(i, threshold)) / i.length;
  return { threshold, fmr, fnmr: g.length ? countBelow(g, threshold) / g.length : 0, resolvable };
}

/** The smallest double greater than x. */
function nextUp(x: number): number {
  if (x === Infinity || Number.isNaN(x)) return x;
  if (x === 0) return Number.MIN_VALUE;
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  buf.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return buf.getFloat64(0);
}

/** A two-sided percentile interval from bootstrap replicates. */
export interface Interval {
  readonly low: number;
  readonly high: number;
}

/** Deterministic PRNG (mulberry32) so that reported intervals are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Bootstrap over subjects: comparisons of one person are correlated, so the
 * resampling unit is the person (Bolle et al., "Guide to Biometrics", §16).
 * `bySubject` maps each subject to the scores of comparisons it takes part in
 * as the enrolled side.
 */
export function bootstrapBySubject(
  bySubject: ReadonlyMap<string, ScoreSets>,
  statistic: (s: ScoreSets) => number,
  options: { replicates?: number; level?: number; seed?: number } = {},
): Interval {
  const subjects = [...bySubject.keys()];
  const rnd = seededRandom(options.seed ?? 1);
  const values: number[] = [];
  for (let r = 0; r < (options.replicates ?? 200); r++) {
    const genuine: number[] = [];
    const impostor: number[] = [];
    for (let k = 0; k < subjects.length; k++) {
      const s = bySubject.get(subjects[Math.floor(rnd() * subjects.length)]!)!;
      genuine.push(...s.genuine);
      impostor.push(...s.impostor);
    }
    values.push(statistic({ genuine, impostor }));
  }
  values.sort((a, b) => a - b);
  const alpha = (1 - (options.level ?? 0.95)) / 2;
  return { low: values[Math.floor(alpha * (values.length - 1))]!, high: values[Math.ceil((1 - alpha) * (values.length - 1))]! };
}
