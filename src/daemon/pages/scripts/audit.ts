/**
 * audit.js: the audit log (GET /v1/audit?since=..., token): the verdict of
 * verifying the whole log (Merkle tree, signed heads, consistency) and the
 * entries, newest first.
 */
export const AUDIT_JS = String.raw`import { api, hasToken } from './api.js';
import { $, row, clear, when } from './dom.js';

export async function refreshAudit() {
  const verdict = $('audit-verify');
  const body = $('audit-entries');
  const findings = $('audit-findings');
  if (!hasToken()) {
    verdict.dataset.ok = '';
    verdict.textContent = 'unlock first: the audit log is shown to the unlocked session only';
    return;
  }
  const since = $('audit-since').value.trim();
  const r = await api('GET', '/v1/audit' + (since ? '?since=' + encodeURIComponent(since) : ''));
  const v = r.verify;
  verdict.dataset.ok = String(v.ok);
  verdict.textContent = (v.ok ? 'OK' : 'FAILED') + ': ' + v.entries + ' entries, ' + v.heads + ' signed tree heads; signatures vouch for ' + v.verifiedSize + ' entries' + (v.latest ? ' (latest head ' + when(v.latest.time) + ', root ' + v.latest.root.slice(0, 16) + '…)' : '');
  clear(findings);
  for (const f of v.findings) {
    const li = document.createElement('li');
    li.textContent = f.kind + ': ' + f.message;
    findings.appendChild(li);
  }
  $('audit-note').textContent = r.matched > r.entries.length ? 'Showing the newest ' + r.entries.length + ' of ' + r.matched + ' entries.' : r.matched + ' entries.';
  clear(body);
  for (const e of [...r.entries].reverse()) {
    const tr = row([e.seq, when(e.time), e.type, e.decision, e.subject, e.reasons.join(' · ')]);
    tr.children[1].className = 'time';
    tr.lastChild.className = 'reasons';
    body.appendChild(tr);
  }
}
`;
