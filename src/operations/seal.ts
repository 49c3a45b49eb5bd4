/**
 * `sealModel`: seal a model file under an unlock policy and/or for recipients.
 */
import { sealFile, type SealResult, type SlotMaterial } from '../container/seal.js';
import { parsePolicy, type PolicyBranch } from '../policy/expression.js';
import { checkPolicyBranches, slotMaterialForBranch, slotMaterialForRecipient, wipeSlotMaterial } from '../factors/registry.js';
import { decodeRecipient } from '../factors/recipient.js';
import { readPublisherSecretKey } from '../keys/publisher.js';
import { wipe } from '../util/bytes.js';
import { UsageError } from '../errors.js';
import { inputsFromCredentials, type Credentials } from './credentials.js';

export interface SealModelOptions extends Credentials {
  /** The model: a file path, or its bytes in memory (they never touch disk in the clear). */
  readonly input: string | Uint8Array;
  readonly output: string;
  /** Policy expressions; each `|` branch of each becomes a key slot. */
  readonly policies?: readonly string[];
  /** Recipient strings (`bioseal1...`); each becomes a key slot. */
  readonly recipients?: readonly string[];
  /** Publisher secret key: a path to a key file or the 32 bytes. */
  readonly signingKey?: string | Uint8Array;
  readonly overwrite?: boolean;
  /** Allow a branch made only of factors that should be paired (prints a warning in the CLI). */
  readonly allowWeakPolicy?: boolean;
  /** log2 of the chunk size (12..24). */
  readonly chunkLog2?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

/** The policy branches of a set of expressions, checked. */
export function policyBranches(policies: readonly string[], allowWeakPolicy = false): PolicyBranch[] {
  const branches = policies.flatMap((p) => parsePolicy(p));
  checkPolicyBranches(branches, { allowWeakBranch: allowWeakPolicy });
  return branches;
}

/**
 * Seals a model file.
 *
 * @example
 *   await sealModel({ input: 'model.onnx', output: 'model.bseal',
 *                     policies: ['keyfile | recovery'], keyFiles: ['k.key'], passphrase: 'correct horse' });
 * @throws PolicyError, UsageError, ExistsError, IOError, FormatError
 */
export async function sealModel(options: SealModelOptions): Promise<SealResult> {
  const branches = policyBranches(options.policies ?? [], options.allowWeakPolicy);
  const recipients = (options.recipients ?? []).map(decodeRecipient);
  if (branches.length + recipients.length === 0) throw new UsageError('give at least one --policy or --recipient');
  const inputs = inputsFromCredentials(options);
  const signingKey = typeof options.signingKey === 'string' ? readPublisherSecretKey(options.signingKey) : options.signingKey;
  const slots: SlotMaterial[] = [];
  try {
    for (const branch of branches) slots.push(await slotMaterialForBranch(branch, inputs));
    for (const r of recipients) slots.push(slotMaterialForRecipient(r));
    return await sealFile({
      input: options.input,
      output: options.output,
      slots,
      overwrite: options.overwrite,
      signingKey,
      chunkLog2: options.chunkLog2,
      onProgress: options.onProgress,
    });
  } finally {
    wipeSlotMaterial(slots);
    if (typeof options.signingKey === 'string') wipe(signingKey);
  }
}
