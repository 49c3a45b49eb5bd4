/**
 * `bioseal bench` sections: the face section measures a real frame with the
 * real models and reports its figures and goal; unknown sections are refused.
 * No assertion depends on how fast this machine is.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { assertError, assertOk, makeWorkspace, runCli } from '../helpers/cli.js';

describe('bioseal bench', () => {
  const ws = makeWorkspace('bioseal-bench-');
  after(() => ws.cleanup());

  test('an unknown section is a usage error naming the known ones', async () => {
    const r = await runCli(['bench', 'nonsense', '--json'], { home: ws.home });
    assertError(r, 'E_USAGE', { json: true, message: /unknown section "nonsense".*container, face, factors/ });
  });

  test('bench face --json: per-frame times after warm-up, model load apart, the 50 ms goal judged', async () => {
    const r = await runCli(['bench', 'face', '--json', '--dir', ws.dir], { home: ws.home, timeoutMs: 300_000 });
    assertOk(r, 'bench face');
    const { face, goals, sections } = r.json;
    assert.deepEqual(sections, ['face']);
    assert.equal(r.json.check, undefined, 'the container section was not run');
    assert.equal(face.available, true);
    assert.equal(face.embedder, 'faceres-aligned');
    assert.ok(face.faceWidthPx > 100, 'the frame holds a large face');
    assert.ok(face.loadMs > 0 && face.warmupMs > 0);
    assert.equal(face.frames, 20);
    assert.ok(face.perFrameMs.min > 0 && face.perFrameMs.min <= face.perFrameMs.median && face.perFrameMs.median <= face.perFrameMs.p90);
    assert.equal(goals.faceFrameUnder50ms, face.perFrameMs.median <= 50);
    assert.equal(r.json.allGoalsMet, Object.values(goals).every((g) => g === true));
  });
});
