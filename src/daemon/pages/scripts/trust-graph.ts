/**
 * trust-graph.js: the live graph of the trust score, drawn as SVG by the
 * page's own script. The line joins the trust the page polls every second
 * with the points of the daemon's history (GET /v1/trust); each event that
 * moved trust (unlock, evidence, lock) is a dot whose tooltip is its
 * explanation; the lock threshold is a dashed line.
 */
export const GRAPH_JS = String.raw`const NS = 'http://www.w3.org/2000/svg';
const W = 800;
const H = 240;
const PAD = { left: 40, right: 12, top: 12, bottom: 28 };

function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

function clock(t) {
  return new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/**
 * Draws the graph. history: [{at, trust, event, summary}] from the daemon;
 * samples: [{at, trust}] polled by the page; threshold: the lock threshold.
 */
export function drawTrustGraph(svg, history, samples, threshold, now) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const points = [...history.map((p) => ({ at: p.at, trust: p.trust })), ...samples].sort((a, b) => a.at - b.at);
  const start = Math.min(now - 60000, points.length ? points[0].at : now);
  const span = Math.max(1, now - start);
  const x = (t) => PAD.left + ((t - start) / span) * (W - PAD.left - PAD.right);
  const y = (v) => PAD.top + (1 - v) * (H - PAD.top - PAD.bottom);
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    el('line', { class: 'grid', x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }, svg);
    el('text', { x: 4, y: y(v) + 4 }, svg).textContent = v.toFixed(2);
  }
  el('line', { class: 'axis', x1: PAD.left, x2: PAD.left, y1: PAD.top, y2: H - PAD.bottom }, svg);
  el('line', { class: 'axis', x1: PAD.left, x2: W - PAD.right, y1: H - PAD.bottom, y2: H - PAD.bottom }, svg);
  el('text', { x: PAD.left, y: H - 8 }, svg).textContent = clock(start);
  el('text', { x: W - PAD.right - 60, y: H - 8 }, svg).textContent = clock(now);
  const t = el('line', { class: 'threshold', x1: PAD.left, x2: W - PAD.right, y1: y(threshold), y2: y(threshold) }, svg);
  el('title', {}, t).textContent = 'lock threshold ' + threshold;
  if (points.length) {
    const d = points.map((p, i) => (i ? 'L' : 'M') + x(p.at).toFixed(1) + ' ' + y(p.trust).toFixed(1)).join(' ');
    el('path', { class: 'trust', d }, svg);
  }
  for (const p of history) {
    const c = el('circle', { class: 'event', cx: x(p.at).toFixed(1), cy: y(p.trust).toFixed(1), r: 5, 'data-event': p.event }, svg);
    el('title', {}, c).textContent = clock(p.at) + ' ' + p.event + ': trust ' + p.trust.toFixed(3) + '\n' + p.summary;
  }
  svg.dataset.events = String(history.length);
}
`;
