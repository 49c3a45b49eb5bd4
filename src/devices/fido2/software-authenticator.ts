/**
 * NOT A DEVICE. A software stand-in for a FIDO2 security key behind
 * libfido2's tools, for the fido2 benchmark and tests: no FIDO2 device exists
 * where bioseal is built, so the factor's parsing and verification are
 * exercised against output in the tools' documented formats (fido2-cred(1),
 * fido2-assert(1), fido2-token(1)), produced here with a real ES256 key
 * (node:crypto) and authenticator data laid out per WebAuthn §6.1 / CTAP 2.1
 * §6, with COSE keys and extensions encoded by @simplewebauthn/server's CBOR
 * encoder. The factor never uses this module.
 *
 * It answers ToolRequests like the tools would, and can be told to misbehave
 * (`tamper`) so that tests can check each refusal. Its hmac-secret output is
 * HMAC-SHA-256(credRandom, salt), as CTAP's hmac-secret defines it.
 */
import { createCipheriv, createHash, createHmac, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { concatBytes } from '../../util/bytes.js';
import type { Fido2ToolRunner, ToolRequest, ToolResult } from './tool-runner.js';

type CborValue = Parameters<typeof isoCBOR.encode>[0];

/** WebAuthn authenticator data flags. */
export const FLAG = { UP: 0x01, UV: 0x04, AT: 0x40, ED: 0x80 } as const;

export interface AuthDataParts {
  readonly rpId: string;
  readonly flags: number;
  readonly counter: number;
  readonly attested?: { aaguid: Uint8Array; credentialId: Uint8Array; cosePublicKey: Uint8Array };
  readonly extensions?: Map<string, CborValue>;
}

/** Authenticator data: rpIdHash (32) | flags (1) | signCount (4, big-endian) | attested credential | extensions (CBOR map). */
export function buildAuthData(p: AuthDataParts): Uint8Array {
  const head = new Uint8Array(37);
  head.set(createHash('sha256').update(p.rpId, 'utf8').digest(), 0);
  head[32] = p.flags;
  new DataView(head.buffer).setUint32(33, p.counter >>> 0);
  const parts: Uint8Array[] = [head];
  if (p.attested) {
    const len = new Uint8Array(2);
    new DataView(len.buffer).setUint16(0, p.attested.credentialId.length);
    parts.push(p.attested.aaguid, len, p.attested.credentialId, p.attested.cosePublicKey);
  }
  if (p.extensions) parts.push(isoCBOR.encode(p.extensions));
  return concatBytes(...parts);
}

/** The COSE_Key (RFC 9053) of a P-256 public key, ES256. */
export function coseEs256Key(publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: 'jwk' });
  const coord = (v: string | undefined) => new Uint8Array(Buffer.from(v!, 'base64url'));
  return isoCBOR.encode(new Map<number, number | Uint8Array>([[1, 2], [3, -7], [-1, 1], [-2, coord(jwk.x)], [-3, coord(jwk.y)]]));
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
/** The authenticator data as the tools print it: base64 of its CBOR byte string. */
const authDataLine = (authData: Uint8Array) => b64(isoCBOR.encode(authData));

/** Ways to make the stand-in misbehave, one per check the factor must make. */
export interface Tamper {
  /** Flip a bit of the authenticator data (in the counter) after signing. */
  readonly authData?: boolean;
  /** Sign with another key. */
  readonly wrongKey?: boolean;
  /** Leave out the UV (or UP) flag. */
  readonly noUv?: boolean;
  readonly noUp?: boolean;
  /** Hash another relying party id into the authenticator data. */
  readonly rpId?: string;
  /** Report this signature counter. */
  readonly counter?: number;
  /** Leave out the hmac-secret line (assertions) or extension (credentials). */
  readonly noHmacSecret?: boolean;
  /** Echo this client data hash instead of the one asked for. */
  readonly clientDataHash?: Uint8Array;
  /** Replace the whole output. */
  readonly output?: (honest: string) => string;
}

export interface SoftwareAuthenticatorOptions {
  /** What `fido2-token -I` reports; default: a key with a fingerprint reader and hmac-secret. */
  readonly info?: string;
  /**
   * The key's PIN. When set, the stand-in asks for it where the tools would
   * prompt (fido2-assert -v; fido2-cred without -v, after FIDO_ERR_PIN_REQUIRED).
   */
  readonly pin?: string;
  /** The device path listed by `fido2-token -L`. */
  readonly path?: string;
}

/** `fido2-token -I` of a key with a fingerprint reader (built-in user verification) and hmac-secret. */
export const FINGERPRINT_KEY_INFO = [
  'proto: 0x02',
  'major: 0x05',
  'minor: 0x07',
  'build: 0x01',
  'caps: 0x05 (wink, cbor, msg)',
  'version strings: U2F_V2, FIDO_2_0, FIDO_2_1',
  'extension strings: credProtect, hmac-secret, largeBlobKey',
  'transport strings: usb',
  'algorithms: es256 (public-key), eddsa (public-key)',
  'aaguid: d8522d9f575b486688a9ba99fa02f35b',
  'options: rk, up, uv, noplat, alwaysUv, credMgmt, authnrCfg, bioEnroll, clientPin, largeBlobs, pinUvAuthToken, setMinPINLength, makeCredUvNotRqd',
  'fwversion: 0x50701',
  'pin retries: 8',
  'uv retries: 3',
  '',
].join('\n');

/** `fido2-token -I` of a key without built-in user verification, protected by a PIN. */
export const PIN_KEY_INFO = FINGERPRINT_KEY_INFO.replace('options: rk, up, uv, noplat, alwaysUv, credMgmt, authnrCfg, bioEnroll, clientPin,', 'options: rk, up, noplat, credMgmt, authnrCfg, clientPin,');

/**
 * A software stand-in for one FIDO2 key with one credential slot per id it
 * makes. Records every request it answers.
 */
export class SoftwareAuthenticator implements Fido2ToolRunner {
  readonly path: string;
  readonly requests: ToolRequest[] = [];
  /** Misbehaviour for the next fido2-cred or fido2-assert run (cleared after it). */
  tamper: Tamper = {};
  private readonly info: string;
  private readonly pin: string | undefined;
  private counter = 0;
  private readonly credentials = new Map<string, { key: KeyObject; credRandom: Uint8Array }>();
  private readonly aaguid = new Uint8Array(Buffer.from('d8522d9f575b486688a9ba99fa02f35b', 'hex'));

  constructor(options: SoftwareAuthenticatorOptions = {}) {
    this.path = options.path ?? '/dev/hidraw-software-stand-in';
    this.info = options.info ?? FINGERPRINT_KEY_INFO;
    this.pin = options.pin;
  }

  /** Where the tools would prompt for the PIN, asks the request's PIN source and checks it; a failure result, or undefined to go on. */
  private async checkPin(request: ToolRequest): Promise<ToolResult | undefined> {
    const prompts = request.tool === 'fido2-assert' ? request.args.includes('-v') : request.tool === 'fido2-cred' && !request.args.includes('-v');
    if (this.pin === undefined || !prompts) return undefined;
    const given = await request.pin?.();
    if (!given || given.length === 0) return { exitCode: 1, stdout: '', stderr: `${request.tool}: invalid PIN length\n`, pinMissing: true };
    if (Buffer.from(given).toString('utf8') !== this.pin) return { exitCode: 1, stdout: '', stderr: `${request.tool}: fido_dev_get_assert: FIDO_ERR_PIN_INVALID\n`, pinMissing: false };
    return undefined;
  }

  async run(request: ToolRequest): Promise<ToolResult> {
    this.requests.push(request);
    const [flag] = request.args;
    const answer = (stdout: string): ToolResult => ({ exitCode: 0, stdout, stderr: '', pinMissing: false });
    if (request.tool === 'fido2-token' && flag === '-L') return answer(`${this.path}: vendor=0x1050, product=0x0402 (Software Stand-in FIDO2)\n`);
    if (request.tool === 'fido2-token' && flag === '-I') return answer(this.info);
    // The misbehaviour is for the next ceremony (fido2-cred or fido2-assert) only.
    const tamper = this.tamper;
    this.tamper = {};
    const ok = (stdout: string) => answer(tamper.output ? tamper.output(stdout) : stdout);
    const pinFailure = await this.checkPin(request);
    if (pinFailure) return pinFailure;
    const input = (request.input ?? '').split('\n');
    if (request.tool === 'fido2-cred') return ok(this.makeCredential(input, tamper));
    if (request.tool === 'fido2-assert') {
      const answer = this.getAssertion(input, tamper);
      return answer === undefined ? { exitCode: 1, stdout: '', stderr: 'fido2-assert: fido_dev_get_assert: FIDO_ERR_NO_CREDENTIALS\n', pinMissing: false } : ok(answer);
    }
    return { exitCode: 1, stdout: '', stderr: `${request.tool}: usage\n`, pinMissing: false };
  }

  private flags(base: number, tamper: Tamper): number {
    let f = base | FLAG.UP | FLAG.UV;
    if (tamper.noUv) f &= ~FLAG.UV;
    if (tamper.noUp) f &= ~FLAG.UP;
    return f;
  }

  private signed(authData: Uint8Array, cdh: Uint8Array, key: KeyObject, tamper: Tamper): { authData: Uint8Array; sig: Uint8Array } {
    const signer = tamper.wrongKey ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey : key;
    const sig = new Uint8Array(sign('sha256', concatBytes(authData, cdh), { key: signer, dsaEncoding: 'der' }));
    const out = new Uint8Array(authData);
    if (tamper.authData) out[36]! ^= 0x01; // the signature counter's last byte: still well-formed, no longer signed
    return { authData: out, sig };
  }

  private makeCredential(input: string[], tamper: Tamper): string {
    const [cdhB64, rpId] = input as [string, string];
    const cdh = new Uint8Array(Buffer.from(cdhB64, 'base64'));
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const credentialId = new Uint8Array(randomBytes(64));
    this.credentials.set(Buffer.from(credentialId).toString('base64'), { key: privateKey, credRandom: new Uint8Array(randomBytes(32)) });
    const authData = buildAuthData({
      rpId: tamper.rpId ?? rpId,
      flags: this.flags(FLAG.AT | (tamper.noHmacSecret ? 0 : FLAG.ED), tamper),
      counter: tamper.counter ?? this.counter,
      attested: { aaguid: this.aaguid, credentialId, cosePublicKey: coseEs256Key(publicKey) },
      extensions: tamper.noHmacSecret ? undefined : new Map<string, CborValue>([['hmac-secret', true]]),
    });
    // Self attestation ("packed" without a certificate): signed by the new credential's key.
    const s = this.signed(authData, cdh, privateKey, tamper);
    return [b64(tamper.clientDataHash ?? cdh), rpId, 'packed', authDataLine(s.authData), b64(credentialId), b64(s.sig)].join('\n') + '\n';
  }

  private getAssertion(input: string[], tamper: Tamper): string | undefined {
    const [cdhB64, rpId, idB64, saltB64] = input as [string, string, string, string];
    const credential = this.credentials.get(idB64);
    if (!credential) return undefined;
    const cdh = new Uint8Array(Buffer.from(cdhB64, 'base64'));
    const salt = Buffer.from(saltB64, 'base64');
    const secret = createHmac('sha256', credential.credRandom).update(salt).digest();
    this.counter += 1;
    // The extension carries the output encrypted for the platform (pinUvAuthProtocol 2: iv | AES-256-CBC).
    const iv = randomBytes(16);
    const encrypted = Buffer.concat([iv, createCipheriv('aes-256-cbc', randomBytes(32), iv).setAutoPadding(false).update(secret)]);
    const authData = buildAuthData({
      rpId: tamper.rpId ?? rpId,
      flags: this.flags(tamper.noHmacSecret ? 0 : FLAG.ED, tamper),
      counter: tamper.counter ?? this.counter,
      extensions: tamper.noHmacSecret ? undefined : new Map<string, CborValue>([['hmac-secret', new Uint8Array(encrypted)]]),
    });
    const s = this.signed(authData, cdh, credential.key, tamper);
    const lines = [b64(tamper.clientDataHash ?? cdh), rpId, authDataLine(s.authData), b64(s.sig)];
    if (!tamper.noHmacSecret) lines.push(b64(secret));
    return lines.join('\n') + '\n';
  }
}
