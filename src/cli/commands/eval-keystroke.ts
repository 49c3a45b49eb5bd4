/**
 * `bioseal eval keystroke FILE.csv`: prints what src/eval/keystroke-eval.ts
 * measures, with the scaled Manhattan baseline side by side.
 */
import { UsageError } from '../../errors.js';
import type { Output } from '../output.js';

export async function evalKeystroke(positionals: readonly string[], values: Record<string, unknown>, out: Output): Promise<number> {
  const [file, ...rest] = positionals;
  if (!file || rest.length) throw new UsageError('eval keystroke takes one FILE.csv');
  const features = (values.features as string | undefined) ?? 'all';
  if (features !== 'all' && features !== 'timing') throw new UsageError('--features must be "all" or "timing"');
  const { readKeystrokeCsv, evaluateKeystroke } = await import('../../eval/keystroke-eval.js');
  const report = evaluateKeystroke(readKeystrokeCsv(file), { features });
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  const ci = (c: { low: number; high: number }) => `95% CI ${pct(c.low)}-${pct(c.high)}`;
  out.info(`${report.subjects} subjects, ${report.feature_count} ${features} features; enrolled on ${report.train_repetitions} repetitions, impostors: first ${report.impostor_repetitions} of every other subject`);
  out.info(`comparisons: ${report.genuine_comparisons} genuine, ${report.impostor_comparisons} impostor`);
  out.info(`mean EER over subjects: ${pct(report.eer)} (${ci(report.eer_ci)})   baseline scaled Manhattan: ${pct(report.baseline.eer)} (${ci(report.baseline.eer_ci)})`);
  out.info(`pooled EER (one threshold for all): ${pct(report.pooled_eer)}   baseline: ${pct(report.baseline.pooled_eer)}`);
  out.info(`mean EER over the held-out half (subjects at even positions): ${pct(report.eer_held_out)}`);
  out.info(`calibration fitted on the other half: alpha ${report.calibration.fitted.alpha.toFixed(4)}, beta ${report.calibration.fitted.beta.toFixed(4)}; held-out Cllr ${report.calibration.cllr_held_out.toFixed(3)} bits (shipped map: ${report.calibration.cllr_default.toFixed(3)})`);
  if (values.plot) {
    const { detSvg, writePlot } = await import('../../eval/det-plot.js');
    const plot = values.plot as string;
    await writePlot(plot, detSvg([
      { label: `density, pooled (EER ${pct(report.pooled_eer)})`, scores: report.scores.detector },
      { label: `scaled Manhattan (EER ${pct(report.baseline.pooled_eer)})`, scores: report.scores.baseline },
    ], `DET: keystroke, ${features} features`));
    out.info(`DET curve written to ${plot}`);
  }
  const { scores: _scores, ...summary } = report;
  out.result({ ...summary, file });
  return 0;
}
