import { signUpdate } from '../../updates/sign.js';
import { applyUpdate } from '../../updates/apply.js';
import { listInstalledModels } from '../../updates/list.js';
import { createRotation, readRotationFile, writeRotationFile } from '../../updates/rotation.js';
import { addTrustedPublisher, readTrustStore, removeTrustedPublisher } from '../../updates/trust-store.js';
import { parseExpiry } from '../../updates/time.js';
import { encodePublisherKey, parsePublisherKey, readPublisherSecretKey } from '../../keys/publisher.js';
import { biosealHomePath, ensureBiosealHome } from '../../home.js';
import { wipe } from '../../util/bytes.js';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';

const ACTION_OPTIONS: Record<string, readonly string[]> = {
  sign: ['name', 'version', 'publisher', 'output', 'expires', 'rotation', 'force'],
  apply: ['trust', 'model', 'rotation'],
  list: [],
  rotate: ['publisher', 'new-publisher', 'output', 'force'],
  trust: ['remove'],
};

function required(values: Record<string, unknown>, name: string, action: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`update ${action} needs --${name === 'output' ? 'output/-o' : name}`);
  return v;
}

function parseVersion(text: string): number {
  const n = Number(text);
  if (!/^[1-9][0-9]*$/.test(text) || !Number.isSafeInteger(n)) throw new UsageError(`--version "${text}" must be a whole number from 1 to ${Number.MAX_SAFE_INTEGER}`);
  return n;
}

export const updateCommand: Command = {
  name: 'update',
  summary: 'sign, verify and install model updates (signed manifests, rollback protection)',
  help: `Usage:
  bioseal update sign MODEL.bseal --name NAME --version N --publisher KEY -o MANIFEST
                     [--expires 90d|ISO-DATE] [--rotation FILE]... [--force]
  bioseal update apply MANIFEST [--trust PUBKEY]... [--model FILE] [--rotation FILE]...
  bioseal update list
  bioseal update rotate --publisher OLDKEY --new-publisher NEWPUB -o ROTATION [--force]
  bioseal update trust [PUBKEY [--remove]]

sign     writes a manifest naming MODEL.bseal as version N of NAME (its size and
         SHA-256, its unlock policy, issue and expiry times), signed by the
         publisher secret key KEY (bioseal keygen --publisher). Default expiry 90d.
apply    installs the sealed file the manifest names (next to the manifest, or
         --model FILE) under $BIOSEAL_HOME/models/NAME/, only if the manifest is
         signed by a trusted key (--trust, the trust store, or a rotation chain
         from one), unexpired, newer than the installed version, and the file's
         bytes match. The switch is atomic: on any failure the old model stays.
list     shows the installed models and versions.
rotate   writes a statement, signed by OLDKEY, that NEWPUB replaces it; devices
         that trust OLDKEY then accept manifests signed by NEWPUB's secret key.
trust    lists, adds or (--remove) removes trust-store keys
         ($BIOSEAL_HOME/updates/trusted-publishers).

Options:
  --name NAME           model name (a-z 0-9 . _ -)
  --version N           release number; each update must have a larger one
  --publisher KEY       publisher secret key file (biosealsec1...)
  -o, --output FILE     the manifest or rotation statement to write
  --expires WHEN        duration (90d, 12h, 2w) or ISO date/time
  --rotation FILE       rotation statement to ship (sign) or to follow (apply); repeatable
  --trust PUBKEY        trusted publisher key (biosealpub1... or a .pub file); repeatable
  --model FILE          the sealed file, when it is not next to the manifest
  --new-publisher PUB   the new publisher public key (biosealpub1... or a .pub file)
  --force               replace an existing output file
  --json                print the result as JSON

Errors: E_SIGNATURE (unsigned, wrongly signed, untrusted key, broken rotation
chain), E_ROLLBACK (not newer than installed), E_EXPIRED, E_DIGEST (the sealed
file is not the one signed), E_FORMAT (malformed manifest). See docs/UPDATES.md.`,
  options: {
    name: { type: 'string' },
    version: { type: 'string' },
    publisher: { type: 'string' },
    output: { type: 'string', short: 'o' },
    expires: { type: 'string' },
    rotation: { type: 'string', multiple: true },
    trust: { type: 'string', multiple: true },
    model: { type: 'string' },
    'new-publisher': { type: 'string' },
    remove: { type: 'boolean' },
    force: { type: 'boolean' },
  },
  async run(values, positionals, out) {
    const [action, ...args] = positionals;
    if (!action || !(action in ACTION_OPTIONS)) throw new UsageError('update needs sign, apply, list, rotate or trust (see bioseal update --help)');
    for (const key of Object.keys(values)) {
      if (key !== 'json' && key !== 'help' && !ACTION_OPTIONS[action]!.includes(key)) throw new UsageError(`update ${action} does not take --${key}`);
    }
    const rotationFiles = (values.rotation as string[] | undefined) ?? [];
    const rotations = await Promise.all(rotationFiles.map(readRotationFile));
    const home = biosealHomePath();

    if (action === 'sign') {
      if (args.length !== 1) throw new UsageError('update sign takes exactly one MODEL.bseal');
      const name = required(values, 'name', action);
      const version = parseVersion(required(values, 'version', action));
      const output = required(values, 'output', action);
      const expiresAt = values.expires === undefined ? undefined : parseExpiry(values.expires as string, new Date());
      const secretKey = readPublisherSecretKey(required(values, 'publisher', action));
      try {
        const m = await signUpdate({ model: args[0]!, name, version, secretKey, output, expiresAt, rotations, overwrite: Boolean(values.force) });
        out.info(`wrote ${output}: ${m.name} version ${m.version} (${m.file.size} bytes, sha256 ${m.file.sha256}), expires ${m.expiresAt.toISOString()}`);
        out.result({
          ok: true,
          manifest: output,
          name: m.name,
          version: m.version,
          file: m.file,
          policy: m.policy,
          issuedAt: m.issuedAt.toISOString(),
          expiresAt: m.expiresAt.toISOString(),
          publisher: encodePublisherKey(m.publisher),
          rotations: m.rotations.length,
        });
      } finally {
        wipe(secretKey);
      }
      return;
    }

    if (action === 'apply') {
      if (args.length !== 1) throw new UsageError('update apply takes exactly one MANIFEST');
      const trust = ((values.trust as string[] | undefined) ?? []).map(parsePublisherKey);
      const r = await applyUpdate({ manifest: args[0]!, model: values.model as string | undefined, trust, rotations, home });
      const m = r.installed;
      const was = r.previousVersion === undefined ? 'new install' : `was version ${r.previousVersion}`;
      out.info(`installed ${m.name} version ${m.version} (${was}) at ${r.path}`);
      if (r.chain.length > 0) out.info(`signer trusted through ${r.chain.length} key rotation(s) from ${encodePublisherKey(r.trustedRoot)}`);
      out.result({
        ok: true,
        name: m.name,
        version: m.version,
        previousVersion: r.previousVersion ?? null,
        path: r.path,
        sha256: m.sha256,
        manifestSha256: m.manifestSha256,
        publisher: encodePublisherKey(m.publisher),
        trustedRoot: encodePublisherKey(r.trustedRoot),
        rotations: r.chain.length,
      });
      return;
    }

    if (action === 'list') {
      if (args.length !== 0) throw new UsageError('update list takes no arguments');
      const models = await listInstalledModels(home);
      if (models.length === 0) out.info('no models installed by update apply');
      for (const m of models) out.info(`${m.name}  version ${m.version}  installed ${m.installedAt.toISOString()}  expires ${m.expiresAt.toISOString()}  ${m.path}`);
      out.result({
        models: models.map((m) => ({
          name: m.name,
          version: m.version,
          path: m.path,
          size: m.size,
          sha256: m.sha256,
          manifestSha256: m.manifestSha256,
          publisher: encodePublisherKey(m.publisher),
          installedAt: m.installedAt.toISOString(),
          expiresAt: m.expiresAt.toISOString(),
        })),
      });
      return;
    }

    if (action === 'rotate') {
      if (args.length !== 0) throw new UsageError('update rotate takes no positional arguments');
      const output = required(values, 'output', action);
      const newKey = parsePublisherKey(required(values, 'new-publisher', action));
      const oldSecret = readPublisherSecretKey(required(values, 'publisher', action));
      try {
        const s = createRotation(oldSecret, newKey);
        await writeRotationFile(output, s, { overwrite: Boolean(values.force) });
        out.info(`wrote ${output}: ${encodePublisherKey(s.to)} replaces ${encodePublisherKey(s.from)}`);
        out.result({ ok: true, rotation: output, from: encodePublisherKey(s.from), to: encodePublisherKey(s.to), issuedAt: s.issuedAt.toISOString() });
      } finally {
        wipe(oldSecret);
      }
      return;
    }

    // trust
    if (args.length > 1) throw new UsageError('update trust takes at most one PUBKEY');
    if (args.length === 0) {
      if (values.remove) throw new UsageError('update trust --remove needs a PUBKEY');
      const keys = readTrustStore(home).map(encodePublisherKey);
      if (keys.length === 0) out.info('no trusted publisher keys (add one with bioseal update trust PUBKEY)');
      for (const k of keys) out.info(k);
      out.result({ trusted: keys });
      return;
    }
    const key = parsePublisherKey(args[0]!);
    const text = encodePublisherKey(key);
    const changed = values.remove ? await removeTrustedPublisher(home, key) : await addTrustedPublisher(ensureBiosealHome(home), key);
    out.info(values.remove ? (changed ? `no longer trusted: ${text}` : `was not trusted: ${text}`) : changed ? `trusted: ${text}` : `already trusted: ${text}`);
    out.result({ ok: true, key: text, trusted: !values.remove, changed });
  },
};
