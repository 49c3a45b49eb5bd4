/**
 * Finding FIDO2 security keys and what they can do, through `fido2-token`:
 * `-L` lists them (`PATH: vendor=0x1050, product=0x0402 (Yubico YubiKey ...)`),
 * `-I PATH` prints their getInfo answer (`extension strings: credProtect,
 * hmac-secret`, `options: rk, up, uv, noplat, clientPin, ...`, where a `no`
 * prefix means the option is false: tools/token.c in libfido2).
 *
 * A key is named explicitly with `--device PATH` or BIOSEAL_FIDO2_DEVICE;
 * otherwise every key the system lists is a candidate.
 */
import { DeviceError } from '../../errors.js';
import { checkDevicePath, deviceInfoRequest, listDevicesRequest, type UserVerification } from './requests.js';
import { toolFailure } from './tool-errors.js';
import type { Fido2ToolRunner } from './tool-runner.js';

export interface Fido2DeviceEntry {
  readonly path: string;
  /** Vendor and product, as the system names them. */
  readonly description: string;
}

export interface Fido2DeviceInfo {
  readonly versions: readonly string[];
  readonly extensions: readonly string[];
  /** getInfo options by name (true/false); absent when the key does not report the option. */
  readonly options: ReadonlyMap<string, boolean>;
  readonly aaguid?: string;
}

const LIST_LINE = /^(.+): vendor=0x([0-9a-f]{4}), product=0x([0-9a-f]{4}) \((.*)\)$/;

/** Parses `fido2-token -L` output. Lines of another shape are ignored. */
export function parseDeviceList(stdout: string): Fido2DeviceEntry[] {
  const out: Fido2DeviceEntry[] = [];
  for (const line of stdout.split('\n')) {
    const m = LIST_LINE.exec(line.trimEnd());
    if (m) out.push({ path: m[1]!, description: `${m[4]!.trim() || 'unnamed'} (vendor 0x${m[2]}, product 0x${m[3]})` });
  }
  return out;
}

/** Parses `fido2-token -I` output. */
export function parseDeviceInfo(stdout: string): Fido2DeviceInfo {
  const fields = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const at = line.indexOf(': ');
    if (at > 0) fields.set(line.slice(0, at).trim(), line.slice(at + 2).trim());
  }
  const list = (key: string) => (fields.get(key) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const options = new Map<string, boolean>();
  for (const o of list('options')) {
    // "noplat" is plat=false, "nouv" is uv=false. (The one CTAP option whose own name starts
    // with "no", noMcGaPermissionsWithClientPin, is misread; bioseal does not use it.)
    if (o.startsWith('no')) options.set(o.slice(2), false);
    else options.set(o, true);
  }
  return { versions: list('version strings'), extensions: list('extension strings'), options, aaguid: fields.get('aaguid') };
}

/**
 * How this key verifies its user, for the fido2 factor.
 * @throws DeviceError('unsupported') when it cannot: no hmac-secret, no user verification.
 */
export function userVerificationOf(info: Fido2DeviceInfo, device: string): UserVerification {
  if (info.versions.length === 0 && info.options.size === 0) {
    throw new DeviceError('unsupported', `${device} is a U2F-only security key; the fido2 factor needs a FIDO2 key with the hmac-secret extension`);
  }
  if (!info.extensions.includes('hmac-secret')) {
    throw new DeviceError('unsupported', `the FIDO2 security key ${device} does not support the hmac-secret extension`);
  }
  if (info.options.get('uv') === true) return 'builtin';
  if (info.options.get('clientPin') === true) return 'pin';
  throw new DeviceError(
    'unsupported',
    `the FIDO2 security key ${device} cannot verify its user: enrol a fingerprint or set a PIN first (fido2-token -S DEVICE); bioseal requires user verification`,
  );
}

/** The device named by the user: `--device PATH`, else BIOSEAL_FIDO2_DEVICE. */
export function explicitDevice(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const chosen = option ?? (env.BIOSEAL_FIDO2_DEVICE || undefined);
  return chosen === undefined ? undefined : checkDevicePath(chosen);
}

/**
 * The candidate keys: the one named, or every key the system lists.
 * @throws DeviceError('unavailable') when none is found.
 */
export async function candidateDevices(runner: Fido2ToolRunner, named: string | undefined): Promise<Fido2DeviceEntry[]> {
  if (named) return [{ path: named, description: 'named with --device or BIOSEAL_FIDO2_DEVICE' }];
  const request = listDevicesRequest();
  const result = await runner.run(request);
  if (result.exitCode !== 0) throw toolFailure(request.tool, result);
  const devices = parseDeviceList(result.stdout);
  if (devices.length === 0) {
    throw new DeviceError('unavailable', 'no FIDO2 security key found (fido2-token -L lists none): plug one in, or name it with --device PATH or BIOSEAL_FIDO2_DEVICE');
  }
  return devices;
}

/** `fido2-token -I` for one key. */
export async function readDeviceInfo(runner: Fido2ToolRunner, device: string): Promise<Fido2DeviceInfo> {
  const request = deviceInfoRequest(device);
  const result = await runner.run(request);
  if (result.exitCode !== 0) throw toolFailure(request.tool, result, device);
  return parseDeviceInfo(result.stdout);
}
