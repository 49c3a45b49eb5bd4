/**
 * What a failed fido2 tool run means, as a DeviceError: the tools exit 1 and
 * print `TOOL: fido_...: FIDO_ERR_NAME` (libfido2's fido_strerr names) on
 * stderr. The person learns what the key said in words, scripts get the
 * failure kind, and the FIDO_ERR_ name stays in the message for support.
 */
import { DeviceError, type DeviceFailure } from '../../errors.js';
import type { ToolResult } from './tool-runner.js';

/** A DeviceError that keeps libfido2's error name, when there was one. */
export class Fido2DeviceError extends DeviceError {
  /** e.g. `FIDO_ERR_NO_CREDENTIALS`; undefined when the tool printed none. */
  readonly fidoError: string | undefined;
  constructor(failure: DeviceFailure, message: string, fidoError?: string) {
    super(failure, message);
    this.fidoError = fidoError;
  }
}

const KNOWN: Readonly<Record<string, { failure: DeviceFailure; say: string }>> = {
  FIDO_ERR_PIN_INVALID: { failure: 'refused', say: 'wrong PIN for the FIDO2 security key' },
  FIDO_ERR_PIN_AUTH_INVALID: { failure: 'refused', say: 'the FIDO2 security key rejected the PIN authentication' },
  FIDO_ERR_PIN_POLICY_VIOLATION: { failure: 'refused', say: "the PIN does not meet the FIDO2 security key's PIN policy" },
  FIDO_ERR_PIN_BLOCKED: { failure: 'refused', say: 'the PIN of the FIDO2 security key is blocked after too many wrong PINs; the key must be reset' },
  FIDO_ERR_PIN_AUTH_BLOCKED: { failure: 'refused', say: 'the FIDO2 security key blocks PIN entry after several wrong PINs; unplug it and plug it in again' },
  FIDO_ERR_PIN_REQUIRED: { failure: 'refused', say: 'the FIDO2 security key requires its PIN' },
  FIDO_ERR_PIN_NOT_SET: { failure: 'unsupported', say: 'the FIDO2 security key has no PIN set; set one (fido2-token -S DEVICE) or enrol a fingerprint' },
  FIDO_ERR_UV_INVALID: { failure: 'refused', say: 'user verification failed on the FIDO2 security key (fingerprint not recognised)' },
  FIDO_ERR_UV_BLOCKED: { failure: 'refused', say: "the FIDO2 security key's built-in user verification is blocked after too many failures; use its PIN to unblock it" },
  FIDO_ERR_OPERATION_DENIED: { failure: 'refused', say: 'the FIDO2 security key denied the operation' },
  FIDO_ERR_NOT_ALLOWED: { failure: 'refused', say: 'the FIDO2 security key does not allow the operation' },
  FIDO_ERR_UP_REQUIRED: { failure: 'refused', say: 'the FIDO2 security key needs a touch' },
  FIDO_ERR_USER_PRESENCE_REQUIRED: { failure: 'refused', say: 'the FIDO2 security key needs a touch' },
  FIDO_ERR_NO_CREDENTIALS: { failure: 'refused', say: 'this FIDO2 security key does not hold the enrolled credential (another key?)' },
  FIDO_ERR_INVALID_CREDENTIAL: { failure: 'refused', say: 'this FIDO2 security key does not hold the enrolled credential (another key?)' },
  FIDO_ERR_ACTION_TIMEOUT: { failure: 'timeout', say: 'nobody touched the FIDO2 security key in time' },
  FIDO_ERR_USER_ACTION_TIMEOUT: { failure: 'timeout', say: 'nobody touched the FIDO2 security key in time' },
  FIDO_ERR_KEEPALIVE_CANCEL: { failure: 'cancelled', say: 'the operation was cancelled on the FIDO2 security key' },
  FIDO_ERR_UNSUPPORTED_OPTION: { failure: 'unsupported', say: 'the FIDO2 security key does not support an option bioseal needs (user verification?)' },
  FIDO_ERR_INVALID_OPTION: { failure: 'unsupported', say: 'the FIDO2 security key does not support an option bioseal needs (user verification?)' },
  FIDO_ERR_UNSUPPORTED_EXTENSION: { failure: 'unsupported', say: 'the FIDO2 security key does not support the hmac-secret extension' },
  FIDO_ERR_UNSUPPORTED_ALGORITHM: { failure: 'unsupported', say: 'the FIDO2 security key does not support ES256 credentials' },
  FIDO_ERR_KEY_STORE_FULL: { failure: 'unsupported', say: 'the FIDO2 security key has no room for another credential' },
};

/** The last line the tool printed on stderr, for the message. */
function lastLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines.at(-1) ?? '').slice(0, 300);
}

/**
 * The DeviceError for a tool run that exited non-zero.
 * @param device the device path, or undefined for `fido2-token -L`.
 */
export function toolFailure(tool: string, result: ToolResult, device?: string): Fido2DeviceError {
  const detail = lastLine(result.stderr);
  const name = /\bFIDO_ERR_[A-Z0-9_]+/.exec(result.stderr)?.[0];
  const on = device ? ` (${device})` : '';
  if (result.pinMissing) {
    return new Fido2DeviceError('refused', `the FIDO2 security key${on} asks for its PIN and none was given: use --pin-file F or BIOSEAL_PIN, or run on a terminal`, name);
  }
  if (/fido_dev_open/.test(result.stderr)) {
    return new Fido2DeviceError('unavailable', `cannot open the FIDO2 security key${on}: unplugged, or no permission to use it (${detail})`, name);
  }
  if (/invalid PIN length/.test(result.stderr)) {
    return new Fido2DeviceError('refused', 'the PIN of a FIDO2 security key has 4 to 63 characters', name);
  }
  const known = name ? KNOWN[name] : undefined;
  if (known) return new Fido2DeviceError(known.failure, `${known.say}${on} [${name}]`, name);
  return new Fido2DeviceError('unavailable', `${tool} failed${on}: ${detail || `exit status ${result.exitCode}`}`, name);
}
