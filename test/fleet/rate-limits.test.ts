/**
 * Rate limits of the fleet service. The token buckets first: bursts,
 * refills and waits on an injected clock, and bounded memory under many
 * keys. Then the service over HTTP on 127.0.0.1 with real devices and a
 * clock the test moves: a device over its limit gets 429 with Retry-After
 * while another device is served, encrypted matching has its own lower
 * limit, the buckets refill, and an address that fails authentication too
 * often is refused outright until its bucket refills. No test sleeps.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
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
    for (let i = 0; i < 100_000; i++) buckets.take(`device-${i}`);
    assert.equal(buckets.size, 1000);
    // The most recent keys are the ones kept; an evicted key starts over with a full bucket.
    assert.equal(buckets.waitMs('device-99999', 5), 1000);
    assert.equal(buckets.waitMs('device-0', 5), 0);
    clock.advance(5000);
    for (let i = 0; i < 600; i++) buckets.take('busy');
    assert.equal(buckets.size, 1, 'every bucket that refilled to full was dropped');
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
    const limits = new FleetRateLimits({ authFailures: { ratePerSecond: 0.01, burst: 2 }, maxTrackedKeys: 500 });
    for (let i = 0; i < 200_000; i++) limits.recordAuthFailure(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    for (let i = 0; i < 200_000; i++) limits.chargeDevice(`device-${i}`, i % 2 === 0);
    assert.deepEqual(limits.trackedKeys, { devices: 500, matching: 500, addresses: 500 });
  });
});

describe('the service enforces the limits', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-fleet-rate-'));
  let ctx: HeContext;
  let keys: HeKeyHolder;

  before(async () => {
    ctx = await HeContext.create();
    keys = HeKeyHolder.generate(ctx);
  });
  after(() => {
    keys?.dispose();
    ctx?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  async function serve(rateLimits: FleetRateLimitOptions, now: () => number): Promise<{ service: FleetService; store: SqliteFleetStore }> {
    const home = mkdtempSync(path.join(dir, 'home-'));
    const store = await SqliteFleetStore.open({ home });
    const service = await startFleetService({ home, port: 0, store, operatorToken: TOKEN, rateLimits, now, onInternalError: (e) => console.error(e) });
    return { service, store };
  }

  const device = (service: FleetService, id: string) => new FleetClient({ url: service.url, deviceId: id, secretKey: ed25519.utils.randomSecretKey(), operatorToken: TOKEN });
  const secretKeyOf = (client: FleetClient) => (client as any).options.secretKey as Uint8Array;

  /** A signed GET of a model nobody published: authenticated, cheap, answered 404 when allowed. */
  const fetchModel = (client: FleetClient) => client.request('GET', '/v1/models/none');

  /** Sends a request and returns its status, headers and JSON; with `declare`, only headers declaring that body length go out. */
  function raw(service: FleetService, method: string, urlPath: string, headers: Record<string, string>, body = '', declare?: number) {
    return new Promise<{ status: number; headers: Record<string, unknown>; json: any }>((resolve, reject) => {
      const req = httpRequest(`${service.url}${urlPath}`, { method, headers: { 'content-type': 'application/json', 'content-length': String(declare ?? Buffer.byteLength(body)), ...headers } });
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

  test('repeated failed authentications from one address (bad signatures, a wrong operator token) get it refused outright, before any body is read', async () => {
    const clock = manualClock();
    const { service, store } = await serve({ authFailures: { ratePerSecond: 0.1, burst: 3 } }, clock.now);
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

      // The address is now refused whatever it sends: a valid device request, health, or 64 MiB announced but never sent.
      const blocked = await raw(service, 'GET', '/v1/models/none', signRequest({ method: 'GET', path: '/v1/models/none', body: new Uint8Array(0), deviceId: 'phone', secretKey: secretKeyOf(phone) }));
      assert.equal(blocked.status, 429);
      assert.equal(blocked.headers['retry-after'], '10');
      assert.equal(blocked.json.error.code, 'E_RATE_LIMIT');
      assert.match(blocked.json.error.message, /failed authentications from this address/);
      assert.equal((await raw(service, 'GET', '/v1/health', {})).status, 429);
      const headersOnly = signRequest({ method: 'POST', path: '/v1/verify', body: new Uint8Array(0), deviceId: 'phone', secretKey: secretKeyOf(phone) });
      assert.equal((await raw(service, 'POST', '/v1/verify', headersOnly, '', 64 * 1024 * 1024)).status, 429);

      clock.advance(10_000);
      assert.equal((await fetchModel(phone)).status, 404, 'a refilled token lets the next request in');
      assert.equal((await raw(service, 'GET', '/v1/models/none', forged)).status, 401);
      assert.equal((await fetchModel(phone)).status, 429, 'and the next failure uses it up again');
    } finally {
      await service.close();
      await store.close();
    }
  });
});
