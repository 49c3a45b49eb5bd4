/**
 * The one CKKS parameter set bioseal uses for encrypted template matching,
 * and `HeContext`, the SEAL objects built from it that every other part of
 * `src/he/` shares.
 *
 * N = 8192 (4096 slots); coefficient modulus q0 · q1 · P with 50, 40 and 50
 * bits (140 bits in all); scale 2^40. A fresh ciphertext lives at (q0, q1);
 * one multiplication takes the scale to 2^80, the rescale divides by q1 and
 * leaves the result at q0 alone with a scale of about 2^40, 10 bits of
 * headroom for the score. P is the special prime that key switching
 * (relinearisation, rotations) uses.
 *
 * Security: the HomomorphicEncryption.org standard (Albrecht et al., "Homomorphic
 * Encryption Standard", 2018, Table 1, ternary secrets), which SEAL enforces,
 * allows at most 218 bits of modulus at N = 8192 for 128-bit security, 152
 * for 192-bit and 118 for 256-bit. 140 bits gives the 192-bit level, and SEAL
 * is asked to enforce it (`SecurityLevel.tc192`), so a change that weakened
 * the set would fail to load rather than run.
 */
import { FormatError } from '../errors.js';
import { loadSeal, type CKKSEncoder, type Context, type Evaluator, type SEALLibrary } from './seal-library.js';

/** What defines a parameter set; a serialised object names it by its SEAL fingerprint. */
export interface HeParameters {
  /** A readable name, for reports. */
  readonly name: string;
  readonly scheme: 'ckks';
  readonly polyModulusDegree: number;
  /** Bit sizes of q0, q1 and the special prime P, in SEAL's order. */
  readonly coeffModulusBits: readonly number[];
  /** log2 of the encoding scale. */
  readonly scaleBits: number;
  /** Classical security in bits, per the HE standard table SEAL enforces. */
  readonly securityBits: 128 | 192 | 256;
}

/** The parameter set: see the file comment for why these numbers. */
export const HE_PARAMETERS: HeParameters = Object.freeze({
  name: 'ckks-n8192-q50.40.50-s40',
  scheme: 'ckks',
  polyModulusDegree: 8192,
  coeffModulusBits: Object.freeze([50, 40, 50]),
  scaleBits: 40,
  securityBits: 192,
});

/** One level of the modulus chain, as a serialised object states it. */
export interface HeLevel {
  /** SEAL's parms_id: 32 bytes, a hash of the parameters at this level. */
  readonly parmsId: Uint8Array;
  /** The primes of this level, in SEAL's order. */
  readonly moduli: readonly bigint[];
}

/**
 * SEAL's context, encoder and evaluator for `HE_PARAMETERS`, built once and
 * shared by key holders, services and parsers in a process. Call `dispose()`
 * when done: SEAL's objects live in WebAssembly memory, not the JS heap.
 */
export class HeContext {
  readonly parameters: HeParameters;
  readonly seal: SEALLibrary;
  readonly context: Context;
  readonly encoder: CKKSEncoder;
  readonly evaluator: Evaluator;
  /** Slots per ciphertext: N/2. */
  readonly slotCount: number;
  /** Encoding scale of fresh ciphertexts, 2^40. */
  readonly scale: number;
  /** Scale after one multiplication and rescale: scale^2 / q1, exactly as SEAL computes it. */
  readonly resultScale: number;
  /** The level of keys (all primes). */
  readonly keyLevel: HeLevel;
  /** The level of fresh ciphertexts (q0, q1). */
  readonly freshLevel: HeLevel;
  /** The level of results after the rescale (q0). */
  readonly resultLevel: HeLevel;
  /** Names the parameter set in every serialised object: the key level's parms_id. */
  readonly fingerprint: Uint8Array;
  private disposed = false;

  private constructor(seal: SEALLibrary, parameters: HeParameters) {
    this.seal = seal;
    this.parameters = parameters;
    const security = { 128: seal.SecurityLevel.tc128, 192: seal.SecurityLevel.tc192, 256: seal.SecurityLevel.tc256 }[parameters.securityBits];
    const parms = seal.EncryptionParameters(seal.SchemeType.ckks);
    try {
      parms.setPolyModulusDegree(parameters.polyModulusDegree);
      const moduli = seal.CoeffModulus.Create(parameters.polyModulusDegree, Int32Array.from(parameters.coeffModulusBits));
      parms.setCoeffModulus(moduli);
      moduli.delete();
      this.context = seal.Context(parms, true, security);
    } catch (error) {
      throw new FormatError(`CKKS parameters ${parameters.name} are not usable`, { cause: error });
    } finally {
      parms.delete();
    }
    if (!this.context.parametersSet()) {
      this.context.delete();
      throw new FormatError(`CKKS parameters ${parameters.name} are not valid at the ${parameters.securityBits}-bit level`);
    }
    this.encoder = seal.CKKSEncoder(this.context);
    this.evaluator = seal.Evaluator(this.context);
    this.slotCount = this.encoder.slotCount;
    this.scale = 2 ** parameters.scaleBits;
    this.keyLevel = readLevel(this.context.keyContextData);
    this.freshLevel = readLevel(this.context.firstContextData);
    this.resultLevel = readLevel(this.context.lastContextData);
    const dropped = this.freshLevel.moduli[this.freshLevel.moduli.length - 1]!;
    this.resultScale = (this.scale * this.scale) / Number(dropped);
    this.fingerprint = this.keyLevel.parmsId;
  }

  /**
   * Loads SEAL (once per process) and builds the context for `HE_PARAMETERS`
   * (or another set: objects made under one set are refused under any other).
   * @throws FormatError when SEAL finds the set invalid or below its security level.
   */
  static async create(parameters: HeParameters = HE_PARAMETERS): Promise<HeContext> {
    return new HeContext(await loadSeal(), parameters);
  }

  /** Frees SEAL's objects; the context must not be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.evaluator.delete();
    this.encoder.delete();
    this.context.delete();
  }
}

function readLevel(data: { parmsId: { values: BigUint64Array; delete(): void }; parms: { coeffModulus: BigUint64Array; delete(): void }; delete(): void }): HeLevel {
  try {
    const id = data.parmsId;
    const parms = data.parms;
    try {
      const parmsId = new Uint8Array(32);
      const view = new DataView(parmsId.buffer);
      id.values.forEach((v, i) => view.setBigUint64(i * 8, v, true));
      return { parmsId, moduli: Object.freeze([...parms.coeffModulus]) };
    } finally {
      id.delete();
      parms.delete();
    }
  } finally {
    data.delete();
  }
}
