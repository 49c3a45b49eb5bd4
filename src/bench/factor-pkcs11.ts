/**
 * What the pkcs11 factor adds to an unlock once the PIN is in hand: log in,
 * find the key, have the token decrypt the wrapped secret (AES-256-GCM), log
 * out. Measured against a SoftHSM2 token the benchmark makes in a temporary
 * folder (and deletes), with the module already loaded and a session open, as
 * a long-lived unlock service would keep them. The unwrap alone (C_Decrypt
 * in a logged-in session) is logged as well, and so is a cold unlock that
 * also loads and initializes the module.
 *
 * The figure is SoftHSM2's, a software token; a real HSM or smart card adds
 * its own latency (a USB smart card: tens of milliseconds).
 */
import { randomBytes } from 'node:crypto';
import { findKeys, createKey } from '../devices/pkcs11/key.js';
import { createSoftHsmStore, softHsmProblem, SOFTHSM_MODULE } from '../devices/pkcs11/softhsm.js';
import { findTokenSlot, loadModule, login, logout, openSession, closeSession, withTokenSession } from '../devices/pkcs11/token.js';
import { unwrapSecret, wrapAad, wrapSecret } from '../devices/pkcs11/wrap.js';
import { wipe } from '../util/bytes.js';
import { median } from './common.js';
import type { FactorBench } from './factor-common.js';

const WHAT = 'PKCS#11 (SoftHSM2), once the token accepted the PIN: find key + AES-GCM unwrap on the token + logout, module loaded and session open';
const TOKEN = 'bioseal-bench';
const KEY = 'bioseal:bench';

function timeMs(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

export async function benchPkcs11Factor(options: { runs: number; log: (line: string) => void }): Promise<FactorBench> {
  const runs = Math.max(1, options.runs);
  const problem = softHsmProblem();
  if (problem) return { factor: 'pkcs11', available: false, reason: problem, medianMs: null, runs: 0, what: WHAT };
  const store = createSoftHsmStore('bioseal-bench-softhsm-');
  // SoftHSM2 reads SOFTHSM2_CONF when the module is initialized.
  const previousConf = process.env.SOFTHSM2_CONF;
  process.env.SOFTHSM2_CONF = store.conf;
  const pinText = randomBytes(8).toString('hex');
  const pin = new TextEncoder().encode(pinText);
  const aad = wrapAad(new Uint8Array(randomBytes(16)));
  const secret = new Uint8Array(randomBytes(32));
  const target = { module: SOFTHSM_MODULE, tokenLabel: TOKEN };
  try {
    store.initToken(TOKEN, pinText, randomBytes(8).toString('hex'));
    const { key, iv, wrapped } = withTokenSession({ ...target, pin, readWrite: true }, (s) => {
      const created = createKey(s, KEY);
      return { key: { label: KEY, id: created.id }, ...wrapSecret(s, created.handle, secret, aad) };
    });

    const m = loadModule(SOFTHSM_MODULE);
    const unlockMs: number[] = [];
    const loginMs: number[] = [];
    const unwrapMs: number[] = [];
    try {
      const { slot, token } = findTokenSlot(m, target);
      const session = openSession(m, slot, token, false);
      try {
        const s = { pk: m.pk, lib: m.lib, slot, session, token };
        for (let i = 0; i < runs; i++) {
          const t0 = performance.now();
          login(m, session, token, pin);
          const t1 = performance.now();
          try {
            wipe(unwrapSecret(s, findKeys(s, key, 1)[0]!, iv, wrapped, aad));
          } finally {
            logout(m, session);
          }
          const t2 = performance.now();
          loginMs.push(t1 - t0);
          unlockMs.push(t2 - t0);
        }
        login(m, session, token, pin);
        try {
          const handle = findKeys(s, key, 1)[0]!;
          for (let i = 0; i < runs; i++) unwrapMs.push(timeMs(() => wipe(unwrapSecret(s, handle, iv, wrapped, aad))));
        } finally {
          logout(m, session);
        }
      } finally {
        closeSession(m, session);
      }
    } finally {
      m.release();
    }
    const coldMs: number[] = [];
    for (let i = 0; i < Math.min(runs, 10); i++) {
      coldMs.push(timeMs(() => wipe(withTokenSession({ ...target, pin }, (s) => unwrapSecret(s, findKeys(s, key, 1)[0]!, iv, wrapped, aad)))));
    }
    const afterLogin = median(unlockMs.map((t, i) => t - loginMs[i]!));
    const parts = { tokenPinCheck: median(loginMs), loginToSecret: median(unlockMs), unwrapAlone: median(unwrapMs), coldWithModuleLoad: median(coldMs) };
    options.log(`pkcs11: ${afterLogin.toFixed(3)} ms after the PIN check (median of ${runs}); the token's PIN check (C_Login) ${parts.tokenPinCheck.toFixed(3)} ms; unwrap alone ${parts.unwrapAlone.toFixed(3)} ms; cold, loading the module ${parts.coldWithModuleLoad.toFixed(3)} ms`);
    return { factor: 'pkcs11', available: true, medianMs: afterLogin, runs, what: WHAT, parts };
  } catch (error) {
    return { factor: 'pkcs11', available: false, reason: `SoftHSM2 failed: ${(error as Error).message}`, medianMs: null, runs: 0, what: WHAT };
  } finally {
    wipe(secret, pin);
    if (previousConf === undefined) delete process.env.SOFTHSM2_CONF;
    else process.env.SOFTHSM2_CONF = previousConf;
    store.cleanup();
  }
}
