/**
 * app.js: the page's entry point: the views (chosen by the address's
 * fragment), the session poll (GET /v1/session every second, no token),
 * the lock button, and refreshing what a view shows when it opens.
 */
export const APP_JS = String.raw`import { api, hasToken, setToken } from './api.js';
import { $, status } from './dom.js';
import { showSession, refreshDetails } from './overview.js';
import { initStepUp, afterEvidence } from './stepup.js';
import { initUnlock } from './unlock.js';
import { initEnrol, refreshEnrolments } from './enrol.js';
import { refreshAudit } from './audit.js';

const VIEWS = ['overview', 'unlock', 'enrol', 'audit'];
const REFRESH = { overview: refreshDetails, enrol: refreshEnrolments, audit: refreshAudit, unlock: async () => {} };

function report(e) {
  status($('global-status'), 'failed', (e.code ? e.code + ': ' : '') + (e.message || String(e)));
}

function refresh(view) {
  REFRESH[view]().then(() => status($('global-status'), '', ''), report);
}

function route() {
  const view = VIEWS.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'overview';
  for (const v of VIEWS) {
    const section = $('view-' + v);
    if (v === view) section.dataset.active = '';
    else delete section.dataset.active;
  }
  for (const a of document.querySelectorAll('header nav a')) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.body.dataset.view = view;
  refresh(view);
}

async function poll() {
  try {
    const s = await api('GET', '/v1/session');
    if (s.state === 'locked' && hasToken()) {
      setToken(null);
      refresh(document.body.dataset.view);
    }
    showSession(s);
  } catch (e) {
    document.body.dataset.session = 'unreachable';
    $('state-badge').textContent = 'daemon unreachable';
  }
}

initStepUp();
afterEvidence(() => refresh('overview'));
initUnlock(() => refresh('overview'));
initEnrol();
$('audit-refresh').addEventListener('click', () => refresh('audit'));
$('lock').addEventListener('click', async () => {
  try {
    await api('POST', '/v1/lock', {});
    setToken(null);
    await poll();
    refresh(document.body.dataset.view);
  } catch (e) {
    report(e);
  }
});
window.addEventListener('hashchange', route);
route();
void poll();
setInterval(poll, 1000);
`;
