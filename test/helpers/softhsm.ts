/**
 * A real SoftHSM2 token store for tests (src/devices/pkcs11/softhsm.ts makes
 * it: a temporary folder with its own softhsm2.conf and token directory),
 * plus what tests do to tokens behind bioseal's back: read a key's
 * attributes with pkcs11js directly, delete a key with OpenSC's pkcs11-tool,
 * delete the whole token with softhsm2-util. A missing softhsm2 or opensc
 * fails the test with a message naming the package: never skipped.
 *
 * `useSoftHsm` also points this process at the store (SOFTHSM2_CONF), for
 * in-process tests; CLI children get `store.env`.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { createSoftHsmStore, softHsmProblem, SOFTHSM_MODULE, type SoftHsmStore } from '../../src/devices/pkcs11/softhsm.js';

export { SOFTHSM_MODULE };

export interface TestSoftHsm extends SoftHsmStore {
  /** Deletes a secret key by label with OpenSC's pkcs11-tool. */
  deleteKey(tokenLabel: string, pin: string, keyLabel: string): void;
  /** Generates an AES-128 key with pkcs11-tool (a key bioseal must not accept). */
  aes128Key(tokenLabel: string, pin: string, keyLabel: string): void;
  /** The attributes of a secret key, read with pkcs11js (not bioseal's code); undefined when there is none. */
  keyAttributes(tokenLabel: string, pin: string, keyLabel: string): KeyAttributes | undefined;
  /** Removes the store and restores SOFTHSM2_CONF. */
  dispose(): void;
}

export interface KeyAttributes {
  readonly sensitive: boolean;
  readonly extractable: boolean;
  readonly neverExtractable: boolean;
  readonly private: boolean;
  readonly token: boolean;
  readonly valueLength: number;
  readonly id: Buffer;
  /** What asking for CKA_VALUE gave: the CKR_ name of the refusal, or 'returned' when the key came out. */
  readonly valueRead: string;
}

/** Fails, naming the package, when a tool the PKCS#11 tests need is missing. */
export function assertSoftHsmInstalled(): void {
  const problem = softHsmProblem();
  assert.ok(!problem, `${problem} (scripts/setup-system.sh installs it)`);
  const r = spawnSync('pkcs11-tool', ['--help'], { stdio: 'ignore' });
  assert.ok(!r.error, 'pkcs11-tool is not installed: install the opensc package (scripts/setup-system.sh does)');
}

type Binding = typeof import('pkcs11js');

/** Runs `use` in a logged-in session on the token, with pkcs11js directly. */
function withSession<T>(tokenLabel: string, pin: string, use: (pk: Binding, lib: import('pkcs11js').PKCS11, session: Buffer) => T): T {
  const pk = createRequire(import.meta.url)('pkcs11js') as Binding;
  const lib = new pk.PKCS11();
  lib.load(SOFTHSM_MODULE);
  lib.C_Initialize();
  try {
    const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trimEnd() === tokenLabel);
    assert.ok(slot, `no token "${tokenLabel}"`);
    const session = lib.C_OpenSession(slot, pk.CKF_SERIAL_SESSION);
    try {
      lib.C_Login(session, pk.CKU_USER, pin);
      try {
        return use(pk, lib, session);
      } finally {
        lib.C_Logout(session);
      }
    } finally {
      lib.C_CloseSession(session);
    }
  } finally {
    lib.C_Finalize();
    lib.close();
  }
}

/** Creates a store and points this process at it. Call dispose() in `after`. */
export function useSoftHsm(): TestSoftHsm {
  assertSoftHsmInstalled();
  const store = createSoftHsmStore('bioseal-test-softhsm-');
  const previous = process.env.SOFTHSM2_CONF;
  process.env.SOFTHSM2_CONF = store.conf;
  const tool = (tokenLabel: string, pin: string, args: string[]) =>
    execFileSync('pkcs11-tool', ['--module', SOFTHSM_MODULE, '--token-label', tokenLabel, '--login', '--pin', pin, ...args], {
      env: { ...process.env, ...store.env },
      stdio: 'pipe',
    });
  return {
    ...store,
    deleteKey(tokenLabel, pin, keyLabel) {
      tool(tokenLabel, pin, ['--delete-object', '--type', 'secrkey', '--label', keyLabel]);
    },
    aes128Key(tokenLabel, pin, keyLabel) {
      tool(tokenLabel, pin, ['--keygen', '--key-type', 'AES:16', '--label', keyLabel]);
    },
    keyAttributes(tokenLabel, pin, keyLabel) {
      return withSession(tokenLabel, pin, (pk, lib, session) => {
        lib.C_FindObjectsInit(session, [
          { type: pk.CKA_CLASS, value: pk.CKO_SECRET_KEY },
          { type: pk.CKA_LABEL, value: keyLabel },
        ]);
        const [key] = lib.C_FindObjects(session, 2);
        lib.C_FindObjectsFinal(session);
        if (!key) return undefined;
        const a = lib.C_GetAttributeValue(session, key, [
          { type: pk.CKA_SENSITIVE },
          { type: pk.CKA_EXTRACTABLE },
          { type: pk.CKA_NEVER_EXTRACTABLE },
          { type: pk.CKA_PRIVATE },
          { type: pk.CKA_TOKEN },
          { type: pk.CKA_VALUE_LEN },
          { type: pk.CKA_ID },
        ]);
        let valueRead = 'returned';
        try {
          lib.C_GetAttributeValue(session, key, [{ type: pk.CKA_VALUE }]);
        } catch (error) {
          valueRead = (error as Error).message;
        }
        return {
          sensitive: a[0]!.value[0] === 1,
          extractable: a[1]!.value[0] === 1,
          neverExtractable: a[2]!.value[0] === 1,
          private: a[3]!.value[0] === 1,
          token: a[4]!.value[0] === 1,
          valueLength: a[5]!.value.readUInt32LE(0),
          id: a[6]!.value,
          valueRead,
        };
      });
    },
    dispose() {
      if (previous === undefined) delete process.env.SOFTHSM2_CONF;
      else process.env.SOFTHSM2_CONF = previous;
      store.cleanup();
    },
  };
}
