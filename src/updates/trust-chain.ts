/**
 * Deciding whether a manifest's signing key is trusted: it is one of the
 * trusted publisher keys, or a chain of rotation statements leads to it from
 * one (trusted A, "B replaces A" signed by A, "C replaces B" signed by B, ...).
 *
 * Rotations the device has accepted before are remembered (state.ts) and are
 * authoritative: a key that was rotated away is retired, may no longer sign
 * manifests, and may not be rotated to any other key (docs/UPDATES.md §3).
 */
import { encodePublisherKey } from '../keys/publisher.js';
import { toHex } from '../util/bytes.js';
import { verifyRotation, type RotationStatement } from './rotation.js';
import { SignatureError } from '../errors.js';

/** The longest rotation chain followed from a trusted key to a signer. */
export const MAX_CHAIN_LENGTH = 8;

export interface TrustDecision {
  /** The trusted key the chain starts from (the signer itself when trusted directly). */
  readonly root: Uint8Array;
  /** The statements from root to signer, in order; empty when trusted directly. */
  readonly chain: readonly RotationStatement[];
}

const short = (key: Uint8Array) => `${encodePublisherKey(key).slice(0, 24)}...`;

/**
 * Finds the trust path to `signer`.
 * @param offered statements shipped with the manifest or given on the command line
 * @param recorded statements accepted by earlier updates (from the installed state)
 * @throws SignatureError when a statement does not verify, contradicts a recorded
 *   rotation, the signer was retired, or no chain of at most MAX_CHAIN_LENGTH links
 *   leads from a trusted key to the signer.
 */
export function resolveSigner(
  signer: Uint8Array,
  trusted: readonly Uint8Array[],
  offered: readonly RotationStatement[],
  recorded: readonly RotationStatement[],
): TrustDecision {
  const successor = new Map<string, RotationStatement>();
  for (const [i, s] of [...recorded, ...offered].entries()) {
    if (!verifyRotation(s)) {
      throw new SignatureError(`the rotation statement from ${short(s.from)} to ${short(s.to)} does not verify: the key chain is broken`);
    }
    const known = successor.get(toHex(s.from));
    if (known && toHex(known.to) !== toHex(s.to)) {
      const where = i < recorded.length ? 'in the installed state' : 'offered';
      throw new SignatureError(
        `conflicting rotations (${where}): ${short(s.from)} was already rotated to ${short(known.to)}, refusing a rotation to ${short(s.to)}`,
      );
    }
    if (!known) successor.set(toHex(s.from), s);
  }
  const retired = successor.get(toHex(signer));
  if (retired) throw new SignatureError(`the signing key ${short(signer)} was retired by a rotation to ${short(retired.to)}; it may no longer sign updates`);

  const trustedHex = new Set(trusted.map(toHex));
  const predecessors = new Map<string, RotationStatement[]>();
  for (const s of successor.values()) {
    const to = toHex(s.to);
    predecessors.set(to, [...(predecessors.get(to) ?? []), s]);
  }
  // Breadth-first from the signer backwards: the shortest chain to a trusted key.
  let frontier: { key: Uint8Array; chain: RotationStatement[] }[] = [{ key: signer, chain: [] }];
  const seen = new Set([toHex(signer)]);
  for (let depth = 0; depth <= MAX_CHAIN_LENGTH && frontier.length > 0; depth++) {
    const next: typeof frontier = [];
    for (const { key, chain } of frontier) {
      if (trustedHex.has(toHex(key))) return { root: key, chain };
      for (const s of predecessors.get(toHex(key)) ?? []) {
        if (seen.has(toHex(s.from))) continue;
        seen.add(toHex(s.from));
        next.push({ key: s.from, chain: [s, ...chain] });
      }
    }
    frontier = next;
  }
  const rotations = offered.length + recorded.length;
  throw new SignatureError(
    `the update is signed by ${short(signer)}, which is not a trusted publisher key` +
      (rotations > 0 ? ` and no chain of rotation statements leads to it from one` : ' (pass --trust PUBKEY, or a --rotation statement from a trusted key)'),
  );
}
