/**
 * `bioseal bench daemon`: the section runs end to end (a short load run) and
 * reports the documented keys. No figure is asserted: timings depend on the
 * machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, assertOk, assertError, makeWorkspace } from '../helpers/cli.js';

test('bioseal bench daemon --duration 2 --json: per-call, load and lock figures with their goals', async () => {
  const ws = makeWorkspace();
  try {
    const r = await runCli(['bench', 'daemon', '--duration', '2', '--dir', ws.dir, '--json'], { home: ws.home });
    assertOk(r, 'bench daemon');
    const d = r.json.daemon;
    assert.deepEqual(r.json.sections, ['daemon']);
    for (const key of ['direct', 'json', 'gated', 'http']) assert.equal(typeof d.perCall.medianMs[key], 'number', key);
    for (const key of ['checks', 'noiseFloor', 'gatedVsDirect', 'httpVsDirect']) {
      assert.equal(typeof d.perCall[key].slowerPercent, 'number', key);
      assert.equal(typeof d.perCall[key].throughputLossPercent, 'number', key);
      assert.ok(d.perCall[key].ci.low <= d.perCall[key].ci.high, key);
    }
    assert.equal(typeof d.perCall.checksAloneUs, 'number');
    assert.ok(d.perCall.fixedCostUs >= 0);
    // The model size at which the fixed cost is the goal's share: fixed cost / 0.5%.
    assert.ok(Math.abs(d.perCall.modelMsForGoal - d.perCall.fixedCostUs / 1000 / 0.005) <= 0.1);
    assert.equal(typeof d.perCall.auditAppend.sharePercent, 'number');
    assert.equal(typeof d.perCall.totalThroughputLossPercent, 'number');
    assert.equal(d.goal.maxOverheadPercent, 0.5);
    assert.equal(typeof d.goal.overheadMet, 'boolean');
    for (const part of [d.load, d.lock]) {
      if (!part.available) {
        assert.match(part.reason, /autocannon/);
        continue;
      }
      for (const key of ['requestsPerSecond', 'errors', 'timeouts', 'non2xx', 'connections']) assert.equal(typeof part[key], 'number', key);
      assert.equal(typeof part.latencyMs.p50, 'number');
      assert.equal(typeof part.latencyMs.p99, 'number');
      assert.equal(part.connections, 100);
    }
    if (d.lock.available) {
      for (const key of ['responses', 'ok', 'locked', 'other']) assert.equal(typeof d.lock.writtenAfterLock[key], 'number');
      assert.equal(d.lock.writtenAfterLock.ok, 0, 'no 2xx written after the lock answer arrived');
      assert.equal(d.lock.writtenAfterLock.other, 0);
    }
    for (const key of ['daemonChecksAtMost0_5PercentThroughput', 'daemonLoadWithoutErrors', 'daemonLockStopsLaterResponses']) assert.ok(key in r.json.goals, key);
  } finally {
    ws.cleanup();
  }
});

test('bioseal bench daemon: a bad --duration is a usage error', async () => {
  const ws = makeWorkspace();
  try {
    assertError(await runCli(['bench', 'daemon', '--duration', '0', '--json'], { home: ws.home }), 'E_USAGE', { json: true, message: /--duration/ });
    assertError(await runCli(['bench', 'daemon', '--duration', '301'], { home: ws.home }), 'E_USAGE');
  } finally {
    ws.cleanup();
  }
});
