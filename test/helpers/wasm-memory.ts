/**
 * Measures the WebAssembly linear memory of modules instantiated in this
 * thread, so that a test can tell whether objects living inside a module (SEAL's
 * ciphertexts) are freed. Unlike the process's RSS, which moves with the
 * JavaScript garbage collector and the C allocator, a module's memory grows only
 * when its own allocator runs out of free space, and the same sequence of
 * allocations grows it the same way on every run.
 *
 * Import this module before the module under test is instantiated.
 */
interface Memory {
  readonly buffer: ArrayBuffer;
}
interface WebAssemblyApi {
  instantiate(...args: unknown[]): Promise<unknown>;
  Instance: abstract new (...args: never[]) => { readonly exports: Record<string, unknown> };
  Memory: abstract new (...args: never[]) => Memory;
}

const wasm = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
const memories: Memory[] = [];
const instantiate = wasm.instantiate.bind(wasm);

wasm.instantiate = async (...args: unknown[]): Promise<unknown> => {
  const result = await instantiate(...args);
  const instance = result instanceof wasm.Instance ? result : (result as { instance: InstanceType<WebAssemblyApi['Instance']> }).instance;
  for (const value of Object.values(instance.exports)) if (value instanceof wasm.Memory) memories.push(value);
  return result;
};

/** Bytes of linear memory held by the modules instantiated since this module loaded. */
export function wasmMemoryBytes(): number {
  if (memories.length === 0) throw new Error('no WebAssembly module has been instantiated since test/helpers/wasm-memory.ts was loaded');
  return memories.reduce((sum, memory) => sum + memory.buffer.byteLength, 0);
}
