/**
 * A device's (and an operator's) side of the fleet API: signed requests and
 * typed answers. The device keeps its Ed25519 secret key and its CKKS key
 * holder; the service gets only public keys and ciphertexts.
 *
 * @example
 * const client = new FleetClient({ url, deviceId: 'phone-1', secretKey, operatorToken });
 * await client.register(keyHolder.evaluationKeys());
 * await client.enrol('alice', keyHolder.encryptMatchVector(enrolled));
 * const score = keyHolder.decryptMatchScore(await client.verify('alice', keyHolder.encryptMatchVector(fresh)));
 *
 * Over HTTPS, `ca` pins the service's certificate to one CA: only a chain
 * to that CA is accepted, and the system's CAs are not consulted.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ed25519 } from '@noble/curves/ed25519.js';
import { BiosealError, IOError, RateLimitError, UsageError } from '../errors.js';
import { toHex } from '../util/bytes.js';
import { base64 } from './http.js';
import { signRequest } from './request-signing.js';
import type { TreeHeadJson } from '../audit/index.js';

export interface FleetClientOptions {
  /** The service, e.g. http://127.0.0.1:7392 or https://fleet.example.org:7392 */
  readonly url: string;
  /** For https:// URLs: the CA certificate(s) (PEM) the service's certificate must chain to, instead of the system's CAs. */
  readonly ca?: string | Uint8Array;
  readonly deviceId: string;
  /** The device's Ed25519 secret key (32 bytes). */
  readonly secretKey: Uint8Array;
  /** For operator calls (register, revoke, publish). */
  readonly operatorToken?: string;
}

/** A raw answer. */
export interface FleetResponse {
  readonly status: number;
  /** The body as JSON (null when it is not JSON). */
  readonly json: any;
  /** For 429: how long the service asks to wait (Retry-After), in milliseconds. */
  readonly retryAfterMs?: number;
}

const fromBase64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));

/** Node's codes for a server certificate that is not accepted (node:tls, OpenSSL X509_V_ERR_*). */
const CERTIFICATE_ERROR = /^(?:ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_|HOSTNAME_MISMATCH)/;

export class FleetClient {
  private readonly base: URL;

  /** @throws UsageError for a URL that is not http:// or https://, or a CA with an http:// URL. */
  constructor(private readonly options: FleetClientOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new UsageError(`not a URL: ${String(options.url).slice(0, 200)}`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new UsageError('the fleet service URL must start with http:// or https://');
    if (options.ca !== undefined && base.protocol !== 'https:') throw new UsageError('a CA applies only to an https:// service URL');
    this.base = base;
  }

  /** The device's Ed25519 public key. */
  get publicKey(): Uint8Array {
    return ed25519.getPublicKey(this.options.secretKey);
  }

  /**
   * Sends a request, signed by the device (and with the operator token when asked).
   * `body` is sent as given when it is bytes or a string, else as JSON.
   * @throws IOError when the service cannot be reached or its TLS certificate is not accepted.
   */
  async request(method: string, path: string, body?: unknown, options: { operator?: boolean; sign?: boolean } = {}): Promise<FleetResponse> {
    const bytes = body === undefined ? new Uint8Array(0) : body instanceof Uint8Array ? body : new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body));
    const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(bytes.length) };
    if (options.sign !== false) Object.assign(headers, signRequest({ method, path, body: bytes, deviceId: this.options.deviceId, secretKey: this.options.secretKey }));
    if (options.operator) headers.authorization = `Bearer ${this.options.operatorToken ?? ''}`;
    const url = new URL(path, this.base);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req =
        url.protocol === 'https:'
          ? httpsRequest(url, { method, headers, ...(this.options.ca === undefined ? {} : { ca: typeof this.options.ca === 'string' ? this.options.ca : Buffer.from(this.options.ca) }) }, resolve)
          : httpRequest(url, { method, headers }, resolve);
      req.on('error', (error) => reject(this.transportError(error)));
      req.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    });
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
    } catch (error) {
      throw this.transportError(error as Error);
    }
    let json: any = null;
    try {
      json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      // Not JSON (a proxy's error page, say): the status still says what happened.
    }
    const retryAfter = res.headers['retry-after'];
    if (res.statusCode === 429 && retryAfter !== undefined && /^\d{1,9}$/.test(retryAfter)) return { status: 429, json, retryAfterMs: Number(retryAfter) * 1000 };
    return { status: res.statusCode ?? 0, json };
  }

  /** A failed connection as IOError; a refused certificate says so. */
  private transportError(error: Error): IOError {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (CERTIFICATE_ERROR.test(code)) {
      return new IOError(`the fleet service's TLS certificate was not accepted (${code}: ${error.message})${this.options.ca === undefined ? '; pass its CA as "ca"' : ''}`, { cause: error });
    }
    return new IOError(`cannot reach the fleet service at ${this.base.origin}: ${code ? `${code}: ` : ''}${error.message}`, { cause: error });
  }

  /** Registers this device (an operator call, signed by the device's own key). Returns whether its keys enable 1:N search. */
  async register(evaluationKeys: Uint8Array): Promise<{ search: boolean }> {
    return this.ok(await this.request('POST', '/v1/devices', { id: this.options.deviceId, public_key: toHex(this.publicKey), evaluation_keys: base64(evaluationKeys) }, { operator: true }));
  }

  /** Stores an encrypted template for `person`. */
  async enrol(person: string, template: Uint8Array): Promise<void> {
    this.ok(await this.request('POST', '/v1/enrolments', { person, template: base64(template) }));
  }

  /** The encrypted score of `probe` against `person`'s template, for the device's key holder to decrypt. */
  async verify(person: string, probe: Uint8Array): Promise<Uint8Array> {
    return fromBase64(this.ok(await this.request('POST', '/v1/verify', { person, probe: base64(probe) })).score);
  }

  /** Adds an encrypted gallery group (made with the holder's public key) to `holder`'s gallery. */
  async addGalleryGroup(holder: string, labels: readonly string[], group: Uint8Array): Promise<void> {
    this.ok(await this.request('POST', `/v1/gallery/${encodeURIComponent(holder)}/groups`, { labels, group: base64(group) }));
  }

  /** Searches this device's gallery: one encrypted result per group. */
  async search(query: Uint8Array): Promise<{ labels: string[]; scores: Uint8Array }[]> {
    const { groups } = this.ok(await this.request('POST', '/v1/gallery/search', { query: base64(query) }));
    return (groups as { labels: string[]; scores: string }[]).map((g) => ({ labels: g.labels, scores: fromBase64(g.scores) }));
  }

  /** Reports this device's audit log head, with the consistency proof from the last one reported. */
  async postAuditHead(head: TreeHeadJson, consistency: readonly Uint8Array[] = []): Promise<'recorded' | 'unchanged'> {
    return this.ok(await this.request('POST', '/v1/audit-heads', { head, consistency: consistency.map(toHex) })).outcome;
  }

  /** The latest published manifest of a model (its file text, for `bioseal update apply`). */
  async latestManifest(name: string): Promise<{ version: number; manifest: string }> {
    return this.ok(await this.request('GET', `/v1/models/${encodeURIComponent(name)}`));
  }

  /** Publishes a manifest file's text (an operator call). */
  async publishManifest(text: string): Promise<{ name: string; version: number }> {
    return this.ok(await this.request('POST', '/v1/models', text, { operator: true, sign: false }));
  }

  /** @throws BiosealError with the service's code for any answer but 2xx; RateLimitError (with the wait) for 429. */
  private ok(response: FleetResponse): any {
    if (response.status >= 200 && response.status < 300) return response.json;
    const error = response.json?.error;
    if (response.status === 429) throw new RateLimitError(typeof error?.message === 'string' ? error.message : 'rate limited by the fleet service', response.retryAfterMs ?? 1000);
    throw new BiosealError(typeof error?.code === 'string' ? error.code : 'E_INTERNAL', typeof error?.message === 'string' ? error.message : `HTTP ${response.status}`);
  }
}
