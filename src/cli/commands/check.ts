import { checkModel } from '../../operations/open.js';
import { encodePublisherKey } from '../../keys/publisher.js';
import { credentialsFrom, UNLOCK_HELP, UNLOCK_OPTIONS } from '../unlock-args.js';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';

export const checkCommand: Command = {
  name: 'check',
  summary: 'unlock a sealed file and authenticate every byte (nothing is written)',
  help: `Usage: bioseal check FILE [unlock options] [--publisher PUBKEY] [--json]

Opens the file through one of its key slots and authenticates the whole payload
in memory, streaming with constant memory on every core. Prints OK, or the
failure; exits 0 only when every byte is authentic.

${UNLOCK_HELP}
  --publisher PUBKEY    require a valid signature by this publisher (biosealpub1... or a .pub file)`,
  options: { ...UNLOCK_OPTIONS, publisher: { type: 'string' } },
  async run(values, positionals, out) {
    if (positionals.length !== 1) throw new UsageError('check takes exactly one file');
    const progress = out.progress('checking');
    try {
      const started = performance.now();
      const r = await checkModel(positionals[0]!, {
        ...credentialsFrom(values),
        publisher: values.publisher as string | undefined,
        onProgress: progress,
      });
      progress.stop();
      const seconds = (performance.now() - started) / 1000;
      const signer = r.signer ? encodePublisherKey(r.signer) : undefined;
      out.info(`OK ${positionals[0]}: ${r.info.layout.plaintextLength} bytes in ${r.info.layout.chunkCount} chunks authentic (slot ${r.slotIndex}${signer ? `, signed by ${signer}` : ''})`);
      out.result({ ok: true, file: positionals[0], plaintextLength: r.info.layout.plaintextLength, chunks: r.info.layout.chunkCount, slot: r.slotIndex, signer, seconds });
    } finally {
      progress.stop();
    }
  },
};
