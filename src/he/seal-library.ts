/**
 * Loads Microsoft SEAL, compiled to WebAssembly by node-seal (pinned at
 * 6.0.3: version 7 does not load on Node 20). The WebAssembly is inlined in
 * the package's JavaScript, so loading reads no file and fetches nothing.
 *
 * The "throws" build is used: SEAL's C++ exceptions arrive as JavaScript
 * errors. Input that SEAL would read out of bounds (truncated or inconsistent
 * serialisations) aborts the module instead, so nothing untrusted reaches SEAL
 * before `seal-format.ts` has checked its whole structure.
 */
import { createRequire } from 'node:module';
import type { SEALLibrary } from 'node-seal/implementation/seal.js';

export type { SEALLibrary };
export type { CipherText } from 'node-seal/implementation/cipher-text.js';
export type { PlainText } from 'node-seal/implementation/plain-text.js';
export type { Context } from 'node-seal/implementation/context.js';
export type { CKKSEncoder } from 'node-seal/implementation/ckks-encoder.js';
export type { Evaluator } from 'node-seal/implementation/evaluator.js';
export type { PublicKey } from 'node-seal/implementation/public-key.js';
export type { SecretKey } from 'node-seal/implementation/secret-key.js';
export type { RelinKeys } from 'node-seal/implementation/relin-keys.js';
export type { GaloisKeys } from 'node-seal/implementation/galois-keys.js';

let loading: Promise<SEALLibrary> | undefined;

/** The SEAL library, loaded once per process (about 100 ms the first time). */
export function loadSeal(): Promise<SEALLibrary> {
  loading ??= (async () => {
    const require = createRequire(import.meta.url);
    const factory = require('node-seal') as () => Promise<SEALLibrary>;
    return factory();
  })();
  return loading;
}
