// Builds native/aead.c, the in-place AES-256-GCM binding over Node's own
// OpenSSL. Optional: when it cannot be built, bioseal falls back to
// node:crypto (slower, same bytes) and says so in `bioseal bench`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const candidates = [
  process.env.npm_config_node_gyp,
  path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
].filter(Boolean);
const gyp = candidates.find((p) => existsSync(p));
if (!gyp) {
  console.warn('bioseal: node-gyp not found; using the node:crypto AES backend');
  process.exit(0);
}
const args = [gyp, 'rebuild', '--directory', path.join(root, 'native')];
const nodedir = process.env.npm_config_nodedir ?? (existsSync('/usr/include/node/node_api.h') ? '/usr' : undefined);
if (nodedir) args.push(`--nodedir=${nodedir}`);
const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  console.warn('bioseal: could not build the native AES-GCM binding; using the node:crypto backend');
  console.warn((r.stderr || '').split('\n').filter((l) => /error/i.test(l)).slice(0, 5).join('\n'));
}
