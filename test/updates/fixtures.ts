/**
 * Shared fixtures for the update tests: publisher key pairs, small sealed
 * models, and manifests signed in-process with any field, time or key.
 * No side effects at import time beyond cheap Argon2id for sealing.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { publisherPublicKey } from '../../src/container/signature.js';
import { generateKeyFile } from '../../src/keys/keyfile.js';
import { sealModel } from '../../src/operations/seal.js';
import { digestFile } from '../../src/updates/digest.js';
import { signManifest, writeManifestFile, type ManifestBody, type UpdateManifest } from '../../src/updates/manifest.js';
import type { RotationStatement } from '../../src/updates/rotation.js';

process.env.BIOSEAL_ARGON2_MEMORY_KIB = '8192';

export interface Publisher {
  readonly secret: Uint8Array;
  readonly key: Uint8Array;
}

export function makePublisher(): Publisher {
  const secret = new Uint8Array(randomBytes(32));
  return { secret, key: publisherPublicKey(secret) };
}

export interface TempDir {
  readonly dir: string;
  p(...parts: string[]): string;
  cleanup(): void;
}

export function makeTempDir(prefix = 'bioseal-updates-'): TempDir {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, p: (...parts) => path.join(dir, ...parts), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Seals `bytes` under a keyfile policy; returns the sealed file's path. */
export async function sealFixture(file: string, bytes: Uint8Array, keyFile: string): Promise<string> {
  await sealModel({ input: bytes, output: file, policies: ['keyfile'], keyFiles: [keyFile], chunkLog2: 12 });
  return file;
}

export async function makeKeyFile(file: string): Promise<string> {
  await generateKeyFile(file);
  return file;
}

const DAY = 86_400_000;

/**
 * Signs and writes a manifest for `model` next to it (default `NAME-vN.manifest.json`).
 * Any body field can be overridden; times default to now-1 h .. now+30 d.
 */
export async function writeSignedManifest(options: {
  model: string;
  name: string;
  version: number;
  publisher: Publisher;
  output?: string;
  now?: Date;
  body?: Partial<Omit<ManifestBody, 'publisher'>>;
  rotations?: readonly RotationStatement[];
}): Promise<{ file: string; manifest: UpdateManifest }> {
  const now = options.now ?? new Date();
  const digest = await digestFile(options.model);
  const manifest = signManifest(
    {
      name: options.name,
      version: options.version,
      file: { name: path.basename(options.model), size: digest.size, sha256: digest.sha256 },
      policy: 'keyfile',
      issuedAt: new Date(Math.floor((now.getTime() - 3600_000) / 1000) * 1000),
      expiresAt: new Date(Math.floor((now.getTime() + 30 * DAY) / 1000) * 1000),
      ...options.body,
    },
    options.publisher.secret,
    options.rotations,
  );
  const file = options.output ?? path.join(path.dirname(options.model), `${options.name}-v${options.version}.manifest.json`);
  await writeManifestFile(file, manifest, { overwrite: true });
  return { file, manifest };
}
