/**
 * WebAuthn ceremonies on loopback, for factors that need a passkey: a
 * registration, or an assertion that yields a PRF output checked together
 * with a verified signature. See server.ts for the protocol and its checks.
 */
import { CeremonyServer } from './server.js';

export { CeremonyServer, DEFAULT_CEREMONY_TIMEOUT_MS, type Ceremony } from './server.js';
export { PRF_SALT_LENGTH, PRF_OUTPUT_LENGTH, RP_ID, type StoredCredential } from './relying-party.js';
export type { RegisteredCredential, VerifiedAssertion } from './verify.js';

/** Runs `use` with a fresh ceremony server, which is closed afterwards. */
export async function withCeremonyServer<T>(options: { timeoutMs?: number }, use: (server: CeremonyServer) => Promise<T>): Promise<T> {
  const server = await CeremonyServer.start(options);
  try {
    return await use(server);
  } finally {
    await server.close();
  }
}
