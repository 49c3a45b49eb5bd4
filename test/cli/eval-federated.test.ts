import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { runCli, assertOk, assertError, makeWorkspace } from '../helpers/cli.js';

const FAST = ['eval', 'federated', '--synthetic', '--clients', '20', '--rounds', '3', '--local-epochs', '2'];

test('bioseal eval federated --json: final clean accuracy, attack success and the unattacked run, per-round arrays, and a chart', async () => {
  const ws = makeWorkspace();
  try {
    const r = await runCli([...FAST, '--rule', 'median', '--seed', '7', '--json', '--plot', ws.p('rounds.svg')], { home: ws.home });
    assertOk(r, 'eval federated');
    const j = r.json;
    for (const key of ['attack_success', 'clean_accuracy', 'clean_accuracy_unattacked', 'attack_success_unattacked', 'clean_accuracy_fedavg_unattacked', 'per_round', 'rule', 'attack', 'clients', 'malicious_clients', 'rounds', 'seed', 'parameters', 'data', 'dataset']) {
      assert.ok(key in j, `missing ${key}`);
    }
    assert.equal(j.rule, 'median');
    assert.equal(j.clients, 20);
    assert.equal(j.malicious_clients, 1);
    assert.equal(j.seed, 7);
    assert.equal(j.dataset, 'synthetic');
    for (const k of ['clean_accuracy', 'attack_success', 'clean_accuracy_unattacked', 'attack_success_unattacked']) {
      assert.equal(j.per_round[k].length, 3, k);
      assert.ok(j.per_round[k].every((v: number) => v >= 0 && v <= 1), k);
    }
    assert.equal(j.clean_accuracy, j.per_round.clean_accuracy[2]);
    assert.ok(!('epsilon' in j), 'no privacy budget without noise');
    assert.match(readFileSync(ws.p('rounds.svg'), 'utf8'), /^<svg[\s\S]*attack success[\s\S]*<\/svg>$/);

    const again = await runCli([...FAST, '--rule', 'median', '--seed', '7', '--json'], { home: ws.home });
    assert.deepEqual(again.json, j, 'the same seed gives the same report');

    const dp = await runCli([...FAST, '--clip', '1', '--noise-multiplier', '1.1', '--delta', '1e-6', '--json'], { home: ws.home });
    assertOk(dp);
    assert.equal(typeof dp.json.epsilon, 'number');
    assert.equal(dp.json.delta, 1e-6);
    assert.ok(dp.json.epsilon > 0 && Number.isFinite(dp.json.epsilon));
    assert.equal(dp.json.parameters.clip, 1);

    const text = await runCli([...FAST, '--rule', 'multi-krum'], { home: ws.home });
    assertOk(text);
    assert.match(text.stdout, /round +clean accuracy +attack success/);
    assert.match(text.stdout, /final: clean accuracy [\d.]+% \(no attackers [\d.]+%/);
  } finally {
    ws.cleanup();
  }
});

test('bioseal eval federated: clear typed errors for bad options, before any work', async () => {
  const ws = makeWorkspace();
  try {
    const opts = { home: ws.home };
    assertError(await runCli([...FAST, '--rule', 'mean', '--json'], opts), 'E_USAGE', { json: true, message: /--rule must be one of/ });
    assertError(await runCli([...FAST, '--attack', 'flip'], opts), 'E_USAGE', { message: /--attack/ });
    assertError(await runCli([...FAST, '--noise-multiplier', '1'], opts), 'E_USAGE', { message: /--clip/ });
    assertError(await runCli([...FAST, '--rule', 'median', '--clip', '1', '--noise-multiplier', '1'], opts), 'E_USAGE', { message: /fedavg/ });
    assertError(await runCli([...FAST, '--malicious-fraction', '0.6'], opts), 'E_USAGE', { message: /malicious-fraction/ });
    assertError(await runCli([...FAST, '--clients', 'ten'], opts), 'E_USAGE', { message: /--clients/ });
    assertError(await runCli([...FAST, '--clip', '0'], opts), 'E_USAGE', { message: /--clip/ });
    assertError(await runCli([...FAST, '--plot', ws.p('out.png')], opts), 'E_USAGE', { message: /svg/ });
    assertError(await runCli([...FAST, '--dataset', ws.p('faces')], opts), 'E_USAGE', { message: /either/ });
    assertError(await runCli([...FAST, '--clients', '500'], opts), 'E_USAGE', { message: /without examples/ });
    assertError(await runCli(['eval', 'federated', 'extra', '--synthetic'], opts), 'E_USAGE');
    assertError(await runCli(['eval', 'federated', '--dataset', ws.p('missing')], opts), 'E_IO');
    assert.equal(existsSync(ws.p('out.png')), false);
    const help = await runCli(['eval', '--help'], opts);
    assertOk(help);
    assert.match(help.stdout, /bioseal eval federated/);
    assert.match(help.stdout, /--synthetic/);
  } finally {
    ws.cleanup();
  }
});
