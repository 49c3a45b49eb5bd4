/**
 * Shared helpers for the container tests: temp directories, deterministic
 * payloads, sealing with cheap factors, header region maps and mutations.
 *
 * This module has no side effects at import time other than setting the
 * test environment (cheap Argon2id, a private BIOSEAL_HOME), so it is safe
 * for `node --test dist/test/` to load it as if it were a test file.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { BiosealError } from '../../src/errors.js';
import {
  CHECKSUM_LENGTH,
  FILE_ID_LENGTH,
  FIXED_PREFIX_LENGTH,
  MAC_LENGTH,
  SIGNATURE_BLOCK_LENGTH,
  type Header,
} from '../../src/container/format.js';
import type { SlotMaterial } from '../../src/container/seal.js';
import type { SlotSecretProvider } from '../../src/container/open.js';
import { factorProvider, slotMaterialForBranch } from '../../src/factors/registry.js';
import { passphraseBytes, type UnlockInputs } from '../../src/factors/inputs.js';

process.env.BIOSEAL_ARGON2_MEMORY_KIB = '8192';

const dirs: string[] = [];

/** A fresh temporary directory, removed by `cleanupTempDirs()`. */
export function tempDir(label = 'test'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `bioseal-${label}-`));
  dirs.push(dir);
  return dir;
}

/** Removes every directory made by `tempDir()`. */
export function cleanupTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Points BIOSEAL_HOME at a private temporary directory. */
export function useTempHome(): string {
  const home = tempDir('home');
  process.env.BIOSEAL_HOME = home;
  return home;
}

/** Deterministic, non-repeating-looking bytes (so swapped chunks differ). */
export function patternBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let block = 0;
  for (let i = 0; i < length; i += 32) {
    const h = createHash('sha256').update(`bioseal-pattern/${seed}/${block++}`).digest();
    out.set(h.subarray(0, Math.min(32, length - i)), i);
  }
  return out;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function randomKey(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

/** Slot material for a keyfile-only slot. */
export async function keyfileSlot(key: Uint8Array): Promise<SlotMaterial> {
  return slotMaterialForBranch(['keyfile'], { keyFiles: [key] });
}

/** Slot material for a recovery (Argon2id passphrase) slot. */
export async function recoverySlot(passphrase: string): Promise<SlotMaterial> {
  return slotMaterialForBranch(['recovery'], { passphrase: async () => passphraseBytes(passphrase) });
}

/** A provider over key files and an optional passphrase (no identities). */
export function provider(keyFiles: readonly Uint8Array[], passphrase?: string): SlotSecretProvider {
  const inputs: UnlockInputs = {
    keyFiles,
    passphrase: passphrase === undefined ? undefined : async () => passphraseBytes(passphrase),
  };
  return factorProvider(inputs);
}

/** Asserts that `promise` rejects with a BiosealError whose code is one of `codes`. */
export async function rejectsWithCode(promise: Promise<unknown>, codes: string | readonly string[], what = ''): Promise<BiosealError> {
  const allowed = typeof codes === 'string' ? [codes] : codes;
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, `${what}: expected a rejection with ${allowed.join('|')}, but it succeeded`);
  assert.ok(caught instanceof BiosealError, `${what}: expected a BiosealError, got ${String(caught)}`);
  assert.ok(allowed.includes(caught.code), `${what}: expected ${allowed.join('|')}, got ${caught.code}: ${caught.message}`);
  return caught;
}

/** Asserts that `fn` throws a BiosealError whose code is one of `codes`. */
export function throwsWithCode(fn: () => unknown, codes: string | readonly string[], what = ''): BiosealError {
  const allowed = typeof codes === 'string' ? [codes] : codes;
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, `${what}: expected a throw with ${allowed.join('|')}, but it succeeded`);
  assert.ok(caught instanceof BiosealError, `${what}: expected a BiosealError, got ${String(caught)}`);
  assert.ok(allowed.includes(caught.code), `${what}: expected ${allowed.join('|')}, got ${caught.code}: ${caught.message}`);
  return caught;
}

/** A named byte range of a header or sealed file. */
export interface Region {
  readonly name: string;
  readonly start: number;
  readonly length: number;
}

/** Byte ranges of every field of a parsed header (docs/FORMAT.md §2). */
export function headerRegions(h: Header): Region[] {
  const r: Region[] = [
    { name: 'magic', start: 0, length: 8 },
    { name: 'version', start: 8, length: 1 },
    { name: 'suite', start: 9, length: 1 },
    { name: 'flags', start: 10, length: 1 },
    { name: 'chunkLog2', start: 11, length: 1 },
    { name: 'plaintextLength', start: 12, length: 8 },
    { name: 'fileId', start: 20, length: FILE_ID_LENGTH },
    { name: 'keyCommitment', start: 36, length: 32 },
    { name: 'slotCount', start: 68, length: 1 },
    { name: 'slotAreaLength', start: 69, length: 4 },
  ];
  let at = FIXED_PREFIX_LENGTH;
  h.slots.forEach((slot, i) => {
    const view = new DataView(h.bytes.buffer, h.bytes.byteOffset);
    const len = view.getUint32(at);
    r.push({ name: `slot${i}.length`, start: at, length: 4 });
    const body = at + 4;
    r.push({ name: `slot${i}.factorCount`, start: body, length: 1 });
    let p = body + 1;
    slot.factors.forEach((f, j) => {
      r.push({ name: `slot${i}.factor${j}.nameLength`, start: p, length: 1 });
      r.push({ name: `slot${i}.factor${j}.name`, start: p + 1, length: f.name.length });
      p += 1 + f.name.length;
      r.push({ name: `slot${i}.factor${j}.paramsLength`, start: p, length: 2 });
      if (f.params.length > 0) r.push({ name: `slot${i}.factor${j}.params`, start: p + 2, length: f.params.length });
      p += 2 + f.params.length;
    });
    r.push({ name: `slot${i}.kekSalt`, start: p, length: 32 });
    r.push({ name: `slot${i}.wrappedKey`, start: p + 32, length: 32 });
    r.push({ name: `slot${i}.wrapTag`, start: p + 64, length: 16 });
    assert.equal(p + 80, body + len, 'slot layout');
    at = body + len;
  });
  if (h.signature) {
    r.push({ name: 'signature.publicKey', start: at, length: 32 });
    r.push({ name: 'signature.payloadDigest', start: at + 32, length: 32 });
    r.push({ name: 'signature.signature', start: at + 64, length: 64 });
    at += SIGNATURE_BLOCK_LENGTH;
  }
  r.push({ name: 'mac', start: at, length: MAC_LENGTH });
  r.push({ name: 'checksum', start: at + MAC_LENGTH, length: CHECKSUM_LENGTH });
  assert.equal(at + MAC_LENGTH + CHECKSUM_LENGTH, h.bytes.length, 'header layout');
  return r;
}

/** A copy of `bytes` with bit `bit` of byte `offset` flipped. */
export function flipBit(bytes: Uint8Array, offset: number, bit = 0): Uint8Array {
  const out = bytes.slice();
  out[offset]! ^= 1 << bit;
  return out;
}

/** Recomputes the header checksum (§2.5) in place, as an attacker can (it is unkeyed). */
export function fixChecksum(bytes: Uint8Array, headerLength: number): Uint8Array {
  const sum = createHash('sha256').update(bytes.subarray(0, headerLength - CHECKSUM_LENGTH)).digest();
  bytes.set(sum, headerLength - CHECKSUM_LENGTH);
  return bytes;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** Writes bytes to a fresh file in `dir` and returns its path. */
let counter = 0;
export function writeTemp(dir: string, bytes: Uint8Array, name = 'case'): string {
  const file = path.join(dir, `${name}-${counter++}.bseal`);
  writeFileSync(file, bytes);
  return file;
}
