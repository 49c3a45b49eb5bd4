/**
 * The exact tool invocations (argv and stdin) of the fido2 factor, and the
 * spawn runner that carries them out.
 *
 * The real libfido2 tools (fido2-tools) run here: they accept bioseal's argv
 * and parse its stdin (they get past their "input error" check and fail only
 * when opening a device, since no FIDO2 device exists on this machine), and
 * `fido2-token -L` finds no key. The runner's own mechanics (PIN written only
 * after the tool's prompt, no terminal, deadline, output cap) are checked
 * with small shell scripts standing in for a tool, named as such.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { DeviceError, UsageError } from '../../../src/errors.js';
import { candidateDevices } from '../../../src/devices/fido2/discovery.js';
import {
  checkDevicePath,
  deviceInfoRequest,
  getAssertionRequest,
  listDevicesRequest,
  makeCredentialRequest,
  newClientData,
  QUERY_TIMEOUT_MS,
  RP_ID,
  TOUCH_TIMEOUT_MS,
} from '../../../src/devices/fido2/requests.js';
import { toolFailure } from '../../../src/devices/fido2/tool-errors.js';
import { spawnToolRunner, type ToolRequest } from '../../../src/devices/fido2/tool-runner.js';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const cdh = new Uint8Array(32).fill(0xc1);
const userId = new Uint8Array(32).fill(0x11);
const credentialId = new Uint8Array(64).fill(0x22);
const salt = new Uint8Array(32).fill(0x33);
const NO_DEVICE = '/dev/bioseal-test-no-such-fido2-key';

for (const tool of ['fido2-token', 'fido2-cred', 'fido2-assert']) {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  assert.equal(found.status, 0, `${tool} is missing: install fido2-tools (scripts/setup-system.sh does)`);
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-fido2-tools-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A shell script standing in for a fido2 tool (for the runner's mechanics only). */
function standInTool(name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('argv and stdin', () => {
  test('fido2-token -L and -I', () => {
    assert.deepEqual(listDevicesRequest(), { tool: 'fido2-token', args: ['-L'], timeoutMs: QUERY_TIMEOUT_MS });
    assert.deepEqual(deviceInfoRequest('/dev/hidraw3'), { tool: 'fido2-token', args: ['-I', '/dev/hidraw3'], timeoutMs: QUERY_TIMEOUT_MS });
  });

  test('fido2-cred -M: hmac-secret, -v for built-in verification, none (and -r if needed) for a PIN key; four input lines', () => {
    const base = { device: '/dev/hidraw3', clientDataHash: cdh, userName: 'bioseal default', userId };
    const input = `${b64(cdh)}\n${RP_ID}\nbioseal default\n${b64(userId)}\n`;
    const builtin = makeCredentialRequest({ ...base, uv: 'builtin' });
    assert.equal(builtin.tool, 'fido2-cred');
    assert.deepEqual(builtin.args, ['-M', '-h', '-v', '/dev/hidraw3', 'es256']);
    assert.equal(builtin.input, input);
    assert.equal(builtin.timeoutMs, TOUCH_TIMEOUT_MS);
    assert.deepEqual(makeCredentialRequest({ ...base, uv: 'pin' }).args, ['-M', '-h', '/dev/hidraw3', 'es256']);
    assert.deepEqual(makeCredentialRequest({ ...base, uv: 'pin', resident: true }).args, ['-M', '-h', '-r', '/dev/hidraw3', 'es256']);
    assert.equal(makeCredentialRequest({ ...base, uv: 'pin', timeoutMs: 5000 }).timeoutMs, 5000);
  });

  test('fido2-assert -G: hmac-secret, -t uv=true for built-in verification, -v for a PIN key; four input lines', () => {
    const base = { device: '/dev/hidraw3', rpId: RP_ID, clientDataHash: cdh, credentialId, salt };
    const input = `${b64(cdh)}\n${RP_ID}\n${b64(credentialId)}\n${b64(salt)}\n`;
    const builtin = getAssertionRequest({ ...base, uv: 'builtin' });
    assert.equal(builtin.tool, 'fido2-assert');
    assert.deepEqual(builtin.args, ['-G', '-h', '-t', 'uv=true', '/dev/hidraw3']);
    assert.equal(builtin.input, input);
    assert.deepEqual(getAssertionRequest({ ...base, uv: 'pin' }).args, ['-G', '-h', '-v', '/dev/hidraw3']);
    assert.throws(() => getAssertionRequest({ ...base, uv: 'pin', salt: new Uint8Array(16) }), RangeError);
  });

  test('device paths a tool would read as an option, and lines that would break the format, are refused', () => {
    for (const bad of ['', '-x', '--help', 'a\nb', 'a\0b']) assert.throws(() => checkDevicePath(bad), UsageError, JSON.stringify(bad));
    assert.equal(checkDevicePath('/dev/hidraw0'), '/dev/hidraw0');
    assert.equal(checkDevicePath('pcsc://slot0'), 'pcsc://slot0');
    assert.throws(() => makeCredentialRequest({ device: '/dev/hidraw0', clientDataHash: cdh, userName: 'two\nlines', userId, uv: 'builtin' }), UsageError);
    assert.throws(() => getAssertionRequest({ device: '-v', rpId: RP_ID, clientDataHash: cdh, credentialId, salt, uv: 'builtin' }), UsageError);
  });

  test('client data: a fresh 32-byte challenge each time, hashed with SHA-256', () => {
    const a = newClientData('get');
    const b = newClientData('get');
    const parsed = JSON.parse(a.json) as { type: string; challenge: string; rpId: string };
    assert.equal(parsed.type, 'bioseal.fido2.get');
    assert.equal(parsed.rpId, RP_ID);
    assert.equal(Buffer.from(parsed.challenge, 'base64url').length, 32);
    assert.notEqual(a.json, b.json);
    assert.notDeepEqual(a.hash, b.hash);
    assert.equal(a.hash.length, 32);
  });
});

describe('the real libfido2 tools accept bioseal\'s argv and stdin', () => {
  const runner = spawnToolRunner();

  async function reachesDeviceOpen(request: ToolRequest): Promise<void> {
    const r = await runner.run(request);
    assert.equal(r.exitCode, 1);
    assert.doesNotMatch(r.stderr, /input error|usage/i, `the tool rejected bioseal's input or argv: ${r.stderr}`);
    assert.match(r.stderr, /fido_dev_open/, r.stderr);
    const e = toolFailure(request.tool, r, NO_DEVICE);
    assert.equal(e.failure, 'unavailable');
    assert.match(e.message, /cannot open the FIDO2 security key/);
  }

  test('fido2-cred -M (both forms) parses the parameters, then finds no device', async () => {
    const base = { device: NO_DEVICE, clientDataHash: cdh, userName: 'bioseal default', userId };
    await reachesDeviceOpen(makeCredentialRequest({ ...base, uv: 'builtin' }));
    await reachesDeviceOpen(makeCredentialRequest({ ...base, uv: 'pin', resident: true }));
  });

  test('fido2-assert -G (both forms) parses the parameters, then finds no device', async () => {
    const base = { device: NO_DEVICE, rpId: RP_ID, clientDataHash: cdh, credentialId, salt };
    await reachesDeviceOpen(getAssertionRequest({ ...base, uv: 'builtin' }));
    await reachesDeviceOpen(getAssertionRequest({ ...base, uv: 'pin' }));
  });

  test('a malformed parameter is caught by the real tool (the check above can fail)', async () => {
    const request = getAssertionRequest({ device: NO_DEVICE, rpId: RP_ID, clientDataHash: cdh, credentialId, salt, uv: 'builtin' });
    const r = await runner.run({ ...request, input: `not*base64\n${RP_ID}\n${b64(credentialId)}\n${b64(salt)}\n` });
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /input error/);
  });

  test('fido2-token -L finds no key here: DeviceError unavailable', async () => {
    await assert.rejects(candidateDevices(runner, undefined), (e: unknown) => {
      assert.ok(e instanceof DeviceError);
      assert.equal(e.failure, 'unavailable');
      assert.match(e.message, /no FIDO2 security key found/);
      return true;
    });
  });

  test('fido2-token -I on a missing device: unavailable', async () => {
    const r = await runner.run(deviceInfoRequest(NO_DEVICE));
    assert.equal(r.exitCode, 1);
    assert.equal(toolFailure('fido2-token', r, NO_DEVICE).failure, 'unavailable');
  });
});

describe('the spawn runner', () => {
  const request = (over: Partial<ToolRequest> = {}): ToolRequest => ({ tool: 'fido2-assert', args: [], input: 'line one\nline two\n', timeoutMs: 20_000, ...over });

  test('a missing tool is unavailable, with a hint to install fido2-tools', async () => {
    const runner = spawnToolRunner({ 'fido2-assert': path.join(dir, 'no-such-tool') });
    await assert.rejects(runner.run(request()), (e: unknown) => e instanceof DeviceError && e.failure === 'unavailable' && /fido2-tools/.test(e.message));
  });

  test('argv goes through without a shell; the parameters arrive on stdin; there is no controlling terminal', async () => {
    const tool = standInTool('args-stdin', 'read a; read b; printf "%s|%s|%s|%s\\n" "$1" "$2" "$a" "$b"; if (exec 3</dev/tty) 2>/dev/null; then echo tty; else echo no-tty; fi');
    const r = await spawnToolRunner({ 'fido2-assert': tool }).run(request({ args: ['$(touch pwned)', 'a b'] }));
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdout, '$(touch pwned)|a b|line one|line two\nno-tty\n');
  });

  test('the PIN is asked only after the tool prompts, written to stdin after the parameters, and the caller\'s buffer is left alone', async () => {
    const tool = standInTool('pin-prompt', 'read a; read b; printf "Enter PIN for /dev/x: " >&2; read pin; printf "%s %s pin=%s\\n" "$a" "$b" "$pin"');
    const pin = new Uint8Array(Buffer.from('123456'));
    let asked = 0;
    const r = await spawnToolRunner({ 'fido2-assert': tool }).run(request({ pin: async () => (asked++, pin) }));
    assert.equal(asked, 1);
    assert.equal(r.stdout, 'line one line two pin=123456\n');
    assert.doesNotMatch(r.stderr, /Enter PIN/);
    assert.equal(r.pinMissing, false);
    assert.equal(Buffer.from(pin).toString(), '123456');
  });

  test('no prompt, no PIN asked', async () => {
    const tool = standInTool('no-prompt', 'read a; echo done');
    let asked = 0;
    const r = await spawnToolRunner({ 'fido2-assert': tool }).run(request({ pin: async () => (asked++, new Uint8Array([0x31])) }));
    assert.equal(r.stdout, 'done\n');
    assert.equal(asked, 0);
  });

  test('a prompt without a PIN to give: stdin is closed and the result says so', async () => {
    const tool = standInTool('pin-missing', 'read a; read b; printf "Enter PIN for /dev/x: " >&2; if read pin; then echo got; else echo "fido2-assert: invalid PIN length" >&2; exit 1; fi');
    const r = await spawnToolRunner({ 'fido2-assert': tool }).run(request({ pin: async () => undefined }));
    assert.equal(r.exitCode, 1);
    assert.equal(r.pinMissing, true);
    const e = toolFailure('fido2-assert', r, '/dev/x');
    assert.equal(e.failure, 'refused');
    assert.match(e.message, /asks for its PIN and none was given/);
  });

  test('a PIN with a line break is refused before it is written', async () => {
    const tool = standInTool('pin-newline', 'read a; printf "Enter PIN for /dev/x: " >&2; read pin; echo "pin=$pin"');
    await assert.rejects(spawnToolRunner({ 'fido2-assert': tool }).run(request({ pin: async () => new Uint8Array(Buffer.from('12\n34')) })), UsageError);
  });

  test('past the deadline the tool is killed: timeout', async () => {
    const tool = standInTool('sleeps', 'sleep 30');
    await assert.rejects(spawnToolRunner({ 'fido2-assert': tool }).run(request({ timeoutMs: 300 })), (e: unknown) => e instanceof DeviceError && e.failure === 'timeout');
  });

  test('output far beyond the documented format is cut off: invalid response', async () => {
    const tool = standInTool('floods', 'head -c 300000 /dev/zero | tr "\\0" "A"');
    await assert.rejects(spawnToolRunner({ 'fido2-assert': tool }).run(request()), (e: unknown) => e instanceof DeviceError && e.failure === 'invalid-response');
  });
});
