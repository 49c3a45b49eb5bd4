/**
 * The shape of a per-factor benchmark in `bioseal bench`: the time a factor
 * adds to an unlock beyond the person's own action (a touch, a PIN typed),
 * measured against the real software device the benchmark starts itself.
 */
export interface FactorBench {
  /** The factor's policy name. */
  readonly factor: string;
  /** False when the device or tool could not be started here (see `reason`). */
  readonly available: boolean;
  readonly reason?: string;
  /** Median over the runs, in milliseconds; null when not available. */
  readonly medianMs: number | null;
  readonly runs: number;
  /** What the figure covers, in words. */
  readonly what: string;
  /** Medians of the steps around the headline figure, in milliseconds, by name. */
  readonly parts?: Readonly<Record<string, number>>;
}
