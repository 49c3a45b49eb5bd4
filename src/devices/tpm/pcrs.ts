/**
 * PCR selections in the sha256 bank: the list a user gives (`--pcrs 0,7`),
 * the tpm2-tools form (`sha256:0,7`) and the 3-byte bitmap a key slot keeps
 * so that `bioseal inspect` can show which PCRs bind a slot (TPM 2.0 Part 2
 * §10.6.1, TPMS_PCR_SELECTION: PCR n is bit n%8 of byte n/8).
 */
import { FormatError, UsageError } from '../../errors.js';

/** The PCR bank bioseal binds to. */
export const PCR_BANK = 'sha256';
/** PCRs 0..23 exist on every PC-client TPM. */
export const PCR_COUNT = 24;
/** Bytes of the PCR bitmap. */
export const PCR_MASK_BYTES = PCR_COUNT / 8;

/**
 * Parses a comma-separated PCR list such as `0,7`.
 * @throws UsageError for anything but distinct decimal PCR numbers 0..23.
 * @example parsePcrList('7,0') // [0, 7]
 */
export function parsePcrList(text: string): number[] {
  if (!/^\d{1,2}(,\d{1,2})*$/.test(text)) {
    throw new UsageError(`--pcrs takes PCR numbers separated by commas, such as 0,7 (got "${text}")`);
  }
  const pcrs = text.split(',').map(Number);
  for (const p of pcrs) {
    if (p >= PCR_COUNT) throw new UsageError(`--pcrs: PCR ${p} does not exist (PCRs are 0..${PCR_COUNT - 1})`);
  }
  if (new Set(pcrs).size !== pcrs.length) throw new UsageError(`--pcrs names a PCR twice ("${text}")`);
  return pcrs.sort((a, b) => a - b);
}

/** The tpm2-tools PCR selection, e.g. `sha256:0,7`. */
export function pcrSelection(pcrs: readonly number[]): string {
  return `${PCR_BANK}:${pcrs.join(',')}`;
}

/** The bitmap of a PCR list. */
export function pcrMask(pcrs: readonly number[]): Uint8Array {
  const mask = new Uint8Array(PCR_MASK_BYTES);
  for (const p of pcrs) mask[p >> 3]! |= 1 << (p & 7);
  return mask;
}

/**
 * The PCR list of a bitmap, ascending.
 * @throws FormatError when the bitmap is not PCR_MASK_BYTES long.
 */
export function pcrsFromMask(mask: Uint8Array): number[] {
  if (mask.length !== PCR_MASK_BYTES) throw new FormatError(`a PCR bitmap must be ${PCR_MASK_BYTES} bytes`);
  const out: number[] = [];
  for (let p = 0; p < PCR_COUNT; p++) if (mask[p >> 3]! & (1 << (p & 7))) out.push(p);
  return out;
}
