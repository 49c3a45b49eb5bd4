/**
 * Detection error trade-off (DET) curves (Martin et al., Eurospeech 1997):
 * FNMR against FMR on normal-deviate (probit) axes, where the curves of
 * normally distributed scores are straight lines. Written as SVG; PNG through
 * sharp when the output name ends in .png.
 */
import { writeFile } from 'node:fs/promises';
import { operatingPoints, type ScoreSets } from './metrics.js';

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function probit(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - pl) return -probit(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

export interface DetSeries {
  readonly label: string;
  readonly scores: ScoreSets;
}

const TICKS = [1e-5, 1e-4, 1e-3, 1e-2, 0.05, 0.2, 0.5];
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

function label(p: number): string {
  return p >= 0.01 ? `${+(p * 100).toFixed(0)}%` : p.toExponential(0).replace('e-', 'e-');
}

/** Renders DET curves as an SVG document. */
export function detSvg(series: readonly DetSeries[], title: string): string {
  const W = 640;
  const H = 560;
  const m = { l: 70, r: 20, t: 40, b: 60 };
  const lo = probit(1e-5);
  const hi = probit(0.5);
  const x = (p: number) => m.l + ((Math.max(lo, Math.min(hi, probit(p))) - lo) / (hi - lo)) * (W - m.l - m.r);
  const y = (p: number) => H - m.b - ((Math.max(lo, Math.min(hi, probit(p))) - lo) / (hi - lo)) * (H - m.t - m.b);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${escape(title)}</text>`);
  for (const t of TICKS) {
    parts.push(`<line x1="${x(t)}" y1="${m.t}" x2="${x(t)}" y2="${H - m.b}" stroke="#ddd"/><text x="${x(t)}" y="${H - m.b + 16}" text-anchor="middle">${label(t)}</text>`);
    parts.push(`<line x1="${m.l}" y1="${y(t)}" x2="${W - m.r}" y2="${y(t)}" stroke="#ddd"/><text x="${m.l - 6}" y="${y(t) + 4}" text-anchor="end">${label(t)}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${W / 2}" y="${H - 18}" text-anchor="middle">false match rate (FMR)</text>`);
  parts.push(`<text transform="translate(18 ${H / 2}) rotate(-90)" text-anchor="middle">false non-match rate (FNMR)</text>`);
  series.forEach((s, k) => {
    // Millions of thresholds collapse to a few thousand pixels: keep a point
    // only when it moves at least half a pixel from the last one kept.
    const path: string[] = [];
    let lastX = NaN;
    let lastY = NaN;
    for (const p of operatingPoints(s.scores)) {
      if (!(p.fmr > 0 && p.fnmr > 0)) continue;
      const px = x(p.fmr);
      const py = y(p.fnmr);
      if (Math.abs(px - lastX) < 0.5 && Math.abs(py - lastY) < 0.5) continue;
      path.push(`${path.length ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`);
      lastX = px;
      lastY = py;
    }
    const d = path.join('');
    const colour = COLOURS[k % COLOURS.length];
    if (d) parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    parts.push(`<line x1="${W - 230}" y1="${m.t + 18 + k * 18}" x2="${W - 205}" y2="${m.t + 18 + k * 18}" stroke="${colour}" stroke-width="3"/><text x="${W - 198}" y="${m.t + 22 + k * 18}">${escape(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Writes SVG, or PNG when `file` ends in .png (rendered by sharp). */
export async function writePlot(file: string, svg: string): Promise<void> {
  if (file.toLowerCase().endsWith('.png')) {
    const { default: sharp } = await import('sharp');
    await sharp(Buffer.from(svg)).png().toFile(file);
  } else {
    await writeFile(file, svg);
  }
}
