/**
 * Shared helpers for tests that run the real `bioseal` CLI as a subprocess
 * (node dist/src/cli/bin.js), with cheap Argon2, a temporary BIOSEAL_HOME and
 * temporary working directories.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import assert from 'node:assert/strict';

/** The compiled CLI entry point. */
export const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
/** The compiled library entry points, for child scripts. */
export const DIST_SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/**
 * The exit codes the CLI contract promises (one per error code). Written out
 * here rather than imported so a change in src/cli/exit-codes.ts is noticed.
 */
export const EXIT = {
  OK: 0,
  E_INTERNAL: 1,
  E_USAGE: 2,
  E_AUTH: 3,
  E_TAMPERED: 4,
  E_FORMAT: 5,
  E_POLICY: 6,
  E_SIGNATURE: 7,
  E_IO: 8,
  E_EXISTS: 9,
  E_RATE_LIMIT: 10,
  E_MODEL: 11,
  E_IMAGE: 12,
  E_FACE_NOT_FOUND: 13,
  E_FACE_MULTIPLE: 14,
  E_FACE_QUALITY: 15,
  E_ENROLMENT: 16,
  E_DEVICE: 17,
  E_ROLLBACK: 18,
  E_EXPIRED: 19,
  E_DIGEST: 20,
} as const;

export type ErrorCode = Exclude<keyof typeof EXIT, 'OK'>;

/** The uid/gid of an unprivileged user, used when the tests run as root. */
export const NOBODY = 65534;
export const IS_ROOT = process.getuid?.() === 0;

export interface CliResult {
  /** Exit status, or null when the process was killed by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as one JSON document, when it is one. */
  readonly json: any;
}

export interface CliOptions {
  /** BIOSEAL_HOME for the child (required unless env sets it). */
  readonly home?: string;
  readonly cwd?: string;
  /** Extra environment; a value of undefined removes the variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Written to stdin, then closed. */
  readonly stdin?: string;
  /**
   * Run as an unprivileged user (uid/gid 65534 through setpriv) when the tests
   * run as root, so file permissions apply. Files must be reachable by that user.
   */
  readonly unprivileged?: boolean;
  /** Kill the child (SIGKILL) after this long; default 60 s. */
  readonly timeoutMs?: number;
}

/** The environment every CLI child gets: cheap Argon2, a temp home, no stray secrets. */
export function childEnv(options: CliOptions = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, BIOSEAL_ARGON2_MEMORY_KIB: '8192' };
  delete env.BIOSEAL_PASSPHRASE;
  delete env.BIOSEAL_DEBUG;
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT;
  if (options.home !== undefined) env.BIOSEAL_HOME = options.home;
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  assert.ok(env.BIOSEAL_HOME, 'tests must give every CLI child a temporary BIOSEAL_HOME');
  return env;
}

/**
 * Why the CLI cannot run as the unprivileged user here, or undefined when it
 * can: as root, every directory above the built CLI must let others through
 * (a checkout cloned into a `mktemp -d` directory, mode 0700, does not).
 */
export function unprivilegedUnreachable(): string | undefined {
  if (!IS_ROOT) return undefined;
  for (let dir = path.dirname(BIN); ; dir = path.dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return `the checkout is not reachable by uid ${NOBODY}: ${dir} does not let others through (mode ${(statSync(dir).mode & 0o777).toString(8)}); clone into a directory others can enter to run the permission tests`;
    if (dir === path.dirname(dir)) return undefined;
  }
}

/** The argv that runs `node <file> ...args`, through setpriv when an unprivileged run is asked for as root. */
export function nodeCommand(file: string, args: readonly string[], unprivileged = false): [string, string[]] {
  if (unprivileged && IS_ROOT) {
    return ['setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, file, ...args]];
  }
  return [process.execPath, [file, ...args]];
}

/** Starts the CLI without waiting (for tests that kill it). */
export function spawnCli(args: readonly string[], options: CliOptions = {}): ChildProcess {
  const [cmd, argv] = nodeCommand(BIN, args, options.unprivileged);
  return spawn(cmd, argv, { cwd: options.cwd, env: childEnv(options), stdio: ['pipe', 'pipe', 'pipe'] });
}

/**
 * The JSON object a long-running command (`serve --json`) prints once it is
 * ready, read from its stdout as it arrives. Rejects if the child exits first.
 */
export async function readStartedJson(child: ChildProcess): Promise<any> {
  let stdout = '';
  child.stdout!.setEncoding('utf8');
  while (!stdout.endsWith('}\n')) {
    const [chunk] = (await Promise.race([once(child.stdout!, 'data'), once(child, 'exit').then(([code]) => Promise.reject(new Error(`exited with ${code} before printing its start line: ${stdout}`)))])) as [string];
    stdout += chunk;
  }
  return JSON.parse(stdout);
}

function parseJson(text: string): any {
  const t = text.trim();
  if (!t.startsWith('{') && !t.startsWith('[')) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

/** Collects a child's output and exit status. Unless `interactive`, stdin gets `stdin` (or nothing) and is closed. */
export function collect(child: ChildProcess, options: { stdin?: string; timeoutMs?: number; interactive?: boolean } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // Generous: the kill is for a hung child, not a slow one (many CLI processes start at once on a loaded 2-core machine).
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, json: parseJson(stdout) });
    });
    child.stdin?.on('error', () => undefined);
    if (!options.interactive) child.stdin?.end(options.stdin ?? '');
  });
}

/** Runs `bioseal ...args` to completion. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return collect(spawnCli(args, options), options);
}

/** Runs an ES module script (text) in a child node process with the CLI's environment. */
export function runNodeScript(source: string, options: CliOptions = {}): Promise<CliResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-script-'));
  const file = path.join(dir, 'script.mjs');
  writeFileSync(file, source);
  chmodSync(dir, 0o755);
  chmodSync(file, 0o644);
  const [cmd, argv] = nodeCommand(file, [], options.unprivileged);
  const child = spawn(cmd, argv, { cwd: options.cwd, env: childEnv(options), stdio: ['pipe', 'pipe', 'pipe'] });
  return collect(child, options).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** Import specifier of a compiled library module, for child scripts. */
export function distModule(relative: string): string {
  return JSON.stringify(pathToFileURL(path.join(DIST_SRC, relative)).href);
}

function show(r: CliResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** Asserts a successful run. */
export function assertOk(r: CliResult, what = 'command'): void {
  assert.equal(r.code, 0, `${what} should succeed; ${show(r)}`);
}

/**
 * Asserts a failure with `code`: the promised exit status, and a message on
 * stderr ending in "[CODE]" (text mode) or the JSON error document (--json).
 * Returns the message.
 */
export function assertError(r: CliResult, code: ErrorCode, options: { json?: boolean; message?: RegExp } = {}): string {
  assert.equal(r.code, EXIT[code], `expected ${code} (exit ${EXIT[code]}); ${show(r)}`);
  let message: string;
  if (options.json) {
    assert.ok(r.json && typeof r.json === 'object', `--json error should be a JSON document on stdout; ${show(r)}`);
    assert.deepEqual(Object.keys(r.json), ['error'], show(r));
    assert.equal(r.json.error.code, code, show(r));
    assert.equal(typeof r.json.error.message, 'string');
    message = r.json.error.message;
  } else {
    assert.equal(r.stdout, '', `an error should print nothing on stdout; ${show(r)}`);
    const m = /^bioseal: (.+) \[(E_[A-Z_]+)\]$/m.exec(r.stderr);
    assert.ok(m, `stderr should carry "bioseal: MESSAGE [CODE]"; ${show(r)}`);
    assert.equal(m[2], code, show(r));
    message = m[1]!;
  }
  assert.ok(message.length > 5, `the message should say what went wrong; ${show(r)}`);
  assert.doesNotMatch(message, /internal error|undefined|\[object /, `message should be meant for people; ${show(r)}`);
  if (options.message) assert.match(message, options.message, show(r));
  return message;
}

export interface Workspace {
  /** A fresh directory (mode 0755 so an unprivileged child can reach it). */
  readonly dir: string;
  /** A BIOSEAL_HOME path inside dir (not created). */
  readonly home: string;
  /** path.join(dir, ...parts) */
  p(...parts: string[]): string;
  /** Removes everything. */
  cleanup(): void;
}

/** os.tmpdir() when every ancestor lets others through (so an unprivileged child can reach it), else /tmp. */
function reachableTmpdir(): string {
  const base = path.resolve(os.tmpdir());
  for (let p = base; ; p = path.dirname(p)) {
    try {
      if ((statSync(p).mode & 0o001) === 0) return '/tmp';
    } catch {
      return '/tmp';
    }
    if (p === path.dirname(p)) return base;
  }
}

/** A temporary working directory with a BIOSEAL_HOME path inside it. */
export function makeWorkspace(prefix = 'bioseal-cli-'): Workspace {
  const dir = mkdtempSync(path.join(reachableTmpdir(), prefix));
  chmodSync(dir, 0o755);
  return {
    dir,
    home: path.join(dir, 'home'),
    p: (...parts) => path.join(dir, ...parts),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Makes a directory owned by the unprivileged user (when root), mode 0755 unless given. */
export function makeNobodyDir(dir: string, mode = 0o755): string {
  mkdirSync(dir, { recursive: true });
  if (IS_ROOT) chownSync(dir, NOBODY, NOBODY);
  chmodSync(dir, mode);
  return dir;
}

/** Gives a file to the unprivileged user (when root). */
export function giveToNobody(file: string, mode?: number): void {
  if (IS_ROOT) chownSync(file, NOBODY, NOBODY);
  if (mode !== undefined) chmodSync(file, mode);
}

/** The permission bits of a path. */
export function modeOf(file: string): number {
  return statSync(file).mode & 0o777;
}

/** Names in a directory, sorted. */
export function listDir(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** Names of atomic-write temporaries (".NAME.xxxx.tmp") in a directory. */
export function tempFiles(dir: string): string[] {
  return listDir(dir).filter((n) => n.startsWith('.') && n.endsWith('.tmp'));
}

/** Atomic-write temporaries of one target file (".BASENAME.xxxx.tmp" next to it). */
export function tempFilesFor(file: string): string[] {
  const base = path.basename(file);
  return tempFiles(path.dirname(file)).filter((n) => n.startsWith(`.${base}.`));
}

/** A passphrase file holding one line. */
export function writePassphrase(file: string, passphrase: string): string {
  writeFileSync(file, `${passphrase}\n`, { mode: 0o600 });
  return file;
}

/** The recipient string printed by `keygen --identity` (text mode). */
export function recipientFrom(stdout: string): string {
  const m = /\bbioseal1[a-z0-9]+\b/.exec(stdout);
  assert.ok(m, `no recipient in: ${stdout}`);
  return m[0];
}

/** The publisher public key string from a .pub file's text. */
export function publisherFrom(text: string): string {
  const m = /\bbiosealpub1[a-z0-9]+\b/.exec(text);
  assert.ok(m, `no publisher key in: ${text}`);
  return m[0];
}

/** Softmax(x·W + b): the demo model's computation, for comparing `run` outputs. */
export function demoExpected(x: readonly number[], weights: readonly (readonly number[])[], bias: readonly number[]): number[] {
  const logits = bias.map((b, j) => b + x.reduce((s, xi, i) => s + xi * weights[i]![j]!, 0));
  const m = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - m));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** Asserts two numeric arrays agree to `tolerance`. */
export function assertClose(actual: readonly number[], expected: readonly number[], tolerance = 1e-5): void {
  assert.equal(actual.length, expected.length, `length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tolerance, `element ${i}: ${actual[i]} vs ${expected[i]} (tolerance ${tolerance})`);
  }
}
