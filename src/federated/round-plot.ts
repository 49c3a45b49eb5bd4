/**
 * The per-round chart of `bioseal eval federated --plot`: clean accuracy and
 * attack success against the round, with the unattacked run dashed, as SVG
 * (laid out like the DET curves of src/eval/det-plot.ts).
 */
import type { FederatedReport } from './simulation.js';

const COLOURS = { clean: '#1f77b4', attack: '#d62728', unattacked: '#2ca02c' } as const;

/** Renders the report's per-round figures as an SVG document. */
export function roundsSvg(report: FederatedReport, title: string): string {
  const W = 640;
  const H = 420;
  const m = { l: 60, r: 20, t: 40, b: 50 };
  const n = report.per_round.clean_accuracy.length;
  const x = (round: number) => m.l + (n > 1 ? (round - 1) / (n - 1) : 0.5) * (W - m.l - m.r);
  const y = (share: number) => H - m.b - share * (H - m.t - m.b);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`);
  for (let p = 0; p <= 100; p += 20) {
    parts.push(`<line x1="${m.l}" y1="${y(p / 100)}" x2="${W - m.r}" y2="${y(p / 100)}" stroke="#ddd"/><text x="${m.l - 6}" y="${y(p / 100) + 4}" text-anchor="end">${p}%</text>`);
  }
  const step = Math.max(1, Math.ceil(n / 10));
  for (let r = 1; r <= n; r += step) parts.push(`<text x="${x(r).toFixed(1)}" y="${H - m.b + 16}" text-anchor="middle">${r}</text>`);
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${W / 2}" y="${H - 12}" text-anchor="middle">round</text>`);
  const series: [string, readonly number[], string, string][] = [
    ['clean accuracy', report.per_round.clean_accuracy, COLOURS.clean, ''],
    ['attack success', report.per_round.attack_success, COLOURS.attack, ''],
    ['clean accuracy, no attackers', report.per_round.clean_accuracy_unattacked, COLOURS.unattacked, ' stroke-dasharray="6 4"'],
  ];
  series.forEach(([label, values, colour, dash], k) => {
    const d = values.map((v, i) => `${i ? 'L' : 'M'}${x(i + 1).toFixed(1)},${y(v).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2"${dash}/>`);
    const ly = m.t + 16 + k * 18;
    parts.push(`<line x1="${W - 230}" y1="${ly}" x2="${W - 205}" y2="${ly}" stroke="${colour}" stroke-width="3"${dash}/><text x="${W - 198}" y="${ly + 4}">${label}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
