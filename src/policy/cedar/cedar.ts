/**
 * The Cedar engine: `@cedar-policy/cedar-wasm`'s Node build, which reads its
 * WebAssembly from its own folder with `fs` (no network) and compiles it when
 * first imported. Only this folder imports it, so commands that never decide
 * a policy never load it.
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';

export { cedar };
export type { DetailedError, PolicyJson, EntityJson, Context } from '@cedar-policy/cedar-wasm/nodejs';

/** The Cedar library and language versions, e.g. { sdk: "4.13.0", lang: "4.5" }. */
export function cedarVersion(): { readonly sdk: string; readonly lang: string } {
  return { sdk: cedar.getCedarSDKVersion(), lang: cedar.getCedarLangVersion() };
}
