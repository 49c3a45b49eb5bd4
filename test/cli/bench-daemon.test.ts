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
    const r = await runCli(['bench', 'daemon', '--duration', '2', '--rounds', '600', '--dir', ws.dir, '--json'], { home: ws.home, timeoutMs: 300_000 });
    assertOk(r, 'bench daemon');
    const d = r.json.daemon;
    assert.deepEqual(r.json.sections, ['daemon']);
    // The small model and the large one, each side by side.
    for (const p of [d.perCall, d.large.perCall]) {
      for (const key of ['direct', 'json', 'gated', 'http']) assert.equal(typeof p.medianMs[key], 'number', key);
      for (const key of ['checks', 'noiseFloor', 'gatedVsDirect', 'httpVsDirect']) {
        assert.equal(typeof p[key].slowerPercent, 'number', key);
        assert.equal(typeof p[key].throughputLossPercent, 'number', key);
        assert.ok(p[key].ci.low <= p[key].ci.high, key);
      }
      assert.equal(typeof p.checksAloneUs, 'number');
      assert.ok(p.fixedCostUs >= 0);
      // The model size at which the fixed cost is the goal's share: fixed cost / 0.5%.
      assert.ok(Math.abs(p.modelMsForGoal - p.fixedCostUs / 1000 / 0.005) <= 0.1);
      assert.equal(typeof p.auditAppend.sharePercent, 'number');
      assert.equal(typeof p.totalThroughputLossPercent, 'number');
      // The policy's evaluations in the gated calls are counted in the goal's figure.
      assert.ok(Number.isInteger(p.policyEvaluations.count) && p.policyEvaluations.count <= p.policyEvaluations.calls);
      assert.ok(Math.abs(p.totalThroughputLossPercent - (p.checks.throughputLossPercent + p.auditAppend.sharePercent + p.policyEvaluations.sharePercent)) <= 0.002);
    }
    assert.equal(d.large.perCall.rounds, 150, 'a quarter of the rounds on the large model');
    assert.ok(d.large.model.bytes > 100e6 && d.large.model.hidden === 4096 && d.large.model.layers === 3);
    assert.equal(d.goal.maxOverheadPercent, 0.5);
    assert.equal(typeof d.goal.overheadMet, 'boolean');
    assert.equal(typeof d.goal.overheadMetLargeModel, 'boolean');
    assert.equal(r.json.goals.daemonChecksAtMost0_5PercentThroughputLargeModel, d.goal.overheadMetLargeModel);
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
    assertError(await runCli(['bench', 'daemon', '--rounds', '99'], { home: ws.home }), 'E_USAGE', { message: /--rounds/ });
    assertError(await runCli(['bench', 'daemon', '--rounds', 'many'], { home: ws.home }), 'E_USAGE', { message: /--rounds/ });
  } finally {
    ws.cleanup();
  }
});
