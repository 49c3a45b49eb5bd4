/**
 * Printing: human lines on stdout, or one JSON document with --json;
 * progress bars on stderr only when it is a terminal and --json is off.
 */
import cliProgress from 'cli-progress';
import { formatBytes } from '../util/format.js';

export interface Output {
  readonly json: boolean;
  /** A line for people (suppressed with --json). */
  info(line: string): void;
  /** A warning on stderr (always shown, also with --json). */
  warn(line: string): void;
  /** The command's JSON result (only with --json). */
  result(value: unknown): void;
  /** A progress reporter for long work, or undefined when no bar should be drawn. */
  progress(label: string): ((done: number, total: number) => void) & { stop(): void };
}

export { formatBytes };

export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return value;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    info(line) {
      if (!json) process.stdout.write(line + '\n');
    },
    warn(line) {
      process.stderr.write(`warning: ${line}\n`);
    },
    result(value) {
      if (json) process.stdout.write(JSON.stringify(value, jsonReplacer, 2) + '\n');
    },
    progress(label) {
      const enabled = !json && Boolean(process.stderr.isTTY);
      let bar: cliProgress.SingleBar | undefined;
      const report = Object.assign(
        (done: number, total: number) => {
          if (!enabled || total < 64 * 1024 * 1024) return;
          if (!bar) {
            bar = new cliProgress.SingleBar(
              { stream: process.stderr, format: `${label} [{bar}] {percentage}% {value_h}/{total_h} eta {eta}s`, hideCursor: true, clearOnComplete: true },
              cliProgress.Presets.shades_classic,
            );
            bar.start(total, 0, { value_h: formatBytes(0), total_h: formatBytes(total) });
          }
          bar.update(done, { value_h: formatBytes(done), total_h: formatBytes(total) });
        },
        {
          stop() {
            bar?.stop();
          },
        },
      );
      return report;
    },
  };
}
