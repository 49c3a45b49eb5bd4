/**
 * Asking for a passphrase on the terminal without echoing it.
 */
import { UsageError } from '../errors.js';

/** True when a person can be asked (stdin and stderr are terminals). */
export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

/**
 * Reads one line from the terminal with echo off.
 * @throws UsageError when there is no terminal or the user interrupts.
 */
export function promptHidden(question: string): Promise<string> {
  if (!canPrompt()) return Promise.reject(new UsageError('no terminal to ask on: give the passphrase or PIN in a file (--passphrase-file, --pin-file) or the environment'));
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    stdin.setRawMode(true); // echo off before asking, so early keystrokes are not shown
    process.stderr.write(question);
    stdin.resume();
    let answer = '';
    const finish = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(answer);
    };
    const onData = (data: Buffer) => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || ch === '\u0004') return finish(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else answer += ch;
      }
    };
    stdin.on('data', onData);
  });
}
