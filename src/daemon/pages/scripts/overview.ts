/**
 * overview.js: the session (state, trust, threshold, when decay alone would
 * lock it, the last change and its explanation), the trust graph with the
 * events that moved it, and the loaded models. Trust is read from
 * GET /v1/session, which needs no token and does not count as activity, so
 * an open page never keeps an idle session from locking; the daemon's
 * history (GET /v1/trust, token) is fetched after the person acts.
 */
export const OVERVIEW_JS = String.raw`import { api, hasToken } from './api.js';
import { $, clear, row, when } from './dom.js';
import { drawTrustGraph } from './trust-graph.js';

const events = new Map();
const samples = [];
let threshold = 0.05; // replaced by the session's own lock threshold on the first poll

/** An event; the session's own account of it (which says what the evidence was) wins over the history's bare summary. */
function addEvent(p, fromSession) {
  const key = p.at + ':' + p.event;
  if (!fromSession && events.has(key)) return;
  // A lock is stamped twice by the daemon, a moment apart: keep one.
  if (p.event === 'lock' && [...events.values()].some((e) => e.event === 'lock' && Math.abs(e.at - p.at) < 1000 && e.at !== p.at)) return;
  events.set(key, p);
}

function renderEvents() {
  const list = [...events.values()].sort((a, b) => a.at - b.at);
  drawTrustGraph($('trust-graph'), list, samples, threshold, Date.now());
  const ol = $('events');
  clear(ol);
  for (const p of list.slice(-30).reverse()) {
    const li = document.createElement('li');
    const t = document.createElement('time');
    t.textContent = new Date(p.at).toLocaleTimeString();
    const b = document.createElement('b');
    b.textContent = p.event + ' → ' + p.trust.toFixed(3) + ': ';
    li.append(t, b, document.createTextNode(p.summary));
    ol.appendChild(li);
  }
}

/** A GET /v1/session answer: header, stats, and its last change as an event. */
export function showSession(s) {
  threshold = s.lockThreshold;
  document.body.dataset.session = s.state;
  const badge = $('state-badge');
  badge.dataset.state = s.state;
  badge.textContent = s.state;
  $('trust-now').textContent = 'trust ' + s.trust.toFixed(3);
  $('ov-state').textContent = s.state + (s.lockReason && s.state === 'locked' ? ' (' + s.lockReason + ')' : '');
  $('ov-trust').textContent = s.trust.toFixed(3);
  $('ov-threshold').textContent = String(s.lockThreshold);
  $('ov-deadline').textContent = s.lockDeadline ? new Date(s.lockDeadline).toLocaleTimeString() : '—';
  $('ov-models').textContent = String(s.models);
  $('ov-last').textContent = when(s.lastChange.at) + ' · ' + s.lastChange.event + ': ' + s.lastChange.explanation;
  const c = s.lastChange;
  if (c.event !== 'start') addEvent({ at: Date.parse(c.at), trust: c.trust ? c.trust.after : 0, event: c.event, summary: c.explanation }, true);
  samples.push({ at: Date.now(), trust: s.trust });
  if (samples.length > 900) samples.shift();
  renderEvents();
}

/** Fetches the daemon's trust history and the models (token). */
export async function refreshDetails() {
  if (!hasToken()) {
    clear($('models'));
    $('models-note').textContent = 'Unlock a model on this page to see the models (the page keeps its session token in memory only).';
    return;
  }
  const [trust, models] = await Promise.all([api('GET', '/v1/trust'), api('GET', '/v1/models')]);
  for (const p of trust.history) addEvent(p, false);
  renderEvents();
  const body = $('models');
  clear(body);
  for (const m of models.models) {
    body.appendChild(row([m.name, m.sensitivity, 'slot ' + m.slot + ': ' + m.factors.join(' & '), when(m.loadedAt), m.inputs.join(', ') + ' → ' + m.outputs.join(', ')]));
  }
  $('models-note').textContent = models.models.length ? '' : 'No model is loaded.';
}
`;
