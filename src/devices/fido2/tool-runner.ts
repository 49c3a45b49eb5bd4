/**
 * Running libfido2's command-line tools (fido2-token, fido2-cred,
 * fido2-assert from Debian's fido2-tools): the one place where the fido2
 * factor starts processes.
 *
 * - No shell: `spawn(path, argv)`; the argv is built in requests.ts.
 * - The parameters go to stdin, one per line (fido2-cred(1), fido2-assert(1)).
 * - A PIN never goes on a command line or into a file. The tools read it with
 *   readpassphrase(3): from the controlling terminal when there is one, else
 *   from stdin, after writing the prompt "Enter PIN for DEVICE: " to stderr.
 *   The tools run in a new session (detached: no controlling terminal), so
 *   the prompt appears on their stderr; only then is the PIN asked for
 *   (lazily: a key with a fingerprint reader never asks) and written to
 *   stdin. The tool has read its parameters line by line before it prompts,
 *   so the PIN cannot be swallowed as a parameter.
 * - Every run has a deadline (the person's touch: 60 s by default); the
 *   process is killed when it passes.
 *
 * The runner is an interface so that the factor logic can be exercised
 * against recorded output: no FIDO2 device exists where bioseal is built and
 * tested (see software-authenticator.ts).
 */
import { spawn } from 'node:child_process';
import { DeviceError, UsageError } from '../../errors.js';
import { wipe } from '../../util/bytes.js';

export type Fido2Tool = 'fido2-token' | 'fido2-cred' | 'fido2-assert';

export interface ToolRequest {
  readonly tool: Fido2Tool;
  readonly args: readonly string[];
  /** The parameters, written to stdin (public values only: hashes, ids, salts). */
  readonly input?: string;
  /**
   * Asked only when the tool prompts for a PIN; the bytes are written to the
   * tool's stdin (through a copy that is wiped). Absent, or returning undefined: stdin is closed
   * and the tool fails (see ToolResult.pinMissing).
   */
  readonly pin?: () => Promise<Uint8Array | undefined>;
  /** Kill the tool after this long. */
  readonly timeoutMs: number;
}

export interface ToolResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The tool asked for a PIN and none could be had. */
  readonly pinMissing: boolean;
}

/** Runs one fido2 tool. Implementations throw DeviceError('unavailable' | 'timeout' | 'invalid-response') for process-level failures. */
export interface Fido2ToolRunner {
  run(request: ToolRequest): Promise<ToolResult>;
}

/** Where each tool is; by default, its name looked up on PATH. */
export type Fido2ToolPaths = Partial<Readonly<Record<Fido2Tool, string>>>;

/** The prompt readpassphrase(3) writes when the tools ask for a PIN (tools/assert_get.c, cred_make.c). */
const PIN_PROMPT = /Enter PIN for [^\n]*: $/;
const PIN_PROMPTS = /Enter PIN for [^\n]*: /g;
/** More than any tool output bioseal asks for (a few base64 lines); beyond it the tool is stopped. */
const MAX_OUTPUT = 64 * 1024;

/** The real runner: spawns the tools (no shell). */
export function spawnToolRunner(paths: Fido2ToolPaths = {}): Fido2ToolRunner {
  return { run: (request) => runTool(paths[request.tool] ?? request.tool, request) };
}

function runTool(executable: string, request: ToolRequest): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    // detached: a new session without a controlling terminal, so readpassphrase(3) uses stdin.
    const child = spawn(executable, [...request.args], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, shell: false });
    let stdout = '';
    let stderr = '';
    let pinAsked = false;
    let pinMissing = false;
    let failure: Error | undefined;
    const stop = (error: Error) => {
      failure ??= error;
      try {
        process.kill(-child.pid!, 'SIGKILL'); // the tool's process group (detached: it leads one)
      } catch {
        child.kill('SIGKILL');
      }
    };
    // Detached, the tool would outlive bioseal (waiting for a touch); it goes when bioseal does.
    const onExit = () => stop(new DeviceError('cancelled', 'bioseal is exiting'));
    process.once('exit', onExit);
    const timer = setTimeout(
      () => stop(new DeviceError('timeout', `no answer from the FIDO2 security key within ${Math.round(request.timeoutMs / 1000)} s (${request.tool} was stopped)`)),
      request.timeoutMs,
    );
    const tooLong = () => stop(new DeviceError('invalid-response', `${request.tool} printed more than ${MAX_OUTPUT} bytes; that is not its documented output`));

    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (stdout.length > MAX_OUTPUT) tooLong();
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.length > MAX_OUTPUT) return tooLong();
      if (!pinAsked && PIN_PROMPT.test(stderr)) {
        pinAsked = true;
        void supplyPin();
      }
    });
    child.stdin.on('error', () => undefined); // the tool may exit without reading all of stdin
    if (request.input !== undefined) child.stdin.write(request.input);

    async function supplyPin(): Promise<void> {
      let pin: Uint8Array | undefined;
      try {
        pin = await request.pin?.();
      } catch (error) {
        stop(error as Error);
        return;
      }
      if (!pin || pin.length === 0) {
        pinMissing = true;
        child.stdin.end();
        return;
      }
      if (pin.some((b) => b === 0x0a || b === 0x0d || b === 0x00)) {
        stop(new UsageError('a PIN cannot contain a line break or a NUL character'));
        return;
      }
      // The caller's PIN buffer is theirs (it may be cached for another slot); this copy is wiped once written.
      const line = Buffer.alloc(pin.length + 1);
      line.set(pin);
      line[pin.length] = 0x0a;
      child.stdin.end(line, () => wipe(line));
    }

    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      process.off('exit', onExit);
      if (error.code === 'ENOENT' || error.code === 'EACCES') {
        reject(new DeviceError('unavailable', `${request.tool} is not installed or not executable (${executable}); install libfido2's tools (Debian/Ubuntu: apt install fido2-tools)`, { cause: error }));
      } else {
        reject(new DeviceError('unavailable', `could not run ${request.tool}: ${error.message}`, { cause: error }));
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      process.off('exit', onExit);
      if (failure) return reject(failure);
      if (code === null) return reject(new DeviceError('unavailable', `${request.tool} was killed by ${signal ?? 'a signal'}`));
      resolve({ exitCode: code, stdout, stderr: stderr.replace(PIN_PROMPTS, ''), pinMissing });
    });
    // When the tool asks nothing, stdin stays open until it exits: it reads only what it needs.
  });
}
