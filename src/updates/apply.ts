/**
 * `applyUpdate`: the device's side (docs/UPDATES.md §4). Verifies a
 * manifest (signature, trust chain, version, validity, digest) and installs
 * its sealed model under $BIOSEAL_HOME/models/NAME/ so that a failure or a
 * kill at any moment leaves the previous model installed:
 *
 * 1. under the update lock, read the installed state;
 * 2. copy the sealed file to `vN.bseal` (temporary file, hashed as written,
 *    fsync, rename), the previous version's file untouched;
 * 3. replace the state file atomically: the switch;
 * 4. only then remove the previous version's files.
 */
import { mkdirSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { readSealedInfo } from '../container/open.js';
import { biosealHomePath, ensureBiosealHome } from '../home.js';
import { describeFsError } from '../util/atomic-file.js';
import { installVerifiedCopy } from './digest.js';
import { withUpdateLock } from './lock.js';
import { manifestHash, readManifestFile, verifyManifestSignature, writeManifestFile } from './manifest.js';
import type { RotationStatement } from './rotation.js';
import { modelDir, readInstalledState, writeInstalledState, type InstalledModel } from './state.js';
import { resolveSigner } from './trust-chain.js';
import { readTrustStore } from './trust-store.js';
import { toHex } from '../util/bytes.js';
import { ExpiredError, RollbackError, SignatureError } from '../errors.js';

/** How far in the future a manifest's issue time may lie (clocks differ). */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface ApplyUpdateOptions {
  /** The manifest file. */
  readonly manifest: string;
  /** The sealed file; default: the manifest's `file.name` in the manifest's directory. */
  readonly model?: string;
  /** Trusted publisher keys, in addition to the trust store's. */
  readonly trust?: readonly Uint8Array[];
  /** Rotation statements, in addition to those the manifest carries. */
  readonly rotations?: readonly RotationStatement[];
  /** Default $BIOSEAL_HOME. */
  readonly home?: string;
  /** The current time; default now. */
  readonly now?: Date;
}

export interface ApplyUpdateResult {
  readonly installed: InstalledModel;
  /** The absolute path of the installed sealed file. */
  readonly path: string;
  /** The version replaced, if any. */
  readonly previousVersion?: number;
  /** The trusted key the signer's trust comes from. */
  readonly trustedRoot: Uint8Array;
  /** Rotation statements followed from the trusted key to the signer. */
  readonly chain: readonly RotationStatement[];
}

/**
 * Verifies and installs an update.
 * @example await applyUpdate({ manifest: 'face.manifest.json', trust: [publisherKey] })
 * @throws SignatureError (unsigned, wrongly signed, untrusted, broken rotation chain),
 *   RollbackError (not newer than installed: downgrade or replay), ExpiredError,
 *   DigestError (the sealed file is not the one signed), FormatError, IOError
 */
export async function applyUpdate(options: ApplyUpdateOptions): Promise<ApplyUpdateResult> {
  const manifest = await readManifestFile(options.manifest);
  if (!verifyManifestSignature(manifest)) {
    throw new SignatureError(`the signature of ${options.manifest} does not verify: it was changed after signing, or not signed by the key it names`);
  }
  const home = ensureBiosealHome(options.home ?? biosealHomePath());
  const now = options.now ?? new Date();
  return withUpdateLock(home, async () => {
    const state = await readInstalledState(home);
    const trusted = [...(options.trust ?? []), ...readTrustStore(home)];
    if (trusted.length === 0) throw new SignatureError('no trusted publisher key: pass --trust PUBKEY, or add one with bioseal update trust PUBKEY');
    const decision = resolveSigner(manifest.publisher, trusted, [...manifest.rotations, ...(options.rotations ?? [])], state.rotations);

    const hash = manifestHash(manifest);
    const current = state.models.get(manifest.name);
    if (current && manifest.version <= current.version) {
      throw new RollbackError(
        hash === current.manifestSha256
          ? `${manifest.name} version ${manifest.version} is already installed from this manifest: refusing a replay`
          : `${manifest.name} version ${manifest.version} is not newer than the installed version ${current.version}: refusing a ${manifest.version === current.version ? 'replay' : 'downgrade'}`,
      );
    }
    if (now.getTime() > manifest.expiresAt.getTime()) {
      throw new ExpiredError(`the manifest for ${manifest.name} version ${manifest.version} expired at ${manifest.expiresAt.toISOString()}`);
    }
    if (manifest.issuedAt.getTime() > now.getTime() + MAX_CLOCK_SKEW_MS) {
      throw new ExpiredError(`the manifest for ${manifest.name} is not valid yet: issued at ${manifest.issuedAt.toISOString()}, in the future (check the clock)`);
    }

    const source = options.model ?? path.join(path.dirname(options.manifest), manifest.file.name);
    const dir = modelDir(home, manifest.name);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw describeFsError(error, dir);
    }
    await removeLeftovers(dir, current?.version);
    const file = `v${manifest.version}.bseal`;
    const target = path.join(dir, file);
    await installVerifiedCopy(source, target, manifest.file);
    // The publisher signed these bytes; still, never record a file a reader would refuse.
    await readSealedInfo(target).catch(async (error: unknown) => {
      await fs.unlink(target).catch(() => undefined);
      throw error;
    });
    await writeManifestFile(path.join(dir, `v${manifest.version}.manifest.json`), manifest, { overwrite: true, mode: 0o600 });

    const installed: InstalledModel = {
      name: manifest.name,
      version: manifest.version,
      file,
      size: manifest.file.size,
      sha256: manifest.file.sha256,
      manifestSha256: hash,
      publisher: manifest.publisher,
      installedAt: new Date(Math.floor(now.getTime() / 1000) * 1000),
      expiresAt: manifest.expiresAt,
    };
    const recorded = new Set(state.rotations.map((r) => toHex(r.from)));
    await writeInstalledState(home, {
      models: new Map([...state.models, [manifest.name, installed]]),
      rotations: [...state.rotations, ...decision.chain.filter((r) => !recorded.has(toHex(r.from)))],
    });
    // Switched: the previous version may go. A failure here only leaves a file behind.
    await removeLeftovers(dir, manifest.version).catch(() => undefined);
    return { installed, path: target, previousVersion: current?.version, trustedRoot: decision.root, chain: decision.chain };
  });
}

const VERSION_FILE = /^v(\d+)\.(bseal|manifest\.json)$/;

/**
 * Removes a model directory's files other than those of version `keep`:
 * earlier versions after a switch, and what an interrupted update left
 * (its version files and temporary files; under the lock no other writer runs).
 */
async function removeLeftovers(dir: string, keep: number | undefined): Promise<void> {
  for (const name of await fs.readdir(dir)) {
    const version = VERSION_FILE.exec(name);
    const stale = version ? Number(version[1]) !== keep : name.startsWith('.v') && name.endsWith('.tmp');
    if (stale) await fs.unlink(path.join(dir, name)).catch(() => undefined);
  }
}
