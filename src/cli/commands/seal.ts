import { sealModel } from '../../operations/seal.js';
import { formatBytes } from '../output.js';
import { deviceCredentialsFrom, parseEnrolmentChoices, passphraseSource } from '../unlock-args.js';
import { biosealHomePath } from '../../home.js';
import { UsageError } from '../../errors.js';
import { parsePolicy } from '../../policy/expression.js';
import { findFactor } from '../../factors/registry.js';
import type { Command } from '../command.js';
import { faceInputFromFiles } from '../face-input.js';

export const sealCommand: Command = {
  name: 'seal',
  summary: 'encrypt a model under an unlock policy or for recipients',
  help: `Usage: bioseal seal IN -o OUT (--policy EXPR | --recipient PUBKEY)... [options]

Encrypts IN (any model format) into the sealed file OUT. Each "|" branch of a
policy, and each recipient, becomes one key slot; any one slot opens the file.

Options:
  -o, --output OUT          the sealed file to write (required)
  --policy EXPR             unlock policy, e.g. "keyfile | recovery" (repeatable)
                            factors: keyfile, recovery, tpm, pkcs11, passkey, fido2, face
                            (face never alone: pair it, e.g. "face & tpm")
  --recipient PUBKEY        seal for an identity (bioseal1..., from keygen --identity) (repeatable)
  --passphrase-file F       passphrase for recovery slots (or BIOSEAL_PASSPHRASE, or a prompt)
  --key-file F              key file for keyfile slots
  --face IMAGE              a face image for face slots (repeatable); matched against the enrolment
  --face-enrolment NAME     which face enrolment a face slot uses (default: default)
  --enrolment FACTOR=NAME   which enrolment a device factor uses, e.g. tpm=laptop (default: default)
  --pin-file F              PIN of the PKCS#11 token or FIDO2 key (or BIOSEAL_PIN, or a prompt)
  --tcti TCTI               the TPM for tpm slots (default: BIOSEAL_TPM_TCTI, then the TPM device)
  --sign KEY                sign with a publisher secret key (from keygen --publisher)
  --chunk-size BYTES        payload chunk size, a power of two from 4096 to 16777216 (default 262144)
  --force                   replace OUT if it exists
  --allow-weak-policy       accept a branch made only of factors that should be paired (prints a warning)
  --json                    print the result as JSON

The output is written atomically: a crash leaves the old file or the new one.`,
  options: {
    output: { type: 'string', short: 'o' },
    policy: { type: 'string', multiple: true },
    recipient: { type: 'string', multiple: true },
    'passphrase-file': { type: 'string' },
    'key-file': { type: 'string', multiple: true },
    face: { type: 'string', multiple: true },
    'face-enrolment': { type: 'string' },
    enrolment: { type: 'string', multiple: true },
    'pin-file': { type: 'string' },
    tcti: { type: 'string' },
    sign: { type: 'string' },
    'chunk-size': { type: 'string' },
    force: { type: 'boolean' },
    'allow-weak-policy': { type: 'boolean' },
  },
  async run(values, positionals, out) {
    if (positionals.length !== 1) throw new UsageError('seal takes exactly one input file (see bioseal seal --help)');
    const output = values.output as string | undefined;
    if (!output) throw new UsageError('seal needs -o OUT');
    const policies = (values.policy as string[] | undefined) ?? [];
    const recipients = (values.recipient as string[] | undefined) ?? [];
    if (policies.length + recipients.length === 0) throw new UsageError('seal needs at least one --policy or --recipient');
    let chunkLog2: number | undefined;
    if (values['chunk-size'] !== undefined) {
      const n = Number(values['chunk-size']);
      chunkLog2 = Math.log2(n);
      if (!Number.isInteger(chunkLog2)) throw new UsageError('--chunk-size must be a power of two');
    }
    const needsPassphrase = policies.some((p) => parsePolicy(p).some((b) => b.includes('recovery')));
    if (values['allow-weak-policy']) {
      for (const b of policies.flatMap((p) => parsePolicy(p))) {
        if (b.every((n) => findFactor(n)?.standalone === false)) {
          out.warn(`the branch "${b.join(' & ')}" relies only on factors that NIST SP 800-63B says must be paired with a physical authenticator`);
        }
      }
    }
    const progress = out.progress('sealing');
    try {
      const result = await sealModel({
        input: positionals[0]!,
        output,
        policies,
        recipients,
        passphrase: needsPassphrase
          ? passphraseSource({ passphraseFile: values['passphrase-file'] as string | undefined, confirm: true, prompt: 'New recovery passphrase: ' })
          : undefined,
        keyFiles: (values['key-file'] as string[] | undefined) ?? [],
        face: faceInputFromFiles(values.face as string[] | undefined, values['face-enrolment'] as string | undefined),
        home: biosealHomePath(),
        ...deviceCredentialsFrom(values),
        enrolments: {
          ...parseEnrolmentChoices(values.enrolment as string[] | undefined),
          ...(values['face-enrolment'] ? { face: values['face-enrolment'] as string } : {}),
        },
        signingKey: values.sign as string | undefined,
        overwrite: Boolean(values.force),
        allowWeakPolicy: Boolean(values['allow-weak-policy']),
        chunkLog2,
        onProgress: progress,
      });
      progress.stop();
      out.info(`sealed ${positionals[0]} -> ${output}: ${formatBytes(result.plaintextLength)} in ${result.chunkCount} chunks, ${result.slotCount} key slot(s)${result.signed ? ', signed' : ''}`);
      out.result({ ok: true, ...result });
    } finally {
      progress.stop();
    }
  },
};
