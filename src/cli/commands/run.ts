import { readFileSync } from 'node:fs';
import { createSealedSession } from '../../operations/open.js';
import { runModel } from '../../onnx/session.js';
import { credentialsFrom, UNLOCK_HELP, UNLOCK_OPTIONS } from '../unlock-args.js';
import { describeFsError } from '../../util/atomic-file.js';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';

const MAX_INPUT_JSON = 256 * 1024 * 1024;

export const runCommand: Command = {
  name: 'run',
  summary: 'open a sealed ONNX model into memory and run it on JSON inputs',
  help: `Usage: bioseal run FILE --input INPUT.json [unlock options] [--json]

Opens the sealed ONNX model into memory, creates the onnxruntime session from
that buffer (never from a plaintext file), runs it and prints the outputs.

INPUT.json maps input names to tensors:
  {"input": {"type": "float32", "dims": [1, 4], "data": [0.1, 0.2, 0.3, 0.4]}}
Types: float32, float64, int32, int64, uint8, int8, bool.

${UNLOCK_HELP}
  --publisher PUBKEY    require a valid signature by this publisher`,
  options: { ...UNLOCK_OPTIONS, input: { type: 'string', short: 'i' }, publisher: { type: 'string' } },
  async run(values, positionals, out) {
    if (positionals.length !== 1) throw new UsageError('run takes exactly one sealed model');
    const inputPath = values.input as string | undefined;
    if (!inputPath) throw new UsageError('run needs --input INPUT.json');
    let inputs: unknown;
    try {
      const text = readFileSync(inputPath, 'utf8');
      if (text.length > MAX_INPUT_JSON) throw new UsageError(`${inputPath} is larger than ${MAX_INPUT_JSON} bytes`);
      inputs = JSON.parse(text);
    } catch (error) {
      if (error instanceof SyntaxError) throw new UsageError(`${inputPath}: not valid JSON (${error.message})`);
      if (error instanceof UsageError) throw error;
      throw describeFsError(error, inputPath);
    }
    const { session } = await createSealedSession(positionals[0]!, {
      ...credentialsFrom(values),
      publisher: values.publisher as string | undefined,
    });
    try {
      const outputs = await runModel(session, inputs);
      if (out.json) out.result({ outputs });
      else for (const [name, t] of Object.entries(outputs)) out.info(`${name} ${t.type}[${t.dims.join(',')}]: ${JSON.stringify(t.data)}`);
    } finally {
      await session.release();
    }
  },
};
