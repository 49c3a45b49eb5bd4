/**
 * Loads TensorFlow.js on its WebAssembly backend in Node, offline, from
 * node_modules only.
 *
 * The recipe, and why each step is needed (Human 3.3.6, face-api 1.7.15,
 * tfjs 4.22.0, Node 20):
 *
 * 1. `@tensorflow/tfjs-node` is not used: its install downloads a native
 *    binary, which fails offline. `@tensorflow/tfjs-core` +
 *    `@tensorflow/tfjs-converter` + `@tensorflow/tfjs-backend-wasm` are plain
 *    JavaScript and WebAssembly files inside their npm packages.
 * 2. They are loaded with `require` (their CommonJS Node builds,
 *    `dist/tf-core.node.js` ...), because Human's Node/WASM build
 *    (`@vladmandic/human/dist/human.node-wasm.js`) `require`s the same files:
 *    both must share one tfjs engine, or the backend and the kernels that one
 *    registers are invisible to the other.
 * 3. The wasm binaries are read from the backend's own `dist/` folder:
 *    `setWasmPaths(<dir of tf-backend-wasm.node.js>/)`; in Node, Emscripten
 *    reads `tfjs-backend-wasm-simd.wasm` from there with `fs`. tfjs disables
 *    wasm threads under Node (tfjs issue 3830), so inference is SIMD,
 *    single-threaded.
 * 4. tfjs-core has no `file://` model loader without tfjs-node, so one is
 *    registered here (`tf.io.registerLoadRouter`): it reads a graph model's
 *    `model.json` and its weight shards with `fs`, refusing any path outside
 *    the allowed model folders.
 * 5. Human's package `exports` map lists `dist/human.node-wasm` without the
 *    leading `./`, which Node rejects; the file is loaded by absolute path,
 *    found from the resolved package entry.
 *
 * Nothing here touches the network.
 */
import { createRequire } from 'node:module';
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as TfCore from '@tensorflow/tfjs-core';
import { ModelError } from '../../errors.js';

export type Tf = typeof TfCore;

const require = createRequire(import.meta.url);

/** Folders from which the file:// loader may read model files. */
const allowedModelDirs = new Set<string>();
let runtime: Promise<Tf> | undefined;

/** Directory of an installed package's resolved main file, walked up to the package root. */
export function packageRoot(name: string): string {
  let dir = path.dirname(require.resolve(name));
  for (let i = 0; i < 6; i++) {
    const base = path.basename(dir);
    if (base === name.split('/').pop()) return dir;
    dir = path.dirname(dir);
  }
  throw new ModelError(`cannot locate the installed package ${name}`);
}

/** The `require` of this module, for loading CommonJS builds of the model libraries. */
export function requireModule<T>(id: string): T {
  return require(id) as T;
}

/** Folder of the tfjs WASM binaries (`tfjs-backend-wasm-simd.wasm` ...), with a trailing separator. */
export function wasmDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

/**
 * Allows the file:// loader to read model files from `dir` (and below).
 * Call before loading a model from a folder outside the known packages.
 */
export async function allowModelDir(dir: string): Promise<void> {
  allowedModelDirs.add(await realpath(dir));
}

async function readGraphModelArtifacts(url: string): Promise<TfCore.io.ModelArtifacts> {
  const file = await realpath(fileURLToPath(url));
  const dir = path.dirname(file);
  const allowed = [...allowedModelDirs].some((d) => dir === d || dir.startsWith(d + path.sep));
  if (!allowed) throw new ModelError(`refusing to load a model from outside the allowed folders: ${file}`);
  const json = JSON.parse(await readFile(file, 'utf8')) as {
    modelTopology?: unknown;
    format?: string;
    generatedBy?: string;
    convertedBy?: string | null;
    signature?: unknown;
    userDefinedMetadata?: Record<string, unknown>;
    weightsManifest?: { paths: string[]; weights: TfCore.io.WeightsManifestEntry[] }[];
  };
  const specs: TfCore.io.WeightsManifestEntry[] = [];
  const shards: Buffer[] = [];
  for (const group of json.weightsManifest ?? []) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const shard = path.resolve(dir, p);
      if (path.dirname(shard) !== dir) throw new ModelError(`model weight path leaves the model folder: ${p}`);
      shards.push(await readFile(shard));
    }
  }
  const all = Buffer.concat(shards);
  const artifacts: TfCore.io.ModelArtifacts = {
    modelTopology: json.modelTopology as TfCore.io.ModelArtifacts['modelTopology'],
    weightSpecs: specs,
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
  };
  if (json.format !== undefined) artifacts.format = json.format;
  if (json.generatedBy !== undefined) artifacts.generatedBy = json.generatedBy;
  if (json.convertedBy !== undefined) artifacts.convertedBy = json.convertedBy;
  if (json.signature !== undefined) artifacts.signature = json.signature as object;
  if (json.userDefinedMetadata !== undefined) artifacts.userDefinedMetadata = json.userDefinedMetadata as Record<string, object>;
  return artifacts;
}

/**
 * Initialises tfjs-core with the WASM backend (once per process) and the
 * file:// model loader. Resolves to the tfjs-core module.
 *
 * @throws {ModelError} when the packages are missing or the backend fails
 */
export function loadTfjsWasm(): Promise<Tf> {
  runtime ??= (async () => {
    try {
      const tf = require('@tensorflow/tfjs-core') as Tf;
      const wasm = require('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(prefix: string, usePlatformFetch?: boolean): void };
      // Make sure the converter is the copy Human will require too.
      require('@tensorflow/tfjs-converter');
      wasm.setWasmPaths(wasmDir());
      // tfjs's IORouter type says a router returns a handler, but the router
      // registry skips routers that return null (io_router_registry.ts).
      const router = (url: string | string[]): TfCore.io.IOHandler | null => {
        if (typeof url !== 'string' || !url.startsWith('file://')) return null;
        return { load: () => readGraphModelArtifacts(url) };
      };
      tf.io.registerLoadRouter(router as Parameters<typeof tf.io.registerLoadRouter>[0]);
      tf.env().set('PROD', true);
      if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
      await tf.ready();
      return tf;
    } catch (err) {
      runtime = undefined;
      throw new ModelError('cannot start TensorFlow.js on the WebAssembly backend', { cause: err });
    }
  })();
  return runtime;
}
