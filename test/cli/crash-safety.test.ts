/**
 * Crash safety: `seal --force` over an existing sealed file, `slot add` and
 * `slot remove` are SIGKILLed at random moments. Afterwards the target must be
 * the old file byte for byte, or a complete new one that `check` accepts; the
 * input model must be untouched; and the `.NAME.xxxx.tmp` files a kill can
 * leave behind must never break later commands.
 *
 * Half of the kills land after a random delay (0-300 ms from spawn), half
 * shortly after the command's temporary file appears, so that kills do land
 * mid-write however fast the machine is. No assertion depends on timing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHash, randomInt } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildLargeModel } from '../../src/onnx/model-builder.js';
import { inspectModel } from '../../src/operations/inspect.js';
import {
  assertError,
  assertOk,
  collect,
  makeWorkspace,
  runCli,
  spawnCli,
  tempFiles,
  writePassphrase,
  type CliOptions,
  type CliResult,
} from '../helpers/cli.js';

const ITERATIONS = 30;
const MODEL_BYTES = 6 * 1024 * 1024;
const CHUNK = '4096';

const ws = makeWorkspace('bioseal-crash-');
after(() => ws.cleanup());
const cli = (args: readonly string[], o: CliOptions = {}) => runCli(args, { home: ws.home, cwd: ws.dir, ...o });

const MODEL = ws.p('model.onnx');
const KEY = ws.p('k.key');
const PASS_FILE = ws.p('pass.txt');
const TARGET = ws.p('target.bseal');
const TARGET_NAME = path.basename(TARGET);

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
let modelHash: string;
let modelLength: number;

before(async () => {
  const model = buildLargeModel({ sizeBytes: MODEL_BYTES, seed: randomInt(1, 2 ** 31) });
  writeFileSync(MODEL, model);
  modelHash = sha(model);
  modelLength = model.length;
  writePassphrase(PASS_FILE, 'crash test passphrase');
  assertOk(await cli(['keygen', '--key-file', KEY]));
  assertOk(await cli(['seal', MODEL, '-o', TARGET, '--policy', 'keyfile', '--key-file', KEY, '--chunk-size', CHUNK]));
});

type Op = 'seal' | 'slot-add' | 'slot-remove';

function argsFor(op: Op, variant: number): string[] {
  switch (op) {
    case 'seal':
      // Alternate one and two slots so both slot operations get exercised.
      return variant % 2 === 0
        ? ['seal', MODEL, '-o', TARGET, '--force', '--policy', 'keyfile', '--key-file', KEY, '--chunk-size', CHUNK]
        : ['seal', MODEL, '-o', TARGET, '--force', '--policy', 'keyfile | recovery', '--key-file', KEY, '--passphrase-file', PASS_FILE, '--chunk-size', CHUNK];
    case 'slot-add':
      return ['slot', 'add', TARGET, '--policy', 'recovery', '--key-file', KEY, '--new-passphrase-file', PASS_FILE];
    case 'slot-remove':
      return ['slot', 'remove', TARGET, '1', '--key-file', KEY];
  }
}

interface Outcome {
  readonly killed: boolean;
  readonly result: CliResult;
}

/** Runs the command and SIGKILLs it after `delayMs`, or soon after a new temporary file for TARGET appears. */
async function runAndKill(args: readonly string[], trigger: { delayMs: number } | { afterTempMs: number }): Promise<Outcome> {
  const known = new Set(tempFiles(ws.dir));
  const child = spawnCli(args, { home: ws.home, cwd: ws.dir });
  const done = collect(child, { timeoutMs: 60_000 });
  let exited = false;
  void done.then(() => (exited = true));
  if ('delayMs' in trigger) {
    await Promise.race([sleep(trigger.delayMs), done]);
  } else {
    // Poll for the temporary file (bounded by the child's exit).
    while (!exited) {
      const fresh = readdirSync(ws.dir).some((n) => n.startsWith(`.${TARGET_NAME}.`) && n.endsWith('.tmp') && !known.has(n));
      if (fresh) break;
      await sleep(1);
    }
    if (!exited) await Promise.race([sleep(trigger.afterTempMs), done]);
  }
  const killed = !exited && child.kill('SIGKILL');
  const result = await done;
  return { killed: killed && result.signal === 'SIGKILL', result };
}

describe('SIGKILL during seal --force, slot add and slot remove', () => {
  test(`${ITERATIONS} random kills leave the old file or a complete new one`, async (t) => {
    const stats = { killed: 0, completed: 0, unchanged: 0, replaced: 0, byOp: {} as Record<string, number> };
    for (let i = 0; i < ITERATIONS; i++) {
      const slotsBefore = (await inspectModel(TARGET, { verifySignature: false })).slots.length;
      const op: Op = randomInt(2) === 0 ? 'seal' : slotsBefore === 1 ? 'slot-add' : 'slot-remove';
      const before = readFileSync(TARGET);
      const trigger = i % 2 === 0 ? { delayMs: randomInt(0, 301) } : { afterTempMs: randomInt(0, 40) };
      const { killed, result } = await runAndKill(argsFor(op, randomInt(2)), trigger);
      const label = `iteration ${i}: ${op} ${JSON.stringify(trigger)} ${killed ? 'killed' : `exited ${result.code}`}`;
      stats.byOp[op] = (stats.byOp[op] ?? 0) + 1;
      if (killed) stats.killed++;
      else {
        stats.completed++;
        assertOk(result, label);
      }

      const after = readFileSync(TARGET);
      if (Buffer.compare(before, after) === 0) {
        stats.unchanged++;
      } else {
        stats.replaced++;
        const d = await inspectModel(TARGET, { verifySignature: false });
        assert.equal(d.plaintextLength, modelLength, label);
        assert.equal(d.fileSize, after.length, label);
        if (op === 'slot-add') assert.equal(d.slots.length, slotsBefore + 1, label);
        if (op === 'slot-remove') assert.equal(d.slots.length, slotsBefore - 1, label);
        if (d.slots.length === 2) assertOk(await cli(['check', TARGET, '--passphrase-file', PASS_FILE]), `${label}: the new recovery slot opens`);
      }
      // Old or new, it must open and authenticate completely through the key file (slot 0 is always keyfile).
      const check = await cli(['check', TARGET, '--key-file', KEY, '--json']);
      assertOk(check, `${label}: check after the kill`);
      assert.equal(check.json.slot, 0);
      assert.equal(sha(readFileSync(MODEL)), modelHash, `${label}: the input model is untouched`);
    }
    const strays = tempFiles(ws.dir);
    t.diagnostic(
      `kills: ${stats.killed}, completed: ${stats.completed}, target unchanged: ${stats.unchanged}, replaced: ${stats.replaced}, ops: ${JSON.stringify(stats.byOp)}`,
    );
    // Each write first removes the temporary files of writers that were killed (their pid is gone),
    // so kills never make them pile up: at most the last kill's file can remain.
    t.diagnostic(`stray temporary files left by kills: ${strays.length}`);
    assert.ok(strays.length <= 1, `abandoned temporary files are cleaned up, found ${strays.join(', ')}`);
  });

  test('stray temporary files never break later commands', async () => {
    // Make sure some exist, whatever the random kills did: a fake, full-size one and an empty one.
    writeFileSync(ws.p(`.${TARGET_NAME}.deadbeef0001.tmp`), readFileSync(TARGET));
    writeFileSync(ws.p(`.${TARGET_NAME}.deadbeef0002.tmp`), '');
    const strays = tempFiles(ws.dir);
    assert.ok(strays.length >= 2);

    assertOk(await cli(['check', TARGET, '--key-file', KEY]));
    assertOk(await cli(['inspect', TARGET]));
    assertOk(await cli(['slot', 'list', TARGET]));
    const slots = (await inspectModel(TARGET, { verifySignature: false })).slots.length;
    if (slots === 2) assertOk(await cli(['slot', 'remove', TARGET, '1', '--key-file', KEY]), 'slot remove with strays around');
    assertOk(await cli(['slot', 'add', TARGET, '--policy', 'recovery', '--key-file', KEY, '--new-passphrase-file', PASS_FILE]), 'slot add with strays around');
    assertOk(await cli(['check', TARGET, '--passphrase-file', PASS_FILE]));
    assertOk(await cli(['seal', MODEL, '-o', TARGET, '--force', '--policy', 'keyfile', '--key-file', KEY, '--chunk-size', CHUNK]), 'seal --force with strays around');
    assertOk(await cli(['seal', MODEL, '-o', ws.p('second.bseal'), '--policy', 'keyfile', '--key-file', KEY]));
    assertError(await cli(['seal', MODEL, '-o', TARGET, '--policy', 'keyfile', '--key-file', KEY]), 'E_EXISTS');
    assertOk(await cli(['check', TARGET, '--key-file', KEY]));
    assertOk(await cli(['check', ws.p('second.bseal'), '--key-file', KEY]));
    // Files that are not a killed writer's (foreign names) are left alone; a dead writer's
    // (.NAME.PID.RANDOM.tmp with a pid that no longer runs) are removed; successful runs add none.
    assert.deepEqual(tempFiles(ws.dir), strays.filter((f) => f.includes('deadbeef')));
  });
});
