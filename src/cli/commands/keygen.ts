import { generateKeyFile } from '../../keys/keyfile.js';
import { generatePublisherKey } from '../../keys/publisher.js';
import { createIdentity } from '../../identity/store.js';
import { policyBranches } from '../../operations/seal.js';
import { inputsFromCredentials } from '../../operations/credentials.js';
import { ensureBiosealHome, biosealHomePath } from '../../home.js';
import { passphraseSource } from '../unlock-args.js';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';

export const keygenCommand: Command = {
  name: 'keygen',
  summary: 'make a key file, a publisher signing key, or an identity',
  help: `Usage:
  bioseal keygen --key-file F                       32 random bytes in F (mode 0600)
  bioseal keygen --publisher -o FILE                Ed25519 signing key: FILE (0600) and FILE.pub
  bioseal keygen --identity NAME --policy EXPR      X25519 identity under $BIOSEAL_HOME, its secret
                                                    key sealed under EXPR; prints its recipient

Options:
  --passphrase-file F    passphrase for a recovery factor in the identity's policy
  --unlock-key-file F    key file for a keyfile factor in the identity's policy
  --force                replace existing files
  --json                 print the result as JSON`,
  options: {
    'key-file': { type: 'string' },
    publisher: { type: 'boolean' },
    output: { type: 'string', short: 'o' },
    identity: { type: 'string' },
    policy: { type: 'string', multiple: true },
    'passphrase-file': { type: 'string' },
    'unlock-key-file': { type: 'string', multiple: true },
    force: { type: 'boolean' },
  },
  async run(values, positionals, out) {
    if (positionals.length > 0) throw new UsageError(`keygen takes no positional arguments (got "${positionals[0]}")`);
    const modes = [values['key-file'] !== undefined && !values.identity, Boolean(values.publisher), values.identity !== undefined].filter(Boolean).length;
    if (modes !== 1) throw new UsageError('keygen needs exactly one of --key-file F, --publisher -o FILE, --identity NAME --policy EXPR');
    const force = Boolean(values.force);
    if (values.publisher) {
      const file = values.output as string | undefined;
      if (!file) throw new UsageError('keygen --publisher needs -o FILE');
      const pub = await generatePublisherKey(file, { overwrite: force });
      out.info(`wrote publisher secret key ${file} (keep it private) and public key ${file}.pub`);
      out.info(pub);
      out.result({ ok: true, secretKeyFile: file, publicKeyFile: `${file}.pub`, publicKey: pub });
      return;
    }
    if (values.identity !== undefined) {
      const policies = (values.policy as string[] | undefined) ?? [];
      if (policies.length === 0) throw new UsageError('keygen --identity needs --policy EXPR to protect the identity');
      const branches = policyBranches(policies);
      const home = ensureBiosealHome(biosealHomePath());
      const needsPassphrase = branches.some((b) => b.includes('recovery'));
      const keyFiles = [...((values['unlock-key-file'] as string[] | undefined) ?? []), ...(values['key-file'] ? [values['key-file'] as string] : [])];
      const inputs = inputsFromCredentials({
        passphrase: needsPassphrase
          ? passphraseSource({ passphraseFile: values['passphrase-file'] as string | undefined, confirm: true, prompt: 'Passphrase for the identity: ' })
          : undefined,
        keyFiles,
        home,
        useIdentities: false,
      });
      const id = await createIdentity({ name: values.identity as string, policy: branches, inputs, home, overwrite: force });
      out.info(`created identity "${id.name}" (${id.path}); its recipient is:`);
      process.stdout.write(out.json ? '' : `${id.recipient}\n`);
      out.result({ ok: true, name: id.name, recipient: id.recipient, path: id.path });
      return;
    }
    const file = values['key-file'] as string;
    await generateKeyFile(file, { overwrite: force });
    out.info(`wrote key file ${file} (32 random bytes, mode 0600)`);
    out.result({ ok: true, keyFile: file });
  },
};
