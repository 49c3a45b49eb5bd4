/**
 * Sealing a secret in a TPM 2.0 and unsealing it, with tpm2-tools.
 *
 * The secret becomes a sealed data object (TPM 2.0 Part 1 §27.2.2, a
 * KEYEDHASH object with sensitive data) under a primary storage key of the
 * owner hierarchy. The primary is not stored anywhere: the TPM derives it
 * again from its owner seed and the template each time, so the sealed blobs
 * load only in the TPM that made them (and not after its owner hierarchy is
 * cleared). With PCRs, the object has no user auth but a policy
 * (TPM2_PolicyPCR, Part 3 §23.7) over their current sha256 values, so it
 * unseals only while those PCRs hold the values they had at sealing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { FormatError } from '../../errors.js';
import { withTpm2Tools, type Tpm2Tools, type Tpm2ToolsOptions } from './tpm2-tools.js';
import { pcrSelection } from './pcrs.js';

/** The template of the primary storage key, as tpm2_createprimary options. */
export interface PrimaryTemplate {
  /** Always the owner (storage) hierarchy. */
  readonly hierarchy: 'owner';
  /** `-G`: key algorithm with its symmetric scheme. */
  readonly algorithm: string;
  /** `-g`: name algorithm. */
  readonly hash: string;
  /** `-a`: object attributes. */
  readonly attributes: string;
}

/**
 * An ECC P-256 storage key like the TCG's SRK template (TCG TPM v2.0
 * Provisioning Guidance §7.5.1): quick to derive even on slow TPMs.
 */
export const DEFAULT_PRIMARY: PrimaryTemplate = {
  hierarchy: 'owner',
  algorithm: 'ecc256:aes128cfb',
  hash: 'sha256',
  attributes: 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda|restricted|decrypt',
};

const ALGORITHM = /^(ecc256|ecc384|rsa2048|rsa3072):aes(128|256)cfb$/;
const HASH = /^sha(256|384)$/;
const ATTRIBUTE_NAMES = new Set(['fixedtpm', 'fixedparent', 'sensitivedataorigin', 'userwithauth', 'adminwithpolicy', 'noda', 'restricted', 'decrypt']);

/**
 * Checks a template read from a record: only known algorithms and attributes
 * reach tpm2_createprimary.
 * @throws FormatError naming the field.
 */
export function checkPrimaryTemplate(t: PrimaryTemplate): PrimaryTemplate {
  if (t.hierarchy !== 'owner') throw new FormatError('tpm primary template: hierarchy must be "owner"');
  if (!ALGORITHM.test(t.algorithm)) throw new FormatError(`tpm primary template: algorithm "${t.algorithm}" is not supported`);
  if (!HASH.test(t.hash)) throw new FormatError(`tpm primary template: hash "${t.hash}" is not supported`);
  if (!t.attributes.split('|').every((a) => ATTRIBUTE_NAMES.has(a))) throw new FormatError(`tpm primary template: attributes "${t.attributes}" are not supported`);
  return t;
}

/** What is kept to unseal again: public data only (the private blob is encrypted by the TPM). */
export interface SealedSecret {
  /** TPM2B_PUBLIC of the sealed object, as tpm2_create writes it. */
  readonly public: Uint8Array;
  /** TPM2B_PRIVATE of the sealed object, encrypted under the primary. */
  readonly private: Uint8Array;
  /** PCRs of the sha256 bank the object is bound to; empty: no PCR policy. */
  readonly pcrs: readonly number[];
  readonly primary: PrimaryTemplate;
}

export interface SealOptions extends Tpm2ToolsOptions {
  /** The TPM, as a tpm2-tools TCTI (see tcti.ts). */
  readonly tcti: string;
}

async function createPrimary(tpm: Tpm2Tools, t: PrimaryTemplate): Promise<string> {
  const ctx = tpm.file('primary.ctx');
  await tpm.run('tpm2_createprimary', ['-C', 'o', '-G', t.algorithm, '-g', t.hash, '-a', t.attributes, '-c', ctx]);
  await tpm.flushTransients();
  return ctx;
}

/** Starts a session (trial, or a real policy session) and applies the PCR policy; returns its context file. */
async function pcrPolicySession(tpm: Tpm2Tools, pcrs: readonly number[], kind: 'trial' | 'policy', digestFile?: string): Promise<string> {
  const session = tpm.file(`${kind}.session`);
  await tpm.run('tpm2_startauthsession', [...(kind === 'policy' ? ['--policy-session'] : []), '-S', session]);
  await tpm.run('tpm2_policypcr', ['-S', session, '-l', pcrSelection(pcrs), ...(digestFile ? ['-L', digestFile] : [])]);
  return session;
}

/**
 * Seals `secret` in the TPM, bound to the current values of `pcrs` when any.
 * The secret reaches tpm2_create on stdin only.
 * @throws DeviceError when the TPM is unreachable, refuses, or tpm2-tools is missing.
 */
export async function sealSecret(secret: Uint8Array, pcrs: readonly number[], options: SealOptions, primary: PrimaryTemplate = DEFAULT_PRIMARY): Promise<SealedSecret> {
  return withTpm2Tools(
    options.tcti,
    async (tpm) => {
      const parent = await createPrimary(tpm, primary);
      const policyArgs: string[] = [];
      if (pcrs.length > 0) {
        const digest = tpm.file('policy.digest');
        const trial = await pcrPolicySession(tpm, pcrs, 'trial', digest);
        await tpm.run('tpm2_flushcontext', [trial]);
        policyArgs.push('-L', digest);
      }
      // With a policy, no user auth: only the PCR policy opens the object.
      const attributes = pcrs.length > 0 ? 'fixedtpm|fixedparent' : 'fixedtpm|fixedparent|userwithauth';
      const pub = tpm.file('sealed.pub');
      const priv = tpm.file('sealed.priv');
      await tpm.run('tpm2_create', ['-C', parent, '-g', 'sha256', '-a', attributes, ...policyArgs, '-i', '-', '-u', pub, '-r', priv], secret);
      await tpm.flushTransients();
      return { public: new Uint8Array(readFileSync(pub)), private: new Uint8Array(readFileSync(priv)), pcrs: [...pcrs], primary };
    },
    options,
  );
}

/**
 * Unseals a secret sealed by `sealSecret`: derives the primary again, loads
 * the object, satisfies the PCR policy if any, and reads the secret from the
 * tool's stdout. The caller wipes the result.
 * @throws DeviceError: `refused` when the PCRs changed or the object belongs
 *   to another TPM, `unavailable` when the TPM cannot be reached.
 */
export async function unsealSecret(sealed: SealedSecret, options: SealOptions): Promise<Uint8Array> {
  const primary = checkPrimaryTemplate(sealed.primary);
  return withTpm2Tools(
    options.tcti,
    async (tpm) => {
      const pub = tpm.file('sealed.pub');
      const priv = tpm.file('sealed.priv');
      writeFileSync(pub, sealed.public, { mode: 0o600 });
      writeFileSync(priv, sealed.private, { mode: 0o600 });
      const parent = await createPrimary(tpm, primary);
      const object = tpm.file('sealed.ctx');
      await tpm.run('tpm2_load', ['-C', parent, '-u', pub, '-r', priv, '-c', object]);
      await tpm.flushTransients();
      if (sealed.pcrs.length === 0) return tpm.run('tpm2_unseal', ['-c', object]);
      const session = await pcrPolicySession(tpm, sealed.pcrs, 'policy');
      return tpm.run('tpm2_unseal', ['-c', object, '-p', `session:${session}`]);
    },
    options,
  );
}
