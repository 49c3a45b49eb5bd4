import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, assertOk, assertError, makeWorkspace } from '../helpers/cli.js';

const FAST = ['eval', 'federated', '--synthetic', '--clients', '20', '--rounds', '2', '--local-epochs', '1'];

test('bioseal eval federated: --norm-bound, --bucket and the centered-clipping and Bulyan rules reach the report', async () => {
  const ws = makeWorkspace();
  try {
    const cc = await runCli([...FAST, '--rule', 'centered-clip', '--norm-bound', 'median', '--bucket', '2', '--center-iterations', '2', '--json'], { home: ws.home });
    assertOk(cc, 'centered clipping');
    assert.equal(cc.json.rule, 'centered-clip');
    assert.equal(cc.json.parameters.norm_bound, 'median');
    assert.equal(cc.json.parameters.bucket, 2);
    assert.equal(cc.json.parameters.centered_clip_iterations, 2);
    assert.equal(cc.json.parameters.centered_clip_radius, 'median distance');
    for (const key of ['attack_success', 'clean_accuracy', 'clean_accuracy_unattacked']) assert.equal(typeof cc.json[key], 'number', key);
    assert.ok(cc.json.per_round.clipped.every((n: number) => n >= 1), 'norm bounding scales updates down every round');
    const b = await runCli([...FAST, '--rule', 'bulyan', '--json'], { home: ws.home });
    assertOk(b, 'bulyan');
    assert.equal(b.json.parameters.byzantine, 1);
    const kf = await runCli([...FAST, '--rule', 'median', '--krum-filter', '--json'], { home: ws.home });
    assertOk(kf, 'Krum filter');
    assert.equal(kf.json.parameters.krum_filter, 'n - f best Krum scores');
    assert.ok(kf.json.per_round.malicious_used.every((n: number) => n === 0), 'the boosted attacker never passes the filter');
    const text = await runCli([...FAST, '--rule', 'multi-krum', '--bucket', '2', '--norm-bound', 'median'], { home: ws.home });
    assertOk(text);
    assert.match(text.stdout, /rule multi-krum, norms bounded by the median, buckets of 2/);
  } finally {
    ws.cleanup();
  }
});

test('bioseal eval federated: bad defence options are clear E_USAGE errors', async () => {
  const ws = makeWorkspace();
  try {
    const opts = { home: ws.home };
    assertError(await runCli([...FAST, '--norm-bound', 'mean', '--json'], opts), 'E_USAGE', { json: true, message: /--norm-bound must be one of median/ });
    assertError(await runCli([...FAST, '--bucket', '0'], opts), 'E_USAGE', { message: /--bucket/ });
    assertError(await runCli([...FAST, '--bucket', '1.5'], opts), 'E_USAGE', { message: /--bucket/ });
    assertError(await runCli([...FAST, '--rule', 'median', '--center-radius', '1'], opts), 'E_USAGE', { message: /centered-clip/ });
    assertError(await runCli([...FAST, '--rule', 'centered-clip', '--center-radius', '-1'], opts), 'E_USAGE', { message: /--center-radius/ });
    assertError(await runCli([...FAST, '--clip', '1', '--noise-multiplier', '1', '--bucket', '2'], opts), 'E_USAGE', { message: /--bucket/ });
    assertError(await runCli([...FAST, '--rule', 'bulyan', '--bucket', '4'], opts), 'E_USAGE', { message: /needs at least 7 buckets/ });
    assertError(await runCli([...FAST, '--rule', 'multi-krum', '--krum-filter'], opts), 'E_USAGE', { message: /Krum filter/ });
  } finally {
    ws.cleanup();
  }
});
