/**
 * The shape of a CLI command: its options for node:util parseArgs, its help
 * text, and a run function that only calls the library.
 */
import type { ParseArgsConfig } from 'node:util';
import type { Output } from './output.js';

export type OptionsSpec = NonNullable<ParseArgsConfig['options']>;

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** The full help text, starting with the usage line. */
  readonly help: string;
  readonly options: OptionsSpec;
  /** Runs the command; returns the exit code (default 0). */
  run(values: Record<string, unknown>, positionals: string[], out: Output): Promise<number | void>;
}
