#!/usr/bin/env node
/**
 * The `bioseal` command. This file only parses arguments, dispatches to a
 * command, and turns typed errors into messages and exit codes in one place.
 */
import { parseArgs } from 'node:util';
import { BiosealError } from '../errors.js';
import { createOutput } from './output.js';
import { exitCodeFor } from './exit-codes.js';
import type { Command } from './command.js';
import { sealCommand } from './commands/seal.js';
import { keygenCommand } from './commands/keygen.js';
import { inspectCommand } from './commands/inspect.js';
import { checkCommand } from './commands/check.js';
import { slotCommand } from './commands/slot.js';
import { runCommand } from './commands/run.js';
import { initCommand } from './commands/init.js';
// bench: added by src/bench
import { demoCommand } from './commands/demo.js';

const COMMANDS: readonly Command[] = [
  initCommand,
  keygenCommand,
  sealCommand,
  inspectCommand,
  checkCommand,
  slotCommand,
  runCommand,

  demoCommand,
];

const VERSION = '0.1.0';

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `bioseal ${VERSION}: lock local AI models to the person who owns them

Usage: bioseal <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run 'bioseal <command> --help' for a command's options.
Every command takes --json for machine-readable output and --help.
State lives in $BIOSEAL_HOME (default ~/.bioseal).`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp() + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`bioseal ${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  const json = rest.includes('--json');
  const out = createOutput(json);
  try {
    if (!command) throw new BiosealError('E_USAGE', `unknown command "${name}" (run 'bioseal --help')`);
    const { values, positionals } = (() => {
      try {
        return parseArgs({
          args: rest,
          options: { ...command.options, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
          allowPositionals: true,
          strict: true,
        });
      } catch (error) {
        throw new BiosealError('E_USAGE', `${(error as Error).message.split('\n')[0]} (see bioseal ${name} --help)`);
      }
    })();
    if (values.help) {
      process.stdout.write(command.help + '\n');
      return 0;
    }
    return (await command.run(values, positionals, out)) ?? 0;
  } catch (error) {
    return report(error, json);
  }
}

function report(error: unknown, json: boolean): number {
  const known = error instanceof BiosealError;
  const code = known ? error.code : 'E_INTERNAL';
  const message = known ? error.message : `internal error: ${error instanceof Error ? error.message : String(error)}`;
  if (json) {
    const doc = JSON.stringify({ error: { code, message } });
    process.stdout.write(doc + '\n');
    process.stderr.write(doc + '\n');
  } else {
    process.stderr.write(`bioseal: ${message} [${code}]\n`);
    if (!known && process.env.BIOSEAL_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  }
  return exitCodeFor(code);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = report(error, false);
  },
);
