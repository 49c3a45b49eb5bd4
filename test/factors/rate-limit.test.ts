/**
 * AttemptLimiter (src/factors/rate-limit.ts): NIST SP 800-63B's limit on
 * failed biometric attempts. 5 failures in a row are free; then each attempt
 * waits 30 s, doubling per further failure, capped at an hour; a success
 * clears the count; the count survives restarts. Time is injected, never
 * waited for.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';

import { RateLimitError } from '../../src/errors.js';
import { AttemptLimiter, DEFAULT_RATE_LIMIT } from '../../src/factors/rate-limit.js';

let dir: string;
let home: string;
let clock: number;
const now = () => clock;
const limiter = () => new AttemptLimiter(home, DEFAULT_RATE_LIMIT, now);
const KEY = 'face:0123456789abcdef0123456789abcdef';

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-ratelimit-'));
  home = path.join(dir, 'home');
  clock = 1_700_000_000_000;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function fail(l: AttemptLimiter, times: number, key = KEY): void {
  for (let i = 0; i < times; i++) l.recordFailure(key);
}

function refused(l: AttemptLimiter, expectedWaitMs: number, key = KEY): void {
  assert.throws(
    () => l.assertAllowed(key, 'face'),
    (e: unknown) => {
      assert.ok(e instanceof RateLimitError, String(e));
      assert.equal(e.code, 'E_RATE_LIMIT');
      assert.equal(e.retryAfterMs, expectedWaitMs);
      assert.match(e.message, new RegExp(`failed face attempts: try again in ${Math.ceil(expectedWaitMs / 1000)} s`));
      return true;
    },
  );
}

describe('AttemptLimiter', () => {
  test('the default policy is 5 free failures, 30 s base delay, 1 h cap', () => {
    assert.deepEqual({ ...DEFAULT_RATE_LIMIT }, { freeAttempts: 5, baseDelayMs: 30_000, maxDelayMs: 3_600_000 });
  });

  test('a fresh key is allowed; four failures are still free', () => {
    const l = limiter();
    assert.equal(l.waitMs(KEY), 0);
    assert.equal(l.failures(KEY), 0);
    l.assertAllowed(KEY, 'face');
    fail(l, 4);
    assert.equal(l.failures(KEY), 4);
    assert.equal(l.waitMs(KEY), 0);
    l.assertAllowed(KEY, 'face');
  });

  test('after the 5th failure the 6th attempt must wait 30 s (RateLimitError with retryAfterMs)', () => {
    const l = limiter();
    fail(l, 5);
    assert.equal(l.waitMs(KEY), 30_000);
    refused(l, 30_000);
    clock += 12_345;
    refused(l, 30_000 - 12_345);
    clock += 30_000 - 12_345 - 1;
    refused(l, 1);
    clock += 1;
    assert.equal(l.waitMs(KEY), 0);
    l.assertAllowed(KEY, 'face');
  });

  test('each further failure doubles the delay: 30, 60, 120, 240 ... s, capped at one hour', () => {
    const l = limiter();
    fail(l, 5);
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) {
      seen.push(l.waitMs(KEY));
      clock += l.waitMs(KEY);
      l.assertAllowed(KEY, 'face');
      l.recordFailure(KEY);
    }
    assert.deepEqual(seen, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600].map((s) => s * 1000));
    fail(l, 1000);
    assert.equal(l.waitMs(KEY), 3_600_000, 'no overflow after many failures');
  });

  test('a success clears the count', () => {
    const l = limiter();
    fail(l, 7);
    clock += 3_600_000;
    l.recordSuccess(KEY);
    assert.equal(l.failures(KEY), 0);
    assert.equal(l.waitMs(KEY), 0);
    fail(l, 4);
    l.assertAllowed(KEY, 'face');
  });

  test('the count survives a restart (a new limiter on the same home) and is stored 0600', () => {
    fail(limiter(), 5);
    const after = limiter();
    assert.equal(after.failures(KEY), 5);
    refused(after, 30_000);
    const file = path.join(home, 'attempts.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(home).mode & 0o777, 0o700);
    assert.equal(existsSync(`${file}.lock`), false, 'the lock is released');
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { [KEY]: { failures: 5, lastFailure: clock } });
  });

  test('keys are counted separately', () => {
    const l = limiter();
    fail(l, 5, 'face:a');
    refused(l, 30_000, 'face:a');
    l.assertAllowed('face:b', 'face');
    l.recordSuccess('face:b');
    assert.equal(l.failures('face:a'), 5);
  });

  test('a custom policy is honoured', () => {
    const l = new AttemptLimiter(home, { freeAttempts: 2, baseDelayMs: 1000, maxDelayMs: 5000 }, now);
    fail(l, 2);
    assert.equal(l.waitMs(KEY), 1000);
    fail(l, 2);
    assert.equal(l.waitMs(KEY), 4000);
    fail(l, 1);
    assert.equal(l.waitMs(KEY), 5000);
  });

  test('a damaged state file reads as a fresh start and is repaired by the next write', () => {
    mkdirHome();
    const file = path.join(home, 'attempts.json');
    for (const junk of ['not json', '[]', 'null', '{"face:x": {"failures": "many"}}']) {
      writeFileSync(file, junk);
      const l = limiter();
      assert.equal(l.failures(KEY), 0, junk);
      l.recordFailure(KEY);
      assert.equal(l.failures(KEY), 1);
      rmSync(file);
    }
  });

  test('a stale lock file (left by a crashed process) does not block updates', () => {
    mkdirHome();
    const lock = path.join(home, 'attempts.json.lock');
    writeFileSync(lock, '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    limiter().recordFailure(KEY);
    assert.equal(limiter().failures(KEY), 1);
    assert.equal(existsSync(lock), false);
  });
});

function mkdirHome(): void {
  limiter(); // creates $BIOSEAL_HOME (0700)
}
