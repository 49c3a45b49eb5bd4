/**
 * The pkcs11js binding (a native addon over the PKCS#11 C API), loaded on
 * first use so that commands which never touch a token do not load it.
 */
import { createRequire } from 'node:module';
import { DeviceError } from '../../errors.js';

export type Pkcs11Binding = typeof import('pkcs11js');
export type Pkcs11 = import('pkcs11js').PKCS11;
/** Object attributes, for templates. */
export type Template = import('pkcs11js').Template;
/** A slot, session or object handle. */
export type Handle = Buffer;

let binding: Pkcs11Binding | undefined;

/**
 * The pkcs11js module.
 * @throws DeviceError ('unavailable') when the addon cannot be loaded.
 */
export function pkcs11Binding(): Pkcs11Binding {
  if (!binding) {
    try {
      binding = createRequire(import.meta.url)('pkcs11js') as Pkcs11Binding;
    } catch (error) {
      throw new DeviceError('unavailable', `the PKCS#11 support (pkcs11js) cannot be loaded: ${(error as Error).message}`, { cause: error });
    }
  }
  return binding;
}
