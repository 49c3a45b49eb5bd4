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
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { BiosealError } from '../errors.js';
import { toHex } from '../util/bytes.js';
import { base64 } from './http.js';
import { signRequest } from './request-signing.js';
import type { TreeHeadJson } from '../audit/index.js';

export interface FleetClientOptions {
  /** The service, e.g. http://127.0.0.1:7392 */
  readonly url: string;
  readonly deviceId: string;
  /** The device's Ed25519 secret key (32 bytes). */
  readonly secretKey: Uint8Array;
  /** For operator calls (register, revoke, publish). */
  readonly operatorToken?: string;
}

/** A raw answer. */
export interface FleetResponse {
  readonly status: number;
  readonly json: any;
}

const fromBase64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));

export class FleetClient {
  constructor(private readonly options: FleetClientOptions) {}

  /** The device's Ed25519 public key. */
  get publicKey(): Uint8Array {
    return ed25519.getPublicKey(this.options.secretKey);
  }

  /**
   * Sends a request, signed by the device (and with the operator token when asked).
   * `body` is sent as given when it is bytes or a string, else as JSON.
   */
  async request(method: string, path: string, body?: unknown, options: { operator?: boolean; sign?: boolean } = {}): Promise<FleetResponse> {
    const bytes = body === undefined ? new Uint8Array(0) : body instanceof Uint8Array ? body : new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body));
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.sign !== false) Object.assign(headers, signRequest({ method, path, body: bytes, deviceId: this.options.deviceId, secretKey: this.options.secretKey }));
    if (options.operator) headers.authorization = `Bearer ${this.options.operatorToken ?? ''}`;
    const res = await fetch(new URL(path, this.options.url), { method, headers, body: method === 'GET' ? undefined : bytes });
    return { status: res.status, json: await res.json() };
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

  private ok(response: FleetResponse): any {
    if (response.status >= 200 && response.status < 300) return response.json;
    const error = response.json?.error;
    throw new BiosealError(typeof error?.code === 'string' ? error.code : 'E_INTERNAL', typeof error?.message === 'string' ? error.message : `HTTP ${response.status}`);
  }
}
