/**
 * Reaching a token: load the PKCS#11 module, find the slot whose token has the
 * enrolled label (and serial), open a session and log in as the user. Every
 * step is undone in reverse order, also on error: logout, close the session,
 * finalize and unload the module.
 *
 * Labels and serial numbers come blank-padded from the token; they are
 * compared without the padding.
 */
import { DeviceError } from '../../errors.js';
import { pkcs11Binding, type Handle, type Pkcs11, type Pkcs11Binding } from './binding.js';
import { pkcs11Failure, returnValueName } from './errors.js';

/** The identity of a token, as its module reports it. */
export interface TokenIdentity {
  readonly label: string;
  readonly serial: string;
}

/** A loaded, initialized module. */
export interface LoadedModule {
  readonly pk: Pkcs11Binding;
  readonly lib: Pkcs11;
  /** Finalizes (when this load initialized it) and unloads the module; never throws. */
  release(): void;
}

/** A logged-in user session on one token. */
export interface TokenSession {
  readonly pk: Pkcs11Binding;
  readonly lib: Pkcs11;
  readonly slot: Handle;
  readonly session: Handle;
  readonly token: TokenIdentity;
}

export interface TokenTarget {
  /** Path of the PKCS#11 module (shared library). */
  readonly module: string;
  readonly tokenLabel: string;
  /** When set, the token must have this serial number. */
  readonly tokenSerial?: string;
}

export interface SessionOptions extends TokenTarget {
  /** The user PIN, UTF-8. Not kept. */
  readonly pin: Uint8Array;
  /** Open a read/write session (to create keys). */
  readonly readWrite?: boolean;
  /** Called once the token is found, just before the PIN is tried (to count the attempt). */
  readonly beforeLogin?: () => void;
}

/**
 * Loads and initializes a module.
 * @throws DeviceError ('unavailable') when it cannot be loaded or initialized.
 */
export function loadModule(modulePath: string): LoadedModule {
  const pk = pkcs11Binding();
  const lib = new pk.PKCS11();
  try {
    lib.load(modulePath);
  } catch (error) {
    throw new DeviceError('unavailable', `cannot load the PKCS#11 module ${modulePath}: ${(error as Error).message}`, { cause: error });
  }
  // Another user of the same library in this process may have initialized it; then it is theirs to finalize.
  let initialized = false;
  try {
    lib.C_Initialize();
    initialized = true;
  } catch (error) {
    if (returnValueName(error) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
      quietly(() => lib.close());
      throw new DeviceError('unavailable', `the PKCS#11 module ${modulePath} failed to initialize: ${(error as Error).message}`, { cause: error });
    }
  }
  return {
    pk,
    lib,
    release() {
      if (initialized) quietly(() => lib.C_Finalize());
      quietly(() => lib.close());
    },
  };
}

function trimPadding(text: string): string {
  return text.replace(/[ \0]+$/, '');
}

/**
 * The slot holding the token with this label (and serial, when given).
 * @throws DeviceError ('unavailable') when no such token is present.
 */
export function findTokenSlot(m: LoadedModule, target: TokenTarget): { slot: Handle; token: TokenIdentity } {
  let slots: Handle[];
  try {
    slots = m.lib.C_GetSlotList(true);
  } catch (error) {
    throw pkcs11Failure(error, target.tokenLabel, 'listing its slots', 'unavailable');
  }
  const labelled: { slot: Handle; token: TokenIdentity }[] = [];
  for (const slot of slots) {
    let token: TokenIdentity;
    try {
      const info = m.lib.C_GetTokenInfo(slot);
      token = { label: trimPadding(info.label), serial: trimPadding(info.serialNumber) };
    } catch {
      continue; // removed between the listing and now
    }
    if (token.label === target.tokenLabel) labelled.push({ slot, token });
  }
  if (labelled.length === 0) {
    throw new DeviceError('unavailable', `no PKCS#11 token labelled "${target.tokenLabel}" is present (module ${target.module})`);
  }
  if (target.tokenSerial === undefined) {
    if (labelled.length > 1) throw new DeviceError('unavailable', `${labelled.length} PKCS#11 tokens are labelled "${target.tokenLabel}"; remove all but one`);
    return labelled[0]!;
  }
  const match = labelled.find((l) => l.token.serial === target.tokenSerial);
  if (!match) {
    throw new DeviceError(
      'unavailable',
      `the PKCS#11 token labelled "${target.tokenLabel}" has serial ${labelled.map((l) => l.token.serial).join(', ')}, not ${target.tokenSerial} as enrolled: it is another token, or was re-initialized`,
    );
  }
  return match;
}

/** Opens a session on the slot. */
export function openSession(m: LoadedModule, slot: Handle, token: TokenIdentity, readWrite: boolean): Handle {
  try {
    return m.lib.C_OpenSession(slot, m.pk.CKF_SERIAL_SESSION | (readWrite ? m.pk.CKF_RW_SESSION : 0));
  } catch (error) {
    throw pkcs11Failure(error, token.label, 'opening a session', 'unavailable');
  }
}

/**
 * Logs the user in with the PIN.
 * @throws DeviceError ('refused') for a wrong or locked PIN.
 */
export function login(m: LoadedModule, session: Handle, token: TokenIdentity, pin: Uint8Array): void {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(pin);
  } catch {
    throw new DeviceError('refused', `the PIN for the PKCS#11 token "${token.label}" is not valid UTF-8`);
  }
  try {
    // pkcs11js takes the PIN as a string only.
    m.lib.C_Login(session, m.pk.CKU_USER, text);
  } catch (error) {
    throw pkcs11Failure(error, token.label, 'logging in', 'refused');
  }
}

/** Logs out; never throws (the session is closed next anyway). */
export function logout(m: LoadedModule, session: Handle): void {
  quietly(() => m.lib.C_Logout(session));
}

/** Closes a session; never throws. */
export function closeSession(m: LoadedModule, session: Handle): void {
  quietly(() => m.lib.C_CloseSession(session));
}

/**
 * Runs `use` in a logged-in session on the target token, then logs out,
 * closes the session and unloads the module, whatever happened.
 */
export function withTokenSession<T>(o: SessionOptions, use: (s: TokenSession) => T): T {
  const m = loadModule(o.module);
  try {
    const { slot, token } = findTokenSlot(m, o);
    const session = openSession(m, slot, token, o.readWrite ?? false);
    try {
      o.beforeLogin?.();
      login(m, session, token, o.pin);
      try {
        return use({ pk: m.pk, lib: m.lib, slot, session, token });
      } finally {
        logout(m, session);
      }
    } finally {
      closeSession(m, session);
    }
  } finally {
    m.release();
  }
}

function quietly(step: () => void): void {
  try {
    step();
  } catch {
    // clean-up after the result or error that matters
  }
}
