/**
 * The factors bioseal knows, and the glue between them and the container:
 * turning a policy branch into slot material when sealing, and slot factors
 * back into secrets when unlocking (a SlotSecretProvider).
 */
import type { SlotFactor } from '../container/format.js';
import type { SlotMaterial } from '../container/seal.js';
import type { SlotSecretProvider } from '../container/open.js';
import type { PolicyBranch } from '../policy/expression.js';
import { BiosealError, DeviceError, PolicyError } from '../errors.js';
import { wipe } from '../util/bytes.js';
import type { Factor } from './factor.js';
import type { UnlockInputs } from './inputs.js';
import { keyfileFactor } from './keyfile.js';
import { recoveryFactor } from './recovery.js';
import { recipientFactor, recipientShare } from './recipient.js';
import { faceFactor } from './face.js';
import { passkeyFactor } from './passkey.js';
import { tpmFactor } from './tpm.js';
import { pkcs11Factor } from './pkcs11.js';
import { fido2Factor } from './fido2.js';

const FACTORS = new Map<string, Factor>([keyfileFactor, recoveryFactor, recipientFactor, faceFactor, tpmFactor, pkcs11Factor, passkeyFactor, fido2Factor].map((f) => [f.name, f]));

/** Every registered factor, by name. */
export function listFactors(): readonly Factor[] {
  return [...FACTORS.values()];
}

/** The factor of that name, or undefined. */
export function findFactor(name: string): Factor | undefined {
  return FACTORS.get(name);
}

/**
 * Checks that every factor in the branches exists and that no branch relies
 * only on factors too weak to stand alone.
 * @throws PolicyError naming the problem.
 */
export function checkPolicyBranches(branches: readonly PolicyBranch[], options: { allowWeakBranch?: boolean } = {}): void {
  for (const branch of branches) {
    for (const name of branch) {
      if (name === 'recipient') throw new PolicyError('policy: recipients are added with --recipient bioseal1..., not named in a policy');
      if (!FACTORS.has(name)) {
        const known = [...FACTORS.keys()].filter((n) => n !== 'recipient').join(', ');
        throw new PolicyError(`policy: unknown factor "${name}" (known factors: ${known})`);
      }
    }
    if (!options.allowWeakBranch && branch.every((n) => !FACTORS.get(n)!.standalone)) {
      throw new PolicyError(`policy: the branch "${branch.join(' & ')}" relies only on factors that must be paired with another (NIST SP 800-63B); add a device factor or force it`);
    }
  }
}

/** Builds the slot material for one policy branch from the user's inputs. */
export async function slotMaterialForBranch(branch: PolicyBranch, inputs: UnlockInputs): Promise<SlotMaterial> {
  const factors: SlotFactor[] = [];
  const secrets: Uint8Array[] = [];
  try {
    for (const name of branch) {
      const factor = FACTORS.get(name);
      if (!factor) throw new PolicyError(`policy: unknown factor "${name}"`);
      const share = await factor.createShare(inputs);
      factors.push({ name, params: share.params });
      secrets.push(share.secret);
    }
    return { factors, secrets };
  } catch (error) {
    wipe(...secrets);
    throw error;
  }
}

/** Builds the slot material for a recipient public key. */
export function slotMaterialForRecipient(publicKey: Uint8Array): SlotMaterial {
  const share = recipientShare(publicKey);
  return { factors: [{ name: recipientFactor.name, params: share.params }], secrets: [share.secret] };
}

/** Wipes the secrets of slot material once the slots are made. */
export function wipeSlotMaterial(materials: readonly SlotMaterial[]): void {
  for (const m of materials) wipe(...m.secrets);
}

/**
 * A SlotSecretProvider drawing on the user's inputs: a slot is tried when
 * every one of its factors can produce a secret. Unknown factors (from a newer
 * bioseal) make their slot unusable, not the file. A device that cannot be
 * used (DeviceError) makes its slot unusable for now and the next slot is
 * tried; if none opens, the first device error is what the user sees.
 */
export function factorProvider(inputs: UnlockInputs): SlotSecretProvider {
  let firstDeviceError: DeviceError | undefined;
  return {
    failure: () => firstDeviceError,
    cost(factors) {
      return factors.reduce((sum, f) => sum + (FACTORS.get(f.name)?.cost ?? 1e6), 0);
    },
    async secretsFor(factors) {
      const secrets: Uint8Array[] = [];
      for (const f of factors) {
        const factor = FACTORS.get(f.name);
        let secret: Uint8Array | undefined;
        try {
          secret = factor ? await factor.deriveSecret(f.params, inputs) : undefined;
        } catch (error) {
          wipe(...secrets);
          if (error instanceof DeviceError) {
            firstDeviceError ??= error;
            return undefined;
          }
          // Malformed parameters make this slot unusable; errors the user must act on propagate.
          if (error instanceof BiosealError && error.code !== 'E_FORMAT') throw error;
          return undefined;
        }
        if (!secret) {
          wipe(...secrets);
          return undefined;
        }
        secrets.push(secret);
      }
      return secrets;
    },
  };
}
