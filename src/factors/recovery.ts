/**
 * `recovery`: a passphrase stretched with Argon2id (RFC 9106).
 *
 * Parameters (25 bytes, docs/FORMAT.md §6.1): version u8 = 1 | memory KiB
 * u32 | passes u16 | lanes u16 | salt (16). Costs read from a file are capped, so
 * a hostile file cannot make bioseal allocate gigabytes or run for hours.
 */
import { hashRaw, Algorithm } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { ByteReader, ByteWriter } from '../util/bytes.js';
import { FormatError, UsageError } from '../errors.js';
import type { Factor } from './factor.js';
import type { UnlockInputs } from './inputs.js';

/** RFC 9106 §4, second recommended option: 64 MiB, 3 passes; one lane, as the unlock runs on one core. */
export const RECOVERY_DEFAULTS = { memoryKiB: 64 * 1024, passes: 3, lanes: 1 } as const;
export const RECOVERY_LIMITS = { maxMemoryKiB: 1024 * 1024, maxPasses: 32, maxLanes: 8, minMemoryKiB: 8 * 1024 } as const;
const SALT_LENGTH = 16;
const VERSION = 1;

export interface Argon2Params {
  readonly memoryKiB: number;
  readonly passes: number;
  readonly lanes: number;
  readonly salt: Uint8Array;
}

export function encodeRecoveryParams(p: Argon2Params): Uint8Array {
  return new ByteWriter().u8(VERSION).u32(p.memoryKiB).u16(p.passes).u16(p.lanes).bytes(p.salt).finish();
}

/** @throws FormatError for an unknown version, a wrong length, or costs beyond the caps. */
export function decodeRecoveryParams(bytes: Uint8Array): Argon2Params {
  const r = new ByteReader(bytes, 'recovery parameters');
  const version = r.u8();
  if (version !== VERSION) throw new FormatError(`recovery parameters: unknown version ${version}`);
  const memoryKiB = r.u32();
  const passes = r.u16();
  const lanes = r.u16();
  const salt = r.bytes(SALT_LENGTH).slice();
  r.end();
  if (memoryKiB < RECOVERY_LIMITS.minMemoryKiB || memoryKiB > RECOVERY_LIMITS.maxMemoryKiB) {
    throw new FormatError(`recovery parameters: Argon2id memory ${memoryKiB} KiB is outside ${RECOVERY_LIMITS.minMemoryKiB}..${RECOVERY_LIMITS.maxMemoryKiB} KiB`);
  }
  if (passes < 1) throw new FormatError('recovery parameters: Argon2id needs at least one pass');
  if (passes > RECOVERY_LIMITS.maxPasses) throw new FormatError(`recovery parameters: Argon2id work factor ${passes} is too high`);
  if (lanes < 1 || lanes > RECOVERY_LIMITS.maxLanes) throw new FormatError(`recovery parameters: ${lanes} Argon2id lanes is out of range`);
  return { memoryKiB, passes, lanes, salt };
}

/** Argon2id of the passphrase under the given parameters: the factor's 32-byte secret. */
export async function stretchPassphrase(passphrase: Uint8Array, p: Argon2Params): Promise<Uint8Array> {
  const out = await hashRaw(passphrase, {
    algorithm: Algorithm.Argon2id,
    memoryCost: p.memoryKiB,
    timeCost: p.passes,
    parallelism: p.lanes,
    salt: p.salt,
    outputLen: 32,
  });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

function costFromEnv(): Omit<Argon2Params, 'salt'> {
  // BIOSEAL_ARGON2_MEMORY_KIB lets tests and constrained devices choose a
  // cheaper (still capped) cost; it is recorded in the slot either way.
  const env = process.env.BIOSEAL_ARGON2_MEMORY_KIB;
  if (!env) return RECOVERY_DEFAULTS;
  const memoryKiB = Number(env);
  if (!Number.isInteger(memoryKiB) || memoryKiB < RECOVERY_LIMITS.minMemoryKiB || memoryKiB > RECOVERY_LIMITS.maxMemoryKiB) {
    throw new UsageError(`BIOSEAL_ARGON2_MEMORY_KIB must be an integer from ${RECOVERY_LIMITS.minMemoryKiB} to ${RECOVERY_LIMITS.maxMemoryKiB}`);
  }
  return { ...RECOVERY_DEFAULTS, memoryKiB };
}

async function requirePassphrase(inputs: UnlockInputs): Promise<Uint8Array | undefined> {
  const p = await inputs.passphrase?.();
  return p && p.length > 0 ? p : undefined;
}

export const recoveryFactor: Factor = {
  name: 'recovery',
  summary: 'a recovery passphrase, stretched with Argon2id',
  cost: 100,
  standalone: true,
  async createShare(inputs) {
    const passphrase = await requirePassphrase(inputs);
    if (!passphrase) {
      throw new UsageError('the recovery factor needs a passphrase: give --passphrase-file, set BIOSEAL_PASSPHRASE, or run on a terminal');
    }
    const params: Argon2Params = { ...costFromEnv(), salt: new Uint8Array(randomBytes(SALT_LENGTH)) };
    return { params: encodeRecoveryParams(params), secret: await stretchPassphrase(passphrase, params) };
  },
  async deriveSecret(params, inputs) {
    const p = decodeRecoveryParams(params);
    const passphrase = await requirePassphrase(inputs);
    return passphrase ? stretchPassphrase(passphrase, p) : undefined;
  },
  describe(params) {
    const p = decodeRecoveryParams(params);
    return { kdf: 'argon2id', memoryKiB: p.memoryKiB, passes: p.passes, lanes: p.lanes };
  },
};
