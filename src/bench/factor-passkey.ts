/**
 * `bioseal bench`: what the passkey factor adds to an unlock after the
 * person's touch. Real assertions (with PRF outputs) are captured from
 * Debian's Chromium with a virtual authenticator (UV and PRF, ES256) driven
 * over the DevTools protocol, each answering a real ceremony of the server;
 * then, with the browser closed, each is timed from its JSON body to the
 * 32-byte slot secret: parsing, verification with @simplewebauthn/server
 * (origin, RP ID, challenge, signature, UV, counter) and the HKDF, as the
 * server and the factor do them. Not available when Chromium or
 * playwright-core (a development dependency) is missing.
 */
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { FactorBench } from './factor-common.js';
import { median } from './common.js';
import { CHROMIUM_PATH, OFFLINE_CHROMIUM_ARGS, virtualAuthenticatorOptions } from './headless-chromium.js';
import { CeremonyServer, PRF_SALT_LENGTH, type RegisteredCredential } from '../webauthn/index.js';
import { parseAuthenticationResponse } from '../webauthn/response-json.js';
import { verifyAssertion } from '../webauthn/verify.js';
import { passkeySlotSecret } from '../factors/passkey.js';
import { wipe } from '../util/bytes.js';

const WHAT = 'passkey: assertion JSON with PRF output -> verified (@simplewebauthn/server, ES256) -> 32-byte slot secret (HKDF); assertions from a Chromium virtual authenticator';

type Playwright = typeof import('playwright-core');

/** One assertion as the page posted it, with the challenge and salt of its ceremony. */
interface Captured {
  readonly body: string;
  readonly challenge: string;
  readonly salt: Uint8Array;
}

export async function benchPasskeyFactor(options: { runs: number; log: (line: string) => void }): Promise<FactorBench> {
  const unavailable = (reason: string): FactorBench => ({ factor: 'passkey', available: false, reason, medianMs: null, runs: 0, what: WHAT });
  if (!existsSync(CHROMIUM_PATH)) return unavailable(`${CHROMIUM_PATH} is not installed`);
  let playwright: Playwright;
  try {
    playwright = await import('playwright-core');
  } catch {
    return unavailable('playwright-core (a development dependency) is not installed');
  }
  options.log(`passkey: capturing ${options.runs} assertion(s) from Chromium with a virtual authenticator`);
  const { credential, captured, origin } = await captureAssertions(playwright, options.runs);
  const enrolmentId = new Uint8Array(randomBytes(16));
  let counter = credential.counter;
  const times: number[] = [];
  for (const c of captured) {
    const start = performance.now();
    const body = JSON.parse(c.body) as { credential: unknown };
    const assertion = await verifyAssertion(parseAuthenticationResponse(body.credential), { challenge: c.challenge, origin }, { ...credential, counter });
    const secret = passkeySlotSecret(assertion.prfOutput, enrolmentId, c.salt);
    times.push(performance.now() - start);
    wipe(assertion.prfOutput, secret);
    counter = assertion.newCounter;
  }
  return { factor: 'passkey', available: true, medianMs: median(times), runs: times.length, what: WHAT };
}

/** Registers a passkey and records `runs` assertions, each answering its own ceremony. */
async function captureAssertions(playwright: Playwright, runs: number): Promise<{ credential: RegisteredCredential; captured: Captured[]; origin: string }> {
  const browser = await playwright.chromium.launch({ executablePath: CHROMIUM_PATH, args: [...OFFLINE_CHROMIUM_ARGS] });
  const server = await CeremonyServer.start({ timeoutMs: 60_000 });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', { options: virtualAuthenticatorOptions() });
    const complete = async <T>(ceremony: { url: string; result: Promise<T> }): Promise<T> => {
      await page.goto(ceremony.url);
      await page.click('#start');
      return ceremony.result;
    };
    const credential = await complete(server.register({ userName: 'bioseal bench' }));
    // What the page fetched (the ceremony's challenge) and what it posted back, as they pass.
    let challenge = '';
    let body = '';
    await page.route('**/options', async (route) => {
      const response = await route.fetch();
      const text = await response.text();
      challenge = (JSON.parse(text) as { publicKey: { challenge: string } }).publicKey.challenge;
      await route.fulfill({ response, body: text });
    });
    await page.route('**/result', async (route) => {
      body = route.request().postData() ?? '';
      await route.continue();
    });
    const captured: Captured[] = [];
    let counter = credential.counter;
    for (let i = 0; i < runs; i++) {
      const salt = new Uint8Array(randomBytes(PRF_SALT_LENGTH));
      const assertion = await complete(server.authenticate({ credential: { ...credential, counter }, salt }));
      wipe(assertion.prfOutput);
      counter = assertion.newCounter;
      captured.push({ body, challenge, salt });
    }
    return { credential, captured, origin: server.origin };
  } finally {
    await server.close();
    await browser.close();
  }
}
