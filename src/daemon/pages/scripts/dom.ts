/**
 * dom.js: small helpers shared by the views. Everything the daemon sends is
 * put into the page as text (textContent), never as markup.
 */
export const DOM_JS = String.raw`export const $ = (id) => document.getElementById(id);

/** Shows a status line: state is ok, failed, busy or '' (neutral). */
export function status(el, state, text) {
  el.dataset.state = state;
  el.textContent = text;
}

/** A table row of text cells. */
export function row(cells) {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    td.textContent = c === null || c === undefined ? '' : String(c);
    tr.appendChild(td);
  }
  return tr;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** A time as YYYY-MM-DD HH:MM:SS, local. */
export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, '0');
  return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
}
`;
