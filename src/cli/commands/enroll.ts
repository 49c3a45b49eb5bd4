/**
 * `bioseal enroll FACTOR ...`: dispatches to the factor's subcommand
 * (src/cli/enroll/). The options of every subcommand are accepted by the
 * parser; each subcommand reads its own.
 */
import { UsageError } from '../../errors.js';
import type { Command, OptionsSpec } from '../command.js';
import type { EnrolSubcommand } from '../enroll/subcommand.js';
import { enrolFaceCommand } from '../enroll/face.js';
import { enrolPasskeyCommand } from '../enroll/passkey.js';
import { enrolTpmCommand } from '../enroll/tpm.js';
import { enrolPkcs11Command } from '../enroll/pkcs11.js';
import { enrolFido2Command } from '../enroll/fido2.js';

const SUBCOMMANDS: readonly EnrolSubcommand[] = [enrolFaceCommand, enrolTpmCommand, enrolPkcs11Command, enrolPasskeyCommand, enrolFido2Command];

const COMMON: OptionsSpec = {
  name: { type: 'string' },
  force: { type: 'boolean' },
};

function mergedOptions(): OptionsSpec {
  const out: OptionsSpec = { ...COMMON };
  for (const s of SUBCOMMANDS) Object.assign(out, s.options);
  return out;
}

/** Options given that the chosen factor does not take (the parser accepts the union). */
function foreignOptions(sub: EnrolSubcommand, values: Record<string, unknown>): string[] {
  return Object.keys(values).filter((k) => values[k] !== undefined && k !== 'json' && k !== 'help' && !(k in COMMON) && !(k in sub.options));
}

export const enrollCommand: Command = {
  name: 'enroll',
  summary: `enrol a factor: ${SUBCOMMANDS.map((s) => s.factor).join(', ')}`,
  help: `Usage:
${SUBCOMMANDS.map((s) => `  ${s.usage}`).join('\n')}

Enrols a factor under a NAME (default: default) in $BIOSEAL_HOME/enrolments/.
Key slots name the enrolment they were made with; re-enrolling a NAME (--force)
revokes it, and slots made with the old enrolment no longer open.

${SUBCOMMANDS.map((s) => `${s.factor}:\n${s.help}`).join('\n\n')}

Common options:
  --name NAME    enrolment name (default: default)
  --force        replace an existing enrolment of that name
  --json         print the result as JSON`,
  options: mergedOptions(),
  async run(values, positionals, out) {
    const [factor, ...rest] = positionals;
    const known = SUBCOMMANDS.map((s) => s.factor).join(', ');
    if (!factor) throw new UsageError(`enroll needs a factor (${known}); see bioseal enroll --help`);
    const sub = SUBCOMMANDS.find((s) => s.factor === factor);
    if (!sub) throw new UsageError(`cannot enrol "${factor}" (this version enrols: ${known})`);
    const foreign = foreignOptions(sub, values);
    if (foreign.length) throw new UsageError(`enroll ${factor} does not take --${foreign.join(', --')} (see bioseal enroll --help)`);
    return sub.run(values, rest, out);
  },
};
