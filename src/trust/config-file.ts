/**
 * A trust configuration read from a JSON file: `{"lockThreshold": 0.05,
 * "weights": {"keystroke": 0.5}, ...}`, any subset of the keys in
 * config.ts. The daemon (`bioseal serve --trust FILE`) and the takeover
 * evaluation (`bioseal eval takeover --trust FILE`) take it, so that a
 * setting is measured before it is deployed.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { resolveTrustConfig, type TrustConfig, type TrustConfigInput } from './config.js';

/** Files larger than this are not trust settings. */
const MAX_BYTES = 64 * 1024;

/**
 * The defaults with the file's settings applied, every value checked.
 * @throws {UsageError} naming the file when it is unreadable, too large, not a JSON object, or holds a bad key or value
 */
export function readTrustConfigFile(file: string): { input: TrustConfigInput; config: TrustConfig } {
  let text: string;
  try {
    const bytes = readFileSync(file);
    if (bytes.length > MAX_BYTES) throw new UsageError(`${file}: a trust configuration is at most ${MAX_BYTES} bytes`);
    text = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read the trust configuration ${file}: ${(error as Error).message}`);
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file}: not JSON: ${(error as Error).message}`);
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new UsageError(`${file}: a trust configuration is a JSON object of settings`);
  try {
    return { input: input as TrustConfigInput, config: resolveTrustConfig(input as TrustConfigInput) };
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
}
