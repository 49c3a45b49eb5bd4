/**
 * What the fido2 factor adds to an unlock once the key has answered: from
 * fido2-assert's output text (the hmac-secret line arriving) to the 32-byte
 * secret ready, i.e. strict parsing of the output, CBOR decoding of the
 * authenticator data and the stored COSE key, the ES256 signature check over
 * authenticatorData || clientDataHash, the flag, rpIdHash and counter checks.
 *
 * No FIDO2 device exists where bioseal is built: the outputs are made in the
 * tools' documented format by the SoftwareAuthenticator stand-in (a real
 * ES256 key), outside the timed part. The device round trip (USB, the key's
 * own signing, the touch, libfido2's start-up) was NOT measured; on a real key
 * it is dominated by the person's touch and the key itself.
 */
import { randomBytes } from 'node:crypto';
import { getAssertionRequest, makeCredentialRequest, newClientData, RP_ID } from '../devices/fido2/requests.js';
import { SoftwareAuthenticator } from '../devices/fido2/software-authenticator.js';
import { parseAssertionOutput, parseMakeCredentialOutput } from '../devices/fido2/tool-output.js';
import { verifyAssertion, verifyMadeCredential } from '../devices/fido2/verify.js';
import { wipe } from '../util/bytes.js';
import { median } from './common.js';
import type { FactorBench } from './factor-common.js';

const WHAT =
  'fido2: fido2-assert output text to 32-byte secret (parse + CBOR + ES256 signature and flag/counter checks), over outputs in the documented format from a software ES256 key; the device round trip was not measured (no FIDO2 device)';
const WARMUP = 5;

export async function benchFido2Factor(options: { runs: number; log: (line: string) => void }): Promise<FactorBench> {
  const runs = Math.max(1, options.runs);
  const auth = new SoftwareAuthenticator();
  const create = newClientData('create');
  const made = await auth.run(makeCredentialRequest({ device: auth.path, clientDataHash: create.hash, userName: 'bioseal bench', userId: new Uint8Array(randomBytes(32)), uv: 'builtin' }));
  const credential = verifyMadeCredential(parseMakeCredentialOutput(made.stdout), { clientDataHash: create.hash, rpId: RP_ID });
  const salt = new Uint8Array(randomBytes(32));
  let counter = credential.counter;

  const times: number[] = [];
  for (let i = 0; i < WARMUP + runs; i++) {
    const clientData = newClientData('get');
    const answer = await auth.run(getAssertionRequest({ device: auth.path, rpId: RP_ID, clientDataHash: clientData.hash, credentialId: credential.credentialId, salt, uv: 'builtin' }));
    const t0 = performance.now();
    const verified = verifyAssertion(parseAssertionOutput(answer.stdout), { clientDataHash: clientData.hash, rpId: RP_ID, publicKey: credential.publicKey, counter });
    const ms = performance.now() - t0;
    counter = verified.counter;
    wipe(verified.secret);
    if (i >= WARMUP) times.push(ms);
  }
  const medianMs = median(times);
  options.log(`fido2: output to secret ${medianMs.toFixed(3)} ms (median of ${runs}); the device round trip was not measured (no FIDO2 device here)`);
  return { factor: 'fido2', available: true, medianMs, runs, what: WHAT };
}
