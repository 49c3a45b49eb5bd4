#!/usr/bin/env node
/**
 * The `bioseal` command. This file only parses arguments, dispatches to a
 * command, and turns typed errors into messages and exit codes in one place.
 */
import { parseArgs } from 'node:util';
import { AuthError, BiosealError, DeviceError } from '../errors.js';
import { createOutput } from './output.js';
import { exitCodeFor } from './exit-codes.js';
import { VERSION } from './version.js';
import type { Command } from './command.js';

/**
 * The commands, loaded on demand: `inspect` should not pay for loading the
 * ONNX runtime or the face models that `run` and `enroll` need.
 */
interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}

const COMMANDS: readonly CommandEntry[] = [
  { name: 'init', summary: 'create the state directory ($BIOSEAL_HOME, default ~/.bioseal)', load: async () => (await import('./commands/init.js')).initCommand },
  { name: 'keygen', summary: 'make a key file, a publisher signing key, or an identity', load: async () => (await import('./commands/keygen.js')).keygenCommand },
  { name: 'enroll', summary: 'enrol a factor: face, tpm, pkcs11, passkey, fido2', load: async () => (await import('./commands/enroll.js')).enrollCommand },
  { name: 'verify', summary: 'check a face against the enrolled person', load: async () => (await import('./commands/verify.js')).verifyCommand },
  { name: 'seal', summary: 'encrypt a model under an unlock policy or for recipients', load: async () => (await import('./commands/seal.js')).sealCommand },
  { name: 'inspect', summary: "show a sealed file's format, sizes, slots and signature (no secret needed)", load: async () => (await import('./commands/inspect.js')).inspectCommand },
  { name: 'check', summary: 'unlock a sealed file and authenticate every byte (nothing is written)', load: async () => (await import('./commands/check.js')).checkCommand },
  { name: 'slot', summary: 'list, add or remove key slots (the payload is not re-encrypted)', load: async () => (await import('./commands/slot.js')).slotCommand },
  { name: 'serve', summary: 'run the local daemon: unlock sealed models and serve inference on loopback', load: async () => (await import('./commands/serve.js')).serveCommand },
  { name: 'audit', summary: 'show or verify the tamper-evident audit log (audit show|verify|head)', load: async () => (await import('./commands/audit.js')).auditCommand },
  { name: 'run', summary: 'open a sealed ONNX model into memory and run it on JSON inputs', load: async () => (await import('./commands/run.js')).runCommand },
  { name: 'eval', summary: 'evaluate on a dataset: face, liveness, keystroke, takeover, federated', load: async () => (await import('./commands/eval.js')).evalCommand },
  { name: 'bench', summary: 'measure bioseal against its baselines: container, face, factors, daemon, he', load: async () => (await import('./commands/bench.js')).benchCommand },
  { name: 'fleet', summary: 'run the fleet verification service (encrypted templates, devices, manifests, audit heads)', load: async () => (await import('./commands/fleet.js')).fleetCommand },
  { name: 'update', summary: 'sign, verify and install model updates (signed manifests, rollback protection)', load: async () => (await import('./commands/update.js')).updateCommand },
  { name: 'demo', summary: 'show the whole flow on a small built-in model', load: async () => (await import('./commands/demo.js')).demoCommand },
];


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
  const entry = COMMANDS.find((c) => c.name === name);
  // Until the arguments parse, guess from the raw words; afterwards use the parsed flag.
  let json = rest.includes('--json');
  try {
    if (!entry) throw new BiosealError('E_USAGE', `unknown command "${name}" (run 'bioseal --help')`);
    const command = await entry.load();
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
    json = values.json === true;
    if (values.help) {
      process.stdout.write(command.help + '\n');
      return 0;
    }
    return (await command.run(values, positionals, createOutput(json))) ?? 0;
  } catch (error) {
    return report(error, json);
  }
}

function report(error: unknown, json: boolean): number {
  const known = error instanceof BiosealError;
  const code = known ? error.code : 'E_INTERNAL';
  const message = known ? error.message : `internal error: ${error instanceof Error ? error.message : String(error)}`;
  if (json) {
    const failure = error instanceof DeviceError ? { failure: error.failure } : {};
    const doc = JSON.stringify({ error: { code, message, ...failure } });
    process.stdout.write(doc + '\n');
    process.stderr.write(doc + '\n');
  } else {
    process.stderr.write(`bioseal: ${message} [${code}]\n`);
    if (error instanceof AuthError && error.hint) process.stderr.write(`hint: ${error.hint}\n`);
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
