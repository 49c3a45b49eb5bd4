import { addSlots, removeSlots } from '../../operations/slots.js';
import { inspectModel } from '../../operations/inspect.js';
import { credentialsFrom, passphraseSource, UNLOCK_HELP, UNLOCK_OPTIONS } from '../unlock-args.js';
import { describeSlotsText } from './inspect.js';
import { biosealHomePath } from '../../home.js';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';

export const slotCommand: Command = {
  name: 'slot',
  summary: 'list, add or remove key slots (the payload is not re-encrypted)',
  help: `Usage:
  bioseal slot list FILE [--json]
  bioseal slot add FILE (--policy EXPR | --recipient PUBKEY)... [unlock options] [new-slot options]
  bioseal slot remove FILE INDEX... [unlock options]

Adding or removing slots needs an existing slot unlocked; the file is rewritten
atomically and the payload is copied, never re-encrypted. Removing the last
slot is refused.

${UNLOCK_HELP}

New-slot options (default: the unlock options):
  --new-passphrase-file F   passphrase for a new recovery slot
  --new-key-file F          key file for a new keyfile slot
  --allow-weak-policy       accept a branch made only of factors that should be paired`,
  options: {
    ...UNLOCK_OPTIONS,
    policy: { type: 'string', multiple: true },
    recipient: { type: 'string', multiple: true },
    'new-passphrase-file': { type: 'string' },
    'new-key-file': { type: 'string', multiple: true },
    'allow-weak-policy': { type: 'boolean' },
  },
  async run(values, positionals, out) {
    const [action, file, ...rest] = positionals;
    if (!action || !['list', 'add', 'remove'].includes(action)) throw new UsageError('slot needs list, add or remove (see bioseal slot --help)');
    if (!file) throw new UsageError(`slot ${action} needs a FILE`);
    if (action === 'list') {
      if (rest.length) throw new UsageError('slot list takes one file');
      const d = await inspectModel(file, { verifySignature: false });
      for (const line of describeSlotsText(d)) out.info(line.trimStart());
      out.result({ file, slots: d.slots });
      return;
    }
    const unlock = credentialsFrom(values);
    if (action === 'remove') {
      if (rest.length === 0) throw new UsageError('slot remove needs at least one slot INDEX (see bioseal slot list)');
      const indices = rest.map((s) => {
        if (!/^\d+$/.test(s)) throw new UsageError(`"${s}" is not a slot index`);
        return Number(s);
      });
      const r = await removeSlots(file, indices, unlock);
      out.info(`removed slot(s) ${indices.join(', ')} from ${file}; ${r.slots.length} remain`);
      out.result({ ok: true, file, removed: indices, slots: r.slots.length, unlockedWith: r.unlockedWith });
      return;
    }
    if (rest.length) throw new UsageError('slot add takes one file');
    const policies = (values.policy as string[] | undefined) ?? [];
    const recipients = (values.recipient as string[] | undefined) ?? [];
    if (policies.length + recipients.length === 0) throw new UsageError('slot add needs --policy EXPR or --recipient PUBKEY');
    const newPass = values['new-passphrase-file'] as string | undefined;
    const newKeys = values['new-key-file'] as string[] | undefined;
    const enroll =
      newPass || newKeys
        ? {
            passphrase: newPass ? passphraseSource({ passphraseFile: newPass }) : unlock.passphrase,
            keyFiles: newKeys ?? unlock.keyFiles,
            face: unlock.face,
            home: biosealHomePath(),
          }
        : undefined;
    const r = await addSlots(file, { unlock, enroll, policies, recipients, allowWeakPolicy: Boolean(values['allow-weak-policy']) });
    out.info(`added ${policies.length + recipients.length > 1 ? 'slots' : 'a slot'} to ${file}; it now has ${r.slots.length}`);
    out.result({ ok: true, file, slots: r.slots.length, unlockedWith: r.unlockedWith });
  },
};
