/**
 * Debian's Chromium for measurements and tests that need a real browser:
 * where it lives and the flags that keep it off the network (no background
 * fetches, no component updates, every host but localhost unresolvable).
 * playwright-core, which drives it, is a development dependency and is
 * imported on demand by the callers.
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Offline flags; --no-sandbox because the tests and benchmarks may run as root. */
export const OFFLINE_CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-default-apps',
  '--disable-domain-reliability',
  '--disable-breakpad',
  '--metrics-recording-only',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost',
];

/** A virtual CTAP 2.1 platform authenticator with UV and PRF (DevTools WebAuthn.addVirtualAuthenticator options). */
export function virtualAuthenticatorOptions(o: { hasPrf?: boolean; hasUserVerification?: boolean; isUserVerified?: boolean; automaticPresenceSimulation?: boolean } = {}) {
  return {
    protocol: 'ctap2',
    ctap2Version: 'ctap2_1',
    transport: 'internal',
    hasResidentKey: true,
    hasUserVerification: o.hasUserVerification ?? true,
    isUserVerified: o.isUserVerified ?? true,
    hasPrf: o.hasPrf ?? true,
    automaticPresenceSimulation: o.automaticPresenceSimulation ?? true,
  } as const;
}
