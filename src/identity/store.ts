/**
 * X25519 identities kept under `$BIOSEAL_HOME/identities`. The secret key of
 * identity NAME is itself a sealed file, NAME.bseal, locked under the policy
 * chosen at `keygen` time; NAME.pub holds its recipient string. Opening a
 * recipient slot unlocks the identity through its own factors.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { x25519 } from '@noble/curves/ed25519.js';
import { sealFile } from '../container/seal.js';
import { openSealedFile } from '../container/open.js';
import { homeSubdir } from '../home.js';
import { formatPolicy, type PolicyBranch } from '../policy/expression.js';
import { checkPolicyBranches, factorProvider, slotMaterialForBranch, wipeSlotMaterial } from '../factors/registry.js';
import type { IdentityResolver, UnlockInputs } from '../factors/inputs.js';
import { decodeRecipient, encodeRecipient } from '../factors/recipient.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { constantTimeEqual, wipe } from '../util/bytes.js';
import { ExistsError, FormatError, UsageError } from '../errors.js';
import type { SlotMaterial } from '../container/seal.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface IdentityInfo {
  readonly name: string;
  /** The public recipient string, `bioseal1...`. */
  readonly recipient: string;
  readonly publicKey: Uint8Array;
  /** Path of the sealed secret key. */
  readonly path: string;
}

function identitiesDir(home: string): string {
  return homeSubdir(home, 'identities');
}

function checkName(name: string): void {
  if (!NAME.test(name)) throw new UsageError(`identity name "${name}" must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
}

export interface CreateIdentityOptions {
  readonly name: string;
  /** Branches of the policy that protects the identity's secret key. */
  readonly policy: readonly PolicyBranch[];
  /** Inputs for the policy's factors (passphrase, key files, ...). */
  readonly inputs: UnlockInputs;
  readonly home: string;
  readonly overwrite?: boolean;
}

/**
 * Generates an X25519 identity and stores its secret key sealed under `policy`.
 * @throws ExistsError, PolicyError, UsageError
 */
export async function createIdentity(options: CreateIdentityOptions): Promise<IdentityInfo> {
  checkName(options.name);
  checkPolicyBranches(options.policy);
  const dir = identitiesDir(options.home);
  const sealedPath = path.join(dir, `${options.name}.bseal`);
  const pubPath = path.join(dir, `${options.name}.pub`);
  if (!options.overwrite && (existsSync(sealedPath) || existsSync(pubPath))) {
    throw new ExistsError(`identity "${options.name}" already exists in ${dir}`);
  }
  const secretKey = x25519.utils.randomSecretKey();
  const publicKey = x25519.getPublicKey(secretKey);
  const materials: SlotMaterial[] = [];
  try {
    for (const branch of options.policy) materials.push(await slotMaterialForBranch(branch, { ...options.inputs, identities: undefined }));
    await sealFile({ input: secretKey, output: sealedPath, slots: materials, overwrite: options.overwrite, chunkLog2: 12, mode: 0o600 });
  } finally {
    wipe(secretKey);
    wipeSlotMaterial(materials);
  }
  const recipient = encodeRecipient(publicKey);
  await writeFileAtomic(pubPath, async (h) => void (await h.writeFile(`${recipient}\n# policy: ${formatPolicy(options.policy)}\n`)), {
    overwrite: true,
  });
  return { name: options.name, recipient, publicKey, path: sealedPath };
}

/** The identities stored under `home`. Entries whose public key file is damaged are skipped. */
export function listIdentities(home: string): IdentityInfo[] {
  const dir = identitiesDir(home);
  const out: IdentityInfo[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (!entry.endsWith('.pub')) continue;
    const name = entry.slice(0, -4);
    const sealed = path.join(dir, `${name}.bseal`);
    if (!NAME.test(name) || !existsSync(sealed)) continue;
    try {
      const recipient = readFileSync(path.join(dir, entry), 'utf8').split('\n')[0]!.trim();
      out.push({ name, recipient, publicKey: decodeRecipient(recipient), path: sealed });
    } catch (error) {
      if (!(error instanceof FormatError)) throw error;
    }
  }
  return out;
}

/**
 * Resolves recipient public keys to local identities, unlocking an identity's
 * secret key with the same inputs (but never through another identity, so
 * identities cannot chain).
 */
export function identityResolver(home: string, inputs: UnlockInputs): IdentityResolver {
  let cache: IdentityInfo[] | undefined;
  const find = (publicKey: Uint8Array) => {
    cache ??= listIdentities(home);
    return cache.find((i) => constantTimeEqual(i.publicKey, publicKey));
  };
  return {
    has: (publicKey) => find(publicKey) !== undefined,
    async secretKey(publicKey) {
      const identity = find(publicKey);
      if (!identity) return undefined;
      const opened = await openSealedFile(identity.path, { provider: factorProvider({ ...inputs, identities: undefined }) });
      try {
        if (opened.bytes.length !== 32) throw new FormatError(`identity ${identity.name} is damaged`);
        const secretKey = opened.bytes.slice();
        // The public key file is not authenticated: check it against the sealed secret.
        if (!constantTimeEqual(x25519.getPublicKey(secretKey), publicKey)) {
          wipe(secretKey);
          throw new FormatError(`identity ${identity.name}: public key file does not match its secret key`);
        }
        return secretKey;
      } finally {
        opened.release();
      }
    },
  };
}
