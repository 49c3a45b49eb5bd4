/**
 * api.js: the pages' one way to the daemon. JSON in and out, the session
 * token held in this module's memory only (never localStorage, never a
 * cookie: a reload or another tab has none and must unlock again), sent as
 * a bearer header, and forgotten when the daemon answers that it is dead
 * (401) or the session locked (423). Errors carry the daemon's code and, for
 * a policy denial, the step-up that would lift it.
 */
export const API_JS = String.raw`let token = null;

export class ApiError extends Error {
  constructor(status, code, message, stepUp) {
    super(message);
    this.status = status;
    this.code = code;
    this.stepUp = stepUp || null;
  }
}

export function hasToken() {
  return token !== null;
}

export function setToken(value) {
  token = typeof value === 'string' ? value : null;
  document.body.dataset.token = token ? 'present' : 'absent';
}

export async function api(method, path, body) {
  // An unlock needs no token, and its 401 means wrong credentials, not a dead token.
  const unlocking = method === 'POST' && path === '/v1/models';
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token && !unlocking) headers.authorization = 'Bearer ' + token;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', credentials: 'omit', redirect: 'error' });
  } catch {
    throw new ApiError(0, 'E_NETWORK', 'the daemon cannot be reached (stopped?)');
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const e = (data && data.error) || {};
    if (response.status === 423 || (response.status === 401 && !unlocking)) setToken(null);
    throw new ApiError(response.status, e.code || 'E_HTTP', e.message || 'HTTP ' + response.status, e.step_up);
  }
  return data;
}
`;
