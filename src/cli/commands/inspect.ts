import { inspectModel, type ModelDescription } from '../../operations/inspect.js';
import { formatBytes } from '../output.js';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';

export function describeSlotsText(d: ModelDescription): string[] {
  return d.slots.map((s) => {
    const details = s.details.map((x, i) => `${s.factors[i]}(${Object.entries(x).map(([k, v]) => `${k}=${String(v)}`).join(', ')})`).join(' & ');
    return `  slot ${s.index}: ${s.factors.join(' & ')}    ${details}`;
  });
}

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'show a sealed file\'s format, sizes, slots and signature (no secret needed)',
  help: `Usage: bioseal inspect FILE [--json] [--no-verify]

Shows the format version, cipher suite, sizes, chunking, the key slots and the
factors each needs, and the publisher signature status. Needs no secret: a
signature is checked by hashing the sealed payload (skip with --no-verify).`,
  options: { 'no-verify': { type: 'boolean' } },
  async run(values, positionals, out) {
    if (positionals.length !== 1) throw new UsageError('inspect takes exactly one file');
    const d = await inspectModel(positionals[0]!, { verifySignature: !values['no-verify'] });
    out.info(`${d.file}: bioseal sealed file, format v${d.formatVersion}`);
    out.info(`  suite:      ${d.suite}`);
    out.info(`  plaintext:  ${d.plaintextLength} bytes (${formatBytes(d.plaintextLength)})`);
    out.info(`  sealed:     ${d.fileSize} bytes (header ${d.headerLength})`);
    out.info(`  chunks:     ${d.chunkCount} x ${formatBytes(d.chunkSize)}`);
    out.info(`  file id:    ${d.fileId}`);
    out.info(`  signature:  ${d.signature.status}${d.signature.publisher ? ` (publisher ${d.signature.publisher})` : ''}`);
    out.info(`  key slots:  ${d.slots.length} (any one opens the file)`);
    for (const line of describeSlotsText(d)) out.info(line);
    out.result(d);
    return d.signature.status === 'invalid' ? 7 : 0;
  },
};
