import { ensureBiosealHome, biosealHomePath } from '../../home.js';
import { listIdentities } from '../../identity/store.js';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';

export const initCommand: Command = {
  name: 'init',
  summary: 'create the state directory ($BIOSEAL_HOME, default ~/.bioseal)',
  help: `Usage: bioseal init [--json]

Creates bioseal's state directory with mode 0700 (BIOSEAL_HOME, default
~/.bioseal) and shows what it holds.`,
  options: {},
  async run(_values, positionals, out) {
    if (positionals.length) throw new UsageError('init takes no arguments');
    const home = ensureBiosealHome(biosealHomePath());
    const identities = listIdentities(home);
    out.info(`bioseal home: ${home}`);
    out.info(`identities:   ${identities.length ? identities.map((i) => `${i.name} (${i.recipient})`).join(', ') : 'none'}`);
    out.result({ home, identities: identities.map((i) => ({ name: i.name, recipient: i.recipient })) });
  },
};
