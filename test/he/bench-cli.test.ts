/**
 * `bioseal bench he --json`: one JSON object whose he section holds the
 * encrypted-matching figures and goals, with match_1to1_ms, search_1000_ms
 * and max_abs_error also at the top level. No assertion depends on how fast
 * this machine is.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { assertOk, makeWorkspace, runCli } from '../helpers/cli.js';

const ws = makeWorkspace('bioseal-bench-he-');
after(() => ws.cleanup());

test('bench he --json: figures under he and the three headline keys at the top level', async () => {
  const r = await runCli(['bench', 'he', '--json', '--runs', '1', '--dir', ws.dir], { home: ws.home, timeoutMs: 300_000 });
  assertOk(r, 'bench he');
  const { he, goals, sections } = r.json;
  assert.deepEqual(sections, ['he']);
  assert.equal(r.json.check, undefined, 'the container section was not run');
  for (const key of ['match_1to1_ms', 'search_1000_ms', 'max_abs_error']) {
    assert.equal(typeof he[key], 'number', key);
    assert.equal(r.json[key], he[key], `${key} at the top level`);
  }
  assert.ok(he.match_1to1_ms > 0 && he.encrypt_ms > 0 && he.decrypt_ms > 0);
  assert.equal(he.search_templates, 1000);
  assert.ok(he.max_abs_error < 1e-4, `error ${he.max_abs_error}`);
  assert.equal(he.parameters.poly_modulus_degree, 8192);
  assert.equal(he.parameters.security_bits, 192);
  for (const [name, bytes] of Object.entries(he.sizes_bytes)) assert.ok(Number.isInteger(bytes) && (bytes as number) > 0, name);
  assert.equal(goals.heMatchUnder20ms, he.match_1to1_ms < 20);
  assert.equal(goals.heSearch1000Under1s, he.search_1000_ms < 1000);
  assert.equal(goals.heErrorUnder1e_4, true);
  assert.equal(he.goals.match_1to1_ms.met, goals.heMatchUnder20ms);
});
