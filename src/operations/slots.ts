/**
 * Slot changes on a sealed model: add policy branches or recipients, remove
 * slots by index. The payload is never re-encrypted.
 */
import { changeSlots, type ChangeSlotsResult } from '../container/slots.js';
import type { SlotMaterial } from '../container/seal.js';
import { factorProvider, slotMaterialForBranch, slotMaterialForRecipient, wipeSlotMaterial } from '../factors/registry.js';
import { decodeRecipient } from '../factors/recipient.js';
import { inputsFromCredentials, type Credentials } from './credentials.js';
import { policyBranches } from './seal.js';
import type { UnlockInputs } from '../factors/inputs.js';

export interface AddSlotsOptions {
  /** Credentials that open an existing slot. */
  readonly unlock: Credentials;
  /** Credentials for the new slots' factors (default: the unlock credentials). */
  readonly enroll?: Credentials;
  readonly policies?: readonly string[];
  readonly recipients?: readonly string[];
  readonly allowWeakPolicy?: boolean;
}

/**
 * Adds key slots to a sealed file.
 * @throws AuthError, PolicyError, UsageError, IOError
 */
export async function addSlots(file: string, options: AddSlotsOptions): Promise<ChangeSlotsResult> {
  const branches = policyBranches(options.policies ?? [], options.allowWeakPolicy);
  const recipients = (options.recipients ?? []).map(decodeRecipient);
  const unlockInputs = inputsFromCredentials(options.unlock);
  const enrollInputs: UnlockInputs = options.enroll ? inputsFromCredentials(options.enroll) : unlockInputs;
  const add: SlotMaterial[] = [];
  try {
    for (const b of branches) add.push(await slotMaterialForBranch(b, enrollInputs));
    for (const r of recipients) add.push(slotMaterialForRecipient(r));
    return await changeSlots(file, { provider: factorProvider(unlockInputs), add });
  } finally {
    wipeSlotMaterial(add);
  }
}

/**
 * Removes key slots by index; refuses to remove the last one.
 * @throws AuthError, UsageError, IOError
 */
export function removeSlots(file: string, indices: readonly number[], unlock: Credentials): Promise<ChangeSlotsResult> {
  return changeSlots(file, { provider: factorProvider(inputsFromCredentials(unlock)), remove: indices });
}
