/**
 * The WebAuthn ceremony server against a real browser: Debian's Chromium with
 * virtual authenticators (test/helpers/browser.ts). Registration and PRF
 * assertions through the real page, and every refusal: no PRF, no user
 * verification, a user-verification failure, a cancel, a server-side
 * timeout, a replayed or wrong-origin response, and malformed requests.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { DeviceError } from '../../src/errors.js';
import { CeremonyServer, type RegisteredCredential } from '../../src/webauthn/index.js';
import { TestBrowser, type PageOutcome } from '../helpers/browser.js';

let browser: TestBrowser;
let server: CeremonyServer;
before(async () => {
  browser = await TestBrowser.launch();
  server = await CeremonyServer.start({ timeoutMs: 60_000 });
});
after(async () => {
  await server?.close();
  await browser?.close();
});

const salt = (byte: number) => new Uint8Array(32).fill(byte);

/** Runs a ceremony through the page; returns its result (or DeviceError) and what the page showed. */
async function through<T>(ceremony: { url: string; result: Promise<T> }, action: 'continue' | 'cancel' = 'continue'): Promise<{ value?: T; error?: DeviceError; page: PageOutcome }> {
  const page = await browser.completeCeremony(ceremony.url, action);
  try {
    return { value: await ceremony.result, page };
  } catch (error) {
    assert.ok(error instanceof DeviceError, `expected a DeviceError, got ${String(error)}`);
    return { error, page };
  }
}

/** Runs `fn` with a fresh virtual authenticator, removed afterwards. */
async function withAuthenticator<T>(o: Parameters<TestBrowser['addAuthenticator']>[0], fn: (id: string) => Promise<T>): Promise<T> {
  const id = await browser.addAuthenticator(o);
  try {
    return await fn(id);
  } finally {
    await browser.removeAuthenticator(id);
  }
}

async function register(): Promise<RegisteredCredential> {
  const r = await through(server.register({ userName: 'test' }));
  assert.equal(r.error, undefined, r.error?.message);
  assert.equal(r.page.state, 'done');
  return r.value!;
}

describe('passkey ceremonies in Chromium', () => {
  test('registers with UV and PRF; PRF outputs are stable per salt and differ across salts', async () => {
    await withAuthenticator({}, async () => {
      const credential = await register();
      assert.equal(credential.rpId, 'localhost');
      assert.ok(credential.id.length >= 16);
      assert.equal(credential.userHandle.length, 32);
      const a1 = (await through(server.authenticate({ credential, salt: salt(1) }))).value!;
      const a2 = (await through(server.authenticate({ credential: { ...credential, counter: a1.newCounter }, salt: salt(1) }))).value!;
      const b = (await through(server.authenticate({ credential: { ...credential, counter: a2.newCounter }, salt: salt(2) }))).value!;
      assert.equal(a1.prfOutput.length, 32);
      assert.deepEqual(a1.prfOutput, a2.prfOutput);
      assert.notDeepEqual(a1.prfOutput, b.prfOutput);
      assert.ok(a2.newCounter > a1.newCounter, 'the signature counter advances');
      // A new ceremony server (another port) reaches the same credential: the RP ID is localhost.
      const other = await CeremonyServer.start();
      try {
        const c = (await through(other.authenticate({ credential: { ...credential, counter: b.newCounter }, salt: salt(1) }))).value!;
        assert.deepEqual(c.prfOutput, a1.prfOutput);
      } finally {
        await other.close();
      }
    });
  });

  test('an authenticator without PRF is unsupported at enrolment', async () => {
    await withAuthenticator({ hasPrf: false }, async () => {
      const r = await through(server.register({ userName: 'test' }));
      assert.equal(r.error?.failure, 'unsupported');
      assert.match(r.error!.message, /PRF/);
      assert.equal(r.page.state, 'failed');
      assert.match(r.page.text, /PRF/);
    });
  });

  test('an authenticator without user verification is unsupported at enrolment', async () => {
    await withAuthenticator({ hasUserVerification: false }, async () => {
      const r = await through(server.register({ userName: 'test' }));
      assert.equal(r.error?.failure, 'unsupported');
      assert.match(r.error!.message, /did not verify you/);
    });
  });

  test('a failed user verification ends the unlock (the browser reports NotAllowedError)', async () => {
    await withAuthenticator({}, async (id) => {
      const credential = await register();
      await browser.cdp.send('WebAuthn.setUserVerified', { authenticatorId: id, isUserVerified: false });
      const r = await through(server.authenticate({ credential, salt: salt(1) }));
      assert.equal(r.error?.failure, 'cancelled');
      assert.match(r.error!.message, /user verification failed/);
      assert.equal(r.page.state, 'failed');
    });
  });

  test('an assertion without the UV flag is refused by the server', async () => {
    // A client that skips user verification: the page's "required" is downgraded in the browser, and the
    // credential answers from an authenticator that cannot verify the user. Its signature is genuine.
    const withUv = await browser.addAuthenticator();
    let credential: RegisteredCredential;
    let exported;
    try {
      credential = await register();
      exported = (await browser.cdp.send('WebAuthn.getCredentials', { authenticatorId: withUv })).credentials;
    } finally {
      await browser.removeAuthenticator(withUv);
    }
    await withAuthenticator({ hasUserVerification: false }, async (noUv) => {
      for (const c of exported) await browser.cdp.send('WebAuthn.addCredential', { authenticatorId: noUv, credential: c });
      await browser.page.route('**/options', async (route) => {
        const response = await route.fetch();
        await route.fulfill({ response, body: (await response.text()).replace('"userVerification":"required"', '"userVerification":"discouraged"') });
      });
      try {
        const r = await through(server.authenticate({ credential, salt: salt(1) }));
        assert.equal(r.error?.failure, 'refused');
        assert.match(r.error!.message, /user verification is required/);
        assert.equal(r.page.state, 'failed');
      } finally {
        await browser.page.unroute('**/options');
      }
    });
  });

  test('the page cancel button ends the ceremony as cancelled', async () => {
    await withAuthenticator({}, async () => {
      const r = await through(server.register({ userName: 'test' }), 'cancel');
      assert.equal(r.error?.failure, 'cancelled');
      assert.equal(r.page.state, 'failed');
    });
  });

  test('a ceremony nobody completes times out on the server', async () => {
    const ceremony = server.register({ userName: 'test', timeoutMs: 200 });
    await assert.rejects(ceremony.result, (e: unknown) => e instanceof DeviceError && e.failure === 'timeout');
    // Its page is gone.
    const status = await browser.page.goto(ceremony.url).then((r) => r?.status());
    assert.equal(status, 404);
  });

  test('a replayed assertion, or one for another credential, is refused; an ended ceremony is gone', async () => {
    await withAuthenticator({}, async () => {
      const credential = await register();
      let captured: string | undefined;
      await browser.page.route('**/result', async (route) => {
        captured = route.request().postData() ?? undefined;
        await route.continue();
      });
      let first;
      try {
        first = await through(server.authenticate({ credential, salt: salt(1) }));
      } finally {
        await browser.page.unroute('**/result');
      }
      assert.equal(first.page.state, 'done');
      assert.ok(captured);
      // The same response again, to the ceremony it answered: that ceremony has ended.
      assert.equal((await postFromPage(`${browser.page.url()}result`, captured)).status, 404);
      // To a new ceremony for the same credential: its challenge differs.
      const again = server.authenticate({ credential: { ...credential, counter: first.value!.newCounter }, salt: salt(1) });
      const replay = await postFromPage(`${again.url}result`, captured);
      assert.equal(replay.status, 400);
      await assert.rejects(again.result, (e: unknown) => e instanceof DeviceError && e.failure === 'invalid-response' && /challenge/i.test(e.message));
      // To a ceremony for another credential.
      const other = server.authenticate({ credential: { ...credential, id: new Uint8Array(32).fill(7) }, salt: salt(1) });
      await postFromPage(`${other.url}result`, captured);
      await assert.rejects(other.result, (e: unknown) => e instanceof DeviceError && e.failure === 'invalid-response' && /different passkey/.test(e.message));
    });
  });

  test('an assertion whose client data names another origin is refused', async () => {
    await withAuthenticator({}, async () => {
      const credential = await register();
      await browser.page.route('**/result', async (route) => {
        const body = JSON.parse(route.request().postData()!);
        const clientData = JSON.parse(Buffer.from(body.credential.response.clientDataJSON, 'base64url').toString());
        clientData.origin = 'https://evil.example';
        body.credential.response.clientDataJSON = Buffer.from(JSON.stringify(clientData)).toString('base64url');
        await route.continue({ postData: JSON.stringify(body) });
      });
      try {
        const r = await through(server.authenticate({ credential, salt: salt(1) }));
        assert.equal(r.error?.failure, 'invalid-response');
        assert.match(r.error!.message, /origin/i);
        assert.equal(r.page.state, 'failed');
      } finally {
        await browser.page.unroute('**/result');
      }
    });
  });

  test('requests are checked: Host, Origin, Content-Type, size, token; the page carries a CSP', async () => {
    const ceremony = server.register({ userName: 'test', timeoutMs: 30_000 });
    const url = new URL(ceremony.url);
    const host = url.host;
    const json = { 'content-type': 'application/json', origin: server.origin };
    assert.equal((await raw('GET', url.pathname, { host: `127.0.0.1:${url.port}` })).status, 421);
    assert.equal((await raw('GET', url.pathname, { host: `evil.example:${url.port}` })).status, 421);
    assert.equal((await raw('GET', '/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/', { host })).status, 404);
    const page = await raw('GET', url.pathname, { host });
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
    assert.equal(page.headers['cache-control'], 'no-store');
    const post = `${url.pathname}result`;
    assert.equal((await raw('POST', post, { host, 'content-type': 'application/json' }, '{}')).status, 403, 'no Origin');
    assert.equal((await raw('POST', post, { ...json, host, origin: 'https://evil.example' }, '{}')).status, 403);
    assert.equal((await raw('POST', post, { ...json, host, 'sec-fetch-site': 'cross-site' }, '{}')).status, 403);
    assert.equal((await raw('POST', post, { ...json, host, 'content-type': 'text/plain' }, '{}')).status, 415);
    assert.equal((await raw('POST', post, { ...json, host }, 'x'.repeat(70_000))).status, 413);
    assert.equal((await raw('POST', post, { ...json, host }, '{not json')).status, 400);
    assert.equal((await raw('PUT', post, { ...json, host }, '{}')).status, 405);
    // None of that used the ceremony up; a well-formed but bogus credential does, and is refused.
    assert.equal((await raw('GET', `${url.pathname}options`, { host })).status, 200);
    assert.equal((await raw('POST', post, { ...json, host }, JSON.stringify({ credential: { id: 'AA', rawId: 'AA', type: 'public-key', response: {} } }))).status, 400);
    await assert.rejects(ceremony.result, (e: unknown) => e instanceof DeviceError && e.failure === 'invalid-response' && /malformed/.test(e.message));
    assert.equal((await raw('GET', `${url.pathname}options`, { host })).status, 404);
  });
});

/** POSTs JSON from the page itself (same origin, as the ceremony page would). */
function postFromPage(url: string, body: string): Promise<{ status: number }> {
  return browser.page.evaluate(
    async ({ url, body }) => ({ status: (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status }),
    { url, body },
  );
}

/** A raw HTTP request to the ceremony server on 127.0.0.1 with the headers given (Host included). */
function raw(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  const port = Number(new URL(server.origin).port);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
