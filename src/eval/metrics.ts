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

function sorted(a: readonly number[]): number[] {
  return [...a].sort((x, y) => x - y);
}

/** Count of values in sorted `a` that are < x. */
function countBelow(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Every distinct threshold with its FMR and FNMR, from accept-all to reject-all. */
export function operatingPoints(s: ScoreSets): OperatingPoint[] {
  const g = sorted(s.genuine);
  const i = sorted(s.impostor);
  const thresholds = [...new Set([...g, ...i])].sort((x, y) => x - y);
  thresholds.push(Infinity);
  return thresholds.map((t) => ({
    threshold: t,
    fmr: i.length ? (i.length - countBelow(i, t)) / i.length : 0,
    fnmr: g.length ? countBelow(g, t) / g.length : 0,
  }));
}

/** Equal error rate: the mean of FMR and FNMR where they cross (interpolated between thresholds). */
export function equalErrorRate(s: ScoreSets): { eer: number; threshold: number } {
  const pts = operatingPoints(s);
  for (let k = 1; k < pts.length; k++) {
    const a = pts[k - 1]!;
    const b = pts[k]!;
    if (a.fmr >= a.fnmr && b.fmr <= b.fnmr) {
      // FMR falls and FNMR rises with the threshold; interpolate the crossing.
      const da = a.fmr - a.fnmr;
      const db = b.fmr - b.fnmr;
      const w = da === db ? 0.5 : da / (da - db);
      const fmr = a.fmr + w * (b.fmr - a.fmr);
      const fnmr = a.fnmr + w * (b.fnmr - a.fnmr);
      return { eer: (fmr + fnmr) / 2, threshold: b.threshold };
    }
  }
  return { eer: 0.5, threshold: NaN };
}

/**
 * The lowest FNMR at which FMR <= target, with its threshold. When the
 * impostor set is too small to resolve the target (fewer than 1/target
 * scores), `resolvable` is false and the figure rests on zero observed false
 * matches.
 */
export function fnmrAtFmr(s: ScoreSets, target: number): OperatingPoint & { resolvable: boolean } {
  const pts = operatingPoints(s);
  const ok = pts.find((p) => p.fmr <= target)!;
  return { ...ok, resolvable: s.impostor.length * target >= 1 };
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
