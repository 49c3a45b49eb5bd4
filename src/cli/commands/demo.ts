import { mkdtempSync, rmSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildDemoModel, DEMO_WEIGHTS, DEMO_BIAS } from '../../onnx/model-builder.js';
import { runModel } from '../../onnx/session.js';
import { generateKeyFile } from '../../keys/keyfile.js';
import { sealModel } from '../../operations/seal.js';
import { inspectModel } from '../../operations/inspect.js';
import { checkModel, createSealedSession } from '../../operations/open.js';
import { describeSlotsText } from './inspect.js';
import { BiosealError, UsageError } from '../../errors.js';
import { aeadBackend } from '../../container/aead.js';
import type { Command } from '../command.js';

const DEMO_PASSPHRASE = 'correct horse battery staple (demo only)';

function expectedProbabilities(x: number[]): number[] {
  const logits = DEMO_BIAS.map((b, j) => b + x.reduce((s, xi, i) => s + xi * DEMO_WEIGHTS[i]![j]!, 0));
  const m = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - m));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'show the whole flow on a small built-in model',
  help: `Usage: bioseal demo [--keep] [--json]

Builds a small ONNX classifier in memory, seals it under the demo policy
"keyfile | recovery", inspects the sealed file, checks it, opens it into
memory and runs inference, then shows that a tampered copy and a wrong key are
refused. Works in a temporary directory, removed afterwards (--keep keeps it).`,
  options: { keep: { type: 'boolean' } },
  async run(values, positionals, out) {
    if (positionals.length) throw new UsageError('demo takes no arguments');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-demo-'));
    const home = path.join(dir, 'home');
    const steps: Record<string, unknown>[] = [];
    const step = (title: string, detail: Record<string, unknown>, lines: string[] = []) => {
      steps.push({ step: title, ...detail });
      out.info(`\n== ${steps.length}. ${title}`);
      for (const l of lines) out.info(`   ${l}`);
    };
    try {
      const model = buildDemoModel();
      step('build a model', { bytes: model.length }, [
        `an ONNX classifier (MatMul 4x3 + bias + Softmax), ${model.length} bytes, built in memory`,
      ]);

      const keyFile = path.join(dir, 'demo.key');
      await generateKeyFile(keyFile);
      const sealedPath = path.join(dir, 'demo-model.bseal');
      const sealed = await sealModel({
        input: model, // sealed from memory: the model never touches disk in the clear
        output: sealedPath,
        policies: ['keyfile | recovery'],
        keyFiles: [keyFile],
        passphrase: DEMO_PASSPHRASE,
        home,
      });
      step('seal it under the policy "keyfile | recovery"', { file: sealedPath, slots: sealed.slotCount }, [
        `key file ${keyFile} (32 random bytes), recovery passphrase "${DEMO_PASSPHRASE}"`,
        `wrote ${sealedPath}: ${sealed.sealedLength} bytes, ${sealed.chunkCount} chunk(s), ${sealed.slotCount} key slots, AES backend: ${aeadBackend}`,
      ]);

      const d = await inspectModel(sealedPath);
      step('inspect it (no secret needed)', { slots: d.slots.map((s) => s.factors) }, [
        `format v${d.formatVersion}, ${d.suite}`,
        `plaintext ${d.plaintextLength} bytes, chunk size ${d.chunkSize}, signature: ${d.signature.status}`,
        ...describeSlotsText(d).map((l) => l.trim()),
      ]);

      const checked = await checkModel(sealedPath, { keyFiles: [keyFile], home });
      step('check it with the key file', { slot: checked.slotIndex }, [`every byte authentic; opened through slot ${checked.slotIndex}`]);

      const input = [0.5, -1.2, 3.3, 0.7];
      const { session } = await createSealedSession(sealedPath, { passphrase: DEMO_PASSPHRASE, home, useIdentities: false });
      let probabilities: number[];
      try {
        const outputs = await runModel(session, { input: { type: 'float32', dims: [1, 4], data: input } });
        probabilities = (outputs.probabilities?.data ?? []) as number[];
      } finally {
        await session.release();
      }
      const expected = expectedProbabilities(input);
      const maxError = Math.max(...expected.map((e, i) => Math.abs(e - (probabilities[i] ?? NaN))));
      if (!(maxError < 1e-5)) throw new BiosealError('E_MODEL', `demo inference gave ${JSON.stringify(probabilities)}, expected ${JSON.stringify(expected)}`);
      step('open it into memory with the recovery passphrase and run inference', { input, probabilities, maxError }, [
        `the session was created from the decrypted buffer; no plaintext file exists`,
        `input ${JSON.stringify(input)} -> probabilities ${probabilities.map((p) => p.toFixed(4)).join(', ')} (matches a plain computation to ${maxError.toExponential(1)})`,
      ]);

      const tampered = path.join(dir, 'tampered.bseal');
      copyFileSync(sealedPath, tampered);
      const bytes = readFileSync(tampered);
      bytes[bytes.length - 20]! ^= 0x01;
      writeFileSync(tampered, bytes);
      const tamperCode = await checkModel(tampered, { keyFiles: [keyFile], home }).then(
        () => 'accepted',
        (e: unknown) => (e instanceof BiosealError ? e.code : 'crash'),
      );
      const wrongKey = path.join(dir, 'wrong.key');
      await generateKeyFile(wrongKey);
      const wrongCode = await checkModel(sealedPath, { keyFiles: [wrongKey], home }).then(
        () => 'accepted',
        (e: unknown) => (e instanceof BiosealError ? e.code : 'crash'),
      );
      const wrongPass = await checkModel(sealedPath, { passphrase: 'not the passphrase', home, useIdentities: false }).then(
        () => 'accepted',
        (e: unknown) => (e instanceof BiosealError ? e.code : 'crash'),
      );
      step('try to cheat', { tampered: tamperCode, wrongKeyFile: wrongCode, wrongPassphrase: wrongPass }, [
        `one flipped bit in the payload -> ${tamperCode}`,
        `another key file -> ${wrongCode}`,
        `a wrong passphrase -> ${wrongPass}`,
      ]);
      const ok = tamperCode === 'E_TAMPERED' && wrongCode === 'E_AUTH' && wrongPass === 'E_AUTH';
      out.info(ok ? '\ndemo complete: the model opened only for its owner, and only while intact.' : '\ndemo FAILED: a check above did not refuse as it should');
      out.result({ ok, directory: values.keep ? dir : undefined, steps });
      return ok ? 0 : 1;
    } finally {
      if (values.keep) out.info(`(kept ${dir})`);
      else rmSync(dir, { recursive: true, force: true });
    }
  },
};
