/**
 * What a browser's WebAuthn error means for bioseal. Browsers deliberately
 * answer a cancel, a browser-side timeout, an absent authenticator and a
 * failed user verification with the same NotAllowedError (WebAuthn's privacy
 * rules), so that one outcome says all of them.
 */
import { DeviceError } from '../errors.js';
import type { BrowserError } from './response-json.js';

/** Names the ceremony page itself reports (not DOMExceptions). */
export const PAGE_CANCELLED = 'BiosealCancelled';
export const PAGE_NO_WEBAUTHN = 'BiosealNoWebAuthn';

export function deviceErrorForBrowser(e: BrowserError): DeviceError {
  const detail = e.message ? ` (${e.name}: ${e.message})` : ` (${e.name})`;
  switch (e.name) {
    case PAGE_CANCELLED:
      return new DeviceError('cancelled', 'the passkey request was cancelled on the page');
    case 'NotAllowedError':
    case 'AbortError':
      return new DeviceError(
        'cancelled',
        'the browser ended the passkey request: it was cancelled, timed out in the browser, no passkey answered, or user verification failed (browsers do not say which)',
      );
    case PAGE_NO_WEBAUTHN:
      return new DeviceError('unsupported', 'this browser does not support WebAuthn; open the page in a current browser');
    case 'NotSupportedError':
      return new DeviceError('unsupported', `no authenticator here supports what bioseal asks for${detail}`);
    case 'SecurityError':
      return new DeviceError('invalid-response', `the browser refused the page's origin for the relying party localhost${detail}`);
    default:
      return new DeviceError('unavailable', `the browser could not run the passkey request${detail}`);
  }
}
