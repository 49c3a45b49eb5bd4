/**
 * One factor's form of `bioseal enroll FACTOR ...`. Modules implementing it
 * stay light: what the factor needs (devices, browsers, models) is imported
 * inside `run`.
 */
import type { OptionsSpec } from '../command.js';
import type { Output } from '../output.js';

export interface EnrolSubcommand {
  /** The factor name, as in policies. */
  readonly factor: string;
  /** The usage line, e.g. `bioseal enroll tpm [--pcrs LIST] [--tcti TCTI]`. */
  readonly usage: string;
  /** What it does, then its own options, as indented help lines. */
  readonly help: string;
  /** Its own options (--name, --force and --json are common to all). */
  readonly options: OptionsSpec;
  /** Runs it with the positionals after the factor name. */
  run(values: Record<string, unknown>, rest: string[], out: Output): Promise<number | void>;
}
