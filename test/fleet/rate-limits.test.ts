/**
 * Rate limits of the fleet service. The token buckets first: bursts,
 * refills and waits on an injected clock, and bounded memory under many
 * keys. Then the service over HTTP on 127.0.0.1 with real devices and a
 * clock the test moves: a device over its limit gets 429 with Retry-After
 * while another device is served, encrypted matching has its own lower
 * limit, the buckets refill; under TLS an address that fails
 * authentication too often is refused until its bucket refills, its
 * unauthenticated requests in progress count against it, and a device whose
 * signature verifies is still served; without TLS (every peer is the proxy)
 * no address limit applies; unknown devices are refused before their body
 * is read; connections are capped. No test sleeps.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519.js';
import { HeContext, HeKeyHolder, innerProduct, unitVector } from '../../src/he/index.js';
import { FleetClient, FleetRateLimits, parseBurst, parseRate, peerKey, signRequest, SqliteFleetStore, startFleetService, type FleetRateLimitOptions, type FleetService } from '../../src/fleet/index.js';
import { TokenBuckets } from '../../src/util/token-bucket.js';

const TOKEN = 'r'.repeat(43);

/** A clock the test moves by hand. */
function manualClock(start = Date.now()) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('token buckets', () => {
  test('a burst passes, the next action waits exactly until a token refills, and nothing is taken while waiting', () => {
    const clock = manualClock(1_000_000);
    const buckets = new TokenBuckets({ ratePerSecond: 2, burst: 3 }, { now: clock.now });
    for (let i = 0; i < 3; i++) assert.equal(buckets.take('a'), 0);
    assert.equal(buckets.take('a'), 500);
    assert.equal(buckets.take('a'), 500, 'a refused take costs nothing');
    assert.equal(buckets.take('b'), 0, 'other keys have their own bucket');
    clock.advance(499);
    assert.equal(buckets.take('a'), 1);
    clock.advance(1);
    assert.equal(buckets.take('a'), 0);
    clock.advance(60_000);
    assert.equal(buckets.waitMs('a', 3), 0, 'refills up to the burst, no further');
    for (let i = 0; i < 3; i++) assert.equal(buckets.take('a'), 0);
    assert.ok(buckets.take('a') > 0);
  });

  test('a clock that steps back refills nothing', () => {
    const clock = manualClock(1_000_000);
    const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 1 }, { now: clock.now });
    assert.equal(buckets.take('a'), 0);
    clock.advance(-3_600_000);
    assert.equal(buckets.take('a'), 1000);
  });

  test('memory is bounded: at most maxKeys buckets under 100,000 keys, and idle (full) buckets are dropped', () => {
    const clock = manualClock();
    const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 5 }, { maxKeys: 1000, now: clock.now });
    let taken = 0;
    for (let i = 0; i < 100_000; i++) if (buckets.take(`device-${i}`) === 0) taken++;
    assert.equal(buckets.size, 1000);
    // The first 1,000 keys keep their (drained) buckets; the rest share one overflow bucket of 5.
    assert.equal(taken, 1000 + 5, 'no more than maxKeys + 1 buckets were ever handed out');
    assert.equal(buckets.waitMs('device-0', 5), 1000, 'a tracked bucket that is not full is kept');
    assert.equal(buckets.waitMs('device-99999', 1), 1000, 'later keys wait on the shared bucket');
    clock.advance(5000);
    for (let i = 0; i < 600; i++) buckets.take('busy');
    assert.equal(buckets.size, 1, 'every bucket that refilled to full was dropped');
    assert.equal(buckets.take('device-99999'), 0, 'with room again, a new key gets its own bucket');
  });

  test('cycling through many keys never refills a drained bucket', () => {
    const clock = manualClock();
    const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 3 }, { maxKeys: 4, now: clock.now });
    for (let i = 0; i < 3; i++) assert.equal(buckets.take('attacker'), 0);
    let fresh = 0;
    for (let i = 0; i < 1000; i++) if (buckets.take(`other-${i}`) === 0) fresh++;
    assert.equal(fresh, 3 + 3, 'three keys get their own buckets, the other 997 share one bucket of 3');
    assert.equal(buckets.take('attacker'), 1000, 'the drained bucket was not dropped');
    clock.advance(1000);
    assert.equal(buckets.take('attacker'), 0, 'it refills at its rate, no faster');
  });

  test('a refund gives a token back, never beyond the burst, and a full bucket is dropped', () => {
    const clock = manualClock();
    const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 2 }, { maxKeys: 1, now: clock.now });
    assert.equal(buckets.take('a'), 0);
    assert.equal(buckets.take('a'), 0);
    buckets.refund('a');
    assert.equal(buckets.waitMs('a', 2), 1000);
    buckets.refund('a');
    buckets.refund('a');
    assert.equal(buckets.size, 0);
    assert.equal(buckets.waitMs('a', 2), 0);
    assert.equal(buckets.take('a'), 0);
    // 'b' finds the map full: its refund goes to the shared bucket it was charged to.
    assert.equal(buckets.take('b'), 0);
    assert.equal(buckets.take('b'), 0);
    assert.ok(buckets.take('c') > 0, 'the shared bucket is empty');
    buckets.refund('b');
    assert.equal(buckets.take('c'), 0);
  });

  test('unusable policies are refused', () => {
    assert.throws(() => new TokenBuckets({ ratePerSecond: 0, burst: 1 }), RangeError);
    assert.throws(() => new TokenBuckets({ ratePerSecond: 1, burst: 0.5 }), RangeError);
    assert.throws(() => new TokenBuckets({ ratePerSecond: Number.NaN, burst: 1 }), RangeError);
    assert.throws(() => new TokenBuckets({ ratePerSecond: 1, burst: 2 }).take('a', 3), RangeError);
    assert.throws(() => new FleetRateLimits({ device: { ratePerSecond: -1, burst: 1 } }), { code: 'E_USAGE' });
  });
});

describe('fleet rate-limit settings', () => {
  test('rates are N/s, N/min or N/h; bursts whole numbers; anything else is E_USAGE', () => {
    assert.equal(parseRate('10/s', '--rate'), 10);
    assert.equal(parseRate('0.5/s', '--rate'), 0.5);
    assert.equal(parseRate('30/min', '--rate'), 0.5);
    assert.equal(parseRate('36/h', '--rate'), 0.01);
    for (const bad of ['0/s', '10', '-1/s', '1e3/s', '10/d', '10 /s', '', 'x/s']) assert.throws(() => parseRate(bad, '--rate'), { code: 'E_USAGE' }, bad);
    assert.equal(parseBurst('100', '--burst'), 100);
    for (const bad of ['0', '1.5', '-3', '10000000', 'many', '']) assert.throws(() => parseBurst(bad, '--burst'), { code: 'E_USAGE' }, bad);
  });

  test('peers count per IPv4 address and per IPv6 /64', () => {
    assert.equal(peerKey('203.0.113.7'), '203.0.113.7');
    assert.equal(peerKey('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(peerKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
    assert.equal(peerKey('2001:db8:1:2::9'), '2001:db8:1:2::/64');
    assert.equal(peerKey('2001:0db8:0001:0002::'), '2001:db8:1:2::/64');
    assert.notEqual(peerKey('2001:db8:1:3::1'), peerKey('2001:db8:1:2::1'));
    assert.equal(peerKey('::1'), '0:0:0:0::/64');
  });

  test('failed authentications from 200,000 addresses keep at most maxTrackedKeys buckets', () => {
    // A stopped clock: nothing refills, so the counts below are exact. The device
    // bucket is large enough that only the matching limit refuses anyone.
    const limits = new FleetRateLimits(
      { device: { ratePerSecond: 1, burst: 1_000_000 }, matching: { ratePerSecond: 2, burst: 20 }, authFailures: { ratePerSecond: 0.01, burst: 2 }, maxTrackedKeys: 500 },
      () => 1_000,
    );
    for (let i = 0; i < 200_000; i++) limits.recordAuthFailure(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    let refused = 0;
    for (let i = 0; i < 200_000; i++) {
      try {
        limits.chargeDevice(`device-${i}`, i % 2 === 0);
      } catch (error) {
        assert.equal((error as any).code, 'E_RATE_LIMIT');
        refused++;
      }
    }
    // 100,000 matching requests: 500 devices get a bucket of their own, the rest share one of 20.
    assert.equal(refused, 100_000 - 500 - 20, 'devices beyond the tracked ones share one bucket');
    assert.deepEqual(limits.trackedKeys, { devices: 500, matching: 500, addresses: 500, onCredit: 0 });
  });
});

describe('the service enforces the limits', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-fleet-rate-'));
  let ctx: HeContext;
  let keys: HeKeyHolder;

  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const tls = { certFile: file('server.crt'), keyFile: file('server.key') };
  const ca = () => readFileSync(file('ca.crt'), 'utf8');

  before(async () => {
    ctx = await HeContext.create();
    keys = HeKeyHolder.generate(ctx);
    // A throwaway CA and a certificate for 127.0.0.1, for the limits that apply under TLS.
    openssl('req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
    openssl('req', ...EC, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(file('ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
    openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'ext.cnf');
  });
  after(() => {
    keys?.dispose();
    ctx?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  async function serve(rateLimits: FleetRateLimitOptions, now: () => number, more: { tls?: boolean; maxConnections?: number; timeouts?: { headersMs?: number; requestMs?: number } } = {}): Promise<{ service: FleetService; store: SqliteFleetStore }> {
    const home = mkdtempSync(path.join(dir, 'home-'));
    const store = await SqliteFleetStore.open({ home });
    const service = await startFleetService({
      home,
      port: 0,
      store,
      operatorToken: TOKEN,
      rateLimits,
      now,
      onInternalError: (e) => console.error(e),
      ...(more.tls ? { host: '127.0.0.1', tls } : {}),
      ...(more.maxConnections === undefined ? {} : { maxConnections: more.maxConnections }),
      ...(more.timeouts && { timeouts: more.timeouts }),
    });
    return { service, store };
  }

  const device = (service: FleetService, id: string) =>
    new FleetClient({ url: service.url, ...(service.tls ? { ca: ca() } : {}), deviceId: id, secretKey: ed25519.utils.randomSecretKey(), operatorToken: TOKEN });

  /** Starts a request (HTTP or HTTPS, as the service speaks) with these headers. */
  const open = (service: FleetService, method: string, urlPath: string, headers: Record<string, string>): ClientRequest =>
    (service.tls ? httpsRequest(`${service.url}${urlPath}`, { method, headers, ca: ca() }) : httpRequest(`${service.url}${urlPath}`, { method, headers }));

  /** The status and JSON answer of a request. */
  async function answer(req: ClientRequest): Promise<{ status: number; headers: Record<string, unknown>; json: any }> {
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    let text = '';
    for await (const chunk of res) text += chunk;
    return { status: res.statusCode!, headers: res.headers, json: JSON.parse(text) };
  }

  /**
   * A request that announces a `length`-byte body and sends it only on
   * `send`; returned once the service has taken it in (100 Continue) or answered.
   */
  async function held(service: FleetService, method: string, urlPath: string, headers: Record<string, string>, length: number) {
    const req = open(service, method, urlPath, { 'content-type': 'application/json', 'content-length': String(length), expect: '100-continue', ...headers });
    const result = answer(req);
    req.flushHeaders();
    const first = await Promise.race([once(req, 'continue').then(() => 'continue' as const), result]);
    return { continued: first === 'continue', result, send: () => (req.end('x'.repeat(length)), result) };
  }
  const secretKeyOf = (client: FleetClient) => (client as any).options.secretKey as Uint8Array;

  /** A signed GET of a model nobody published: authenticated, cheap, answered 404 when allowed. */
  const fetchModel = (client: FleetClient) => client.request('GET', '/v1/models/none');

  /** Sends a request and returns its status, headers and JSON; with `declare`, only headers declaring that body length go out. */
  function raw(service: FleetService, method: string, urlPath: string, headers: Record<string, string>, body = '', declare?: number) {
    return new Promise<{ status: number; headers: Record<string, unknown>; json: any }>((resolve, reject) => {
      const req = open(service, method, urlPath, { 'content-type': 'application/json', 'content-length': String(declare ?? Buffer.byteLength(body)), ...headers });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, json: JSON.parse(text) }));
      });
      req.on('error', reject);
      if (declare === undefined) req.end(body);
      else req.flushHeaders();
    });
  }

  test('a device over its limit gets 429 E_RATE_LIMIT with Retry-After while another device is served; its bucket refills with time', async () => {
    const clock = manualClock();
    const { service, store } = await serve({ device: { ratePerSecond: 1, burst: 3 } }, clock.now);
    try {
      const phone = device(service, 'phone');
      const tablet = device(service, 'tablet');
      await phone.register(keys.evaluationKeys());
      await tablet.register(keys.evaluationKeys());
      for (let i = 0; i < 3; i++) assert.equal((await fetchModel(phone)).status, 404);

      const headers = signRequest({ method: 'GET', path: '/v1/models/none', body: new Uint8Array(0), deviceId: 'phone', secretKey: secretKeyOf(phone) });
      const limited = await raw(service, 'GET', '/v1/models/none', headers);
      assert.equal(limited.status, 429);
      assert.equal(limited.headers['retry-after'], '1');
      assert.equal(limited.json.error.code, 'E_RATE_LIMIT');
      assert.match(limited.json.error.message, /too many requests from this device/);
      await assert.rejects(phone.latestManifest('none'), (error: any) => error.code === 'E_RATE_LIMIT' && error.retryAfterMs === 1000);

      for (let i = 0; i < 3; i++) assert.equal((await fetchModel(tablet)).status, 404, 'the other device is still served');

      clock.advance(999);
      assert.equal((await fetchModel(phone)).status, 429);
      clock.advance(1);
      // The refused request was not served, so its nonce is still unused: after the wait it goes through.
      assert.equal((await raw(service, 'GET', '/v1/models/none', headers)).status, 404);
      assert.equal((await fetchModel(phone)).status, 429, 'one second, one token');
      clock.advance(3000);
      for (let i = 0; i < 3; i++) assert.equal((await fetchModel(phone)).status, 404);
    } finally {
      await service.close();
      await store.close();
    }
  });

  test('encrypted matching has its own lower limit: verify is refused while cheaper calls are still served', async () => {
    const clock = manualClock();
    const { service, store } = await serve({ device: { ratePerSecond: 10, burst: 20 }, matching: { ratePerSecond: 0.5, burst: 1 } }, clock.now);
    try {
      const phone = device(service, 'phone');
      await phone.register(keys.evaluationKeys());
      const enrolled = unitVector(Array.from({ length: 64 }, (_, i) => Math.sin(i)));
      await phone.enrol('alice', keys.encryptMatchVector(enrolled));
      const probe = keys.encryptMatchVector(enrolled);
      await phone.verify('alice', probe);
      await assert.rejects(phone.verify('alice', probe), (error: any) => {
        assert.equal(error.code, 'E_RATE_LIMIT');
        assert.match(error.message, /encrypted matching/);
        assert.equal(error.retryAfterMs, 2000);
        return true;
      });
      assert.equal((await fetchModel(phone)).status, 404, 'other calls are not matching');
      clock.advance(2000);
      const score = keys.decryptMatchScore(await phone.verify('alice', probe));
      assert.ok(Math.abs(score - innerProduct(enrolled, enrolled)) < 1e-4);
    } finally {
      await service.close();
      await store.close();
    }
  });

  test('under TLS, repeated failed authentications from one address (bad signatures, a wrong operator token) get its unauthenticated requests refused before any body is read, while a device whose signature verifies is still served', async () => {
    const clock = manualClock();
    const { service, store } = await serve({ authFailures: { ratePerSecond: 0.1, burst: 3 } }, clock.now, { tls: true });
    try {
      const phone = device(service, 'phone');
      await phone.register(keys.evaluationKeys());
      // Errors that are not authentication failures do not count.
      for (let i = 0; i < 5; i++) assert.equal((await fetchModel(phone)).status, 404);
      for (let i = 0; i < 5; i++) assert.equal((await raw(service, 'GET', '/v1/nothing', {})).status, 404);

      const forged = signRequest({ method: 'GET', path: '/v1/models/none', body: new Uint8Array(0), deviceId: 'phone', secretKey: ed25519.utils.randomSecretKey() });
      assert.equal((await raw(service, 'GET', '/v1/models/none', forged)).status, 401);
      assert.equal((await raw(service, 'GET', '/v1/models/none', {})).status, 401, 'unsigned');
      assert.equal((await raw(service, 'GET', '/v1/devices', { authorization: `Bearer ${'x'.repeat(43)}` })).status, 401, 'a wrong operator token');

      // The address is now refused for anything that is not a request of an active device: health, operator calls, 64 MiB announced but never sent.
      const blocked = await raw(service, 'GET', '/v1/health', {});
      assert.equal(blocked.status, 429);
      assert.equal(blocked.headers['retry-after'], '10');
      assert.equal(blocked.json.error.code, 'E_RATE_LIMIT');
      assert.match(blocked.json.error.message, /failed authentications from this address/);
      assert.equal((await raw(service, 'GET', '/v1/devices', { authorization: `Bearer ${TOKEN}` })).status, 429);
      const stranger = signRequest({ method: 'POST', path: '/v1/verify', body: new Uint8Array(0), deviceId: 'stranger', secretKey: ed25519.utils.randomSecretKey() });
      assert.equal((await raw(service, 'POST', '/v1/verify', stranger, '', 64 * 1024 * 1024)).status, 429);

      // A signed request of an active device is read and, when its signature verifies, served (per-device limits still apply).
      for (let i = 0; i < 3; i++) assert.equal((await fetchModel(phone)).status, 404, 'the device is served');
      assert.equal((await raw(service, 'GET', '/v1/models/none', forged)).status, 401, 'a forged one is read, and fails');
      assert.equal((await raw(service, 'GET', '/v1/health', {})).status, 429, 'the address is still refused');

      clock.advance(10_000);
      assert.equal((await raw(service, 'GET', '/v1/health', {})).status, 200, 'a refilled token lets the next request in');
      assert.equal((await raw(service, 'GET', '/v1/models/none', forged)).status, 401);
      assert.equal((await raw(service, 'GET', '/v1/health', {})).status, 429, 'and the next failure uses it up again');
    } finally {
      await service.close();
      await store.close();
    }
  });

  test('under TLS, unauthenticated requests in progress take failure tokens, and only a few more that name an active device are read on credit', { timeout: 60_000 }, async () => {
    const clock = manualClock();
    const { service, store } = await serve({ authFailures: { ratePerSecond: 0.1, burst: 3 }, unverifiedOnCredit: 1 }, clock.now, { tls: true });
    try {
      const phone = device(service, 'phone');
      await phone.register(keys.evaluationKeys());
      const forged = () => signRequest({ method: 'POST', path: '/v1/audit-heads', body: new Uint8Array(0), deviceId: 'phone', secretKey: ed25519.utils.randomSecretKey() });
      const pending = [];
      for (let i = 0; i < 4; i++) {
        // Three take the tokens, one is read on credit.
        pending.push(await held(service, 'POST', '/v1/audit-heads', forged(), 100));
      }
      const fifth = await held(service, 'POST', '/v1/audit-heads', forged(), 100);
      assert.equal((await fifth.result).status, 429, 'no fifth request is read while four are in progress');
      assert.equal((await raw(service, 'GET', '/v1/health', {})).status, 429, 'the tokens are taken while the requests are in progress');
      for (const request of pending) assert.equal((await request.send()).status, 401);
      assert.equal((await fetchModel(phone)).status, 404, 'once they are done, the device is served');
      assert.equal((await raw(service, 'GET', '/v1/health', {})).status, 429, 'the four failures used up the bucket');

      // Requests that authenticate give their token back.
      clock.advance(30_000);
      for (let i = 0; i < 6; i++) assert.equal((await fetchModel(phone)).status, 404);
      assert.equal((await raw(service, 'GET', '/v1/health', {})).status, 200, 'the bucket is still full');
    } finally {
      await service.close();
      await store.close();
    }
  });

  test('without TLS every peer is the proxy on loopback: unsigned requests and wrong tokens never get signed devices refused', async () => {
    const clock = manualClock();
    const { service, store } = await serve({ authFailures: { ratePerSecond: 0.1, burst: 3 } }, clock.now);
    try {
      const phone = device(service, 'phone');
      await phone.register(keys.evaluationKeys());
      for (let i = 0; i < 40; i++) assert.equal((await raw(service, 'GET', '/v1/models/none', {})).status, 401);
      for (let i = 0; i < 5; i++) assert.equal((await raw(service, 'GET', '/v1/devices', { authorization: `Bearer ${'x'.repeat(43)}` })).status, 401);
      assert.equal((await fetchModel(phone)).status, 404, 'the device is served');
      assert.equal((await raw(service, 'GET', '/v1/health', {})).status, 200);
      assert.equal((await raw(service, 'GET', '/v1/devices', { authorization: `Bearer ${TOKEN}` })).status, 200, 'the operator too');
    } finally {
      await service.close();
      await store.close();
    }
  });

  test('a request naming an unknown or revoked device is refused before its body is read', { timeout: 60_000 }, async () => {
    const clock = manualClock();
    const { service, store } = await serve({}, clock.now);
    try {
      const phone = device(service, 'phone');
      await phone.register(keys.evaluationKeys());
      const big = 16 * 1024 * 1024;
      const unknown = await held(service, 'POST', '/v1/gallery/phone/groups', signRequest({ method: 'POST', path: '/v1/gallery/phone/groups', body: new Uint8Array(0), deviceId: 'ghost', secretKey: ed25519.utils.randomSecretKey() }), big);
      assert.equal(unknown.continued, true, 'the service took the request in');
      const answered = await unknown.result;
      assert.equal(answered.status, 401, 'answered with no byte of the body sent');
      assert.equal(answered.json.error.code, 'E_AUTH');

      const revokeStatus = await raw(service, 'POST', '/v1/devices/phone/revoke', { authorization: `Bearer ${TOKEN}` });
      assert.equal(revokeStatus.status, 200);
      const revoked = await held(service, 'POST', '/v1/gallery/phone/groups', signRequest({ method: 'POST', path: '/v1/gallery/phone/groups', body: new Uint8Array(0), deviceId: 'phone', secretKey: secretKeyOf(phone) }), big);
      assert.equal((await revoked.result).status, 401);
    } finally {
      await service.close();
      await store.close();
    }
  });

  test('the service caps open connections', async () => {
    const { service, store } = await serve({}, Date.now, { maxConnections: 2 });
    try {
      const sockets = [netConnect(service.port, '127.0.0.1'), netConnect(service.port, '127.0.0.1')];
      await Promise.all(sockets.map((s) => once(s, 'connect')));
      // Each open connection holds a request whose headers are not finished.
      for (const s of sockets) s.write('GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      const third = netConnect(service.port, '127.0.0.1');
      let received = '';
      third.on('data', (c) => (received += c));
      third.on('error', () => undefined); // a reset is one way of being closed
      third.write('GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
      await new Promise((resolve) => third.on('close', resolve));
      assert.equal(received, '', 'the third connection is closed unanswered');
      for (const s of sockets) s.destroy();
      await Promise.all(sockets.map((s) => once(s, 'close')));
      await assert.rejects(startFleetService({ home: dir, port: 0, store, operatorToken: TOKEN, maxConnections: 0 }), { code: 'E_USAGE' });
    } finally {
      await service.close();
      await store.close();
    }
  });

  test('a client that is slow with its headers or its body is answered 408 and closed; others are still served', async () => {
    const { service, store } = await serve({}, Date.now, { timeouts: { headersMs: 200, requestMs: 600 } });
    /** What the server wrote before it closed the connection (no deadline: the test runner's own timeout bounds it). */
    const closedWith = async (...writes: string[]) => {
      const socket = netConnect(service.port, '127.0.0.1');
      await once(socket, 'connect');
      let received = '';
      socket.on('data', (c) => (received += c));
      socket.on('error', () => undefined);
      for (const w of writes) socket.write(w);
      await once(socket, 'close');
      return received;
    };
    try {
      // Headers never finished.
      assert.match(await closedWith('POST /v1/verify HTTP/1.1\r\nHost: 127.0.0.1\r\n'), /^HTTP\/1\.1 408 /);
      // Headers in time from the operator, a body promised but never sent in full.
      assert.match(await closedWith(`POST /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 100\r\n\r\n{"a":`), /^HTTP\/1\.1 408 /);
      const health = await fetch(`${service.url}/v1/health`);
      assert.equal(health.status, 200);
      for (const timeouts of [{ headersMs: 5 }, { requestMs: 1.5 }, { headersMs: 2000, requestMs: 1000 }, { requestMs: 4_000_000 }]) {
        await assert.rejects(startFleetService({ home: dir, port: 0, store, operatorToken: TOKEN, timeouts }), { code: 'E_USAGE' }, JSON.stringify(timeouts));
      }
    } finally {
      await service.close();
      await store.close();
    }
  });
});
