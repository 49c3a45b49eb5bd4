/**
 * TLS for the fleet service: a certificate (chain) and its private key from
 * PEM files, checked before the service starts so that a bad configuration
 * is a typed error, not a failed handshake later. Served with node:https at
 * TLS 1.2 or above (1.3 when the client offers it) and Node's default
 * cipher suites, which leave out the weak ones.
 *
 * Only with TLS may the service listen on an address other than loopback;
 * the plain-HTTP service stays on loopback behind a TLS-terminating proxy.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import { ExpiredError, FormatError, IOError, UsageError } from '../errors.js';
import { describeFsError } from '../util/atomic-file.js';

/** Environment variables for `bioseal fleet serve --tls-cert/--tls-key`. */
export const FLEET_TLS_CERT_ENV = 'BIOSEAL_FLEET_TLS_CERT';
export const FLEET_TLS_KEY_ENV = 'BIOSEAL_FLEET_TLS_KEY';

/** The lowest protocol version the service accepts. */
export const TLS_MIN_VERSION = 'TLSv1.2';

export interface FleetTlsFiles {
  /** PEM: the service's certificate first, then any intermediates. */
  readonly certFile: string;
  /** PEM: the certificate's private key, unencrypted (PKCS#8, PKCS#1 or SEC1). */
  readonly keyFile: string;
}

/** A checked certificate chain and key, ready for node:https. */
export interface TlsCredentials {
  readonly cert: string;
  readonly key: string;
  /** The leaf certificate's subject and expiry, to report at start. */
  readonly subject: string;
  readonly notAfter: Date;
}

/** Larger PEM files are not certificates or keys. */
const MAX_PEM_BYTES = 1024 * 1024;
const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function readPem(file: string, what: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new IOError(`cannot read the TLS ${what}: ${describeFsError(error, file).message}`, { cause: error });
  }
  if (bytes.length > MAX_PEM_BYTES) throw new FormatError(`${file} is too large to be a PEM TLS ${what}`);
  return bytes.toString('utf8');
}

/**
 * Reads and checks the certificate chain and key: every certificate parses
 * and is valid at `now`, and the key belongs to the first (leaf) certificate.
 * @throws IOError when a file is missing or unreadable; FormatError when it
 * holds no PEM certificate, or no usable unencrypted key; ExpiredError for a
 * certificate outside its validity period; UsageError when the key does not
 * match the certificate.
 * @example const tls = loadTlsCredentials({ certFile: 'fleet.crt', keyFile: 'fleet.key' });
 */
export function loadTlsCredentials(files: FleetTlsFiles, now: number = Date.now()): TlsCredentials {
  const cert = readPem(files.certFile, 'certificate');
  const key = readPem(files.keyFile, 'private key');
  const blocks = cert.match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) throw new FormatError(`${files.certFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  const chain = blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new FormatError(`certificate ${i + 1} in ${files.certFile} does not parse`, { cause: error });
    }
  });
  for (const [i, c] of chain.entries()) {
    const from = new Date(c.validFrom);
    const to = new Date(c.validTo);
    const which = i === 0 ? 'the TLS certificate' : `certificate ${i + 1} of the chain`;
    if (now >= to.getTime()) throw new ExpiredError(`${which} in ${files.certFile} (${c.subject.replace(/\n/g, ', ')}) expired at ${to.toISOString()}`);
    if (now < from.getTime()) throw new ExpiredError(`${which} in ${files.certFile} is not valid before ${from.toISOString()}`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    // PKCS#8 "ENCRYPTED PRIVATE KEY", or a traditional key with "Proc-Type: 4,ENCRYPTED".
    const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|^Proc-Type: 4,ENCRYPTED/m.test(key) || (error as NodeJS.ErrnoException).code === 'ERR_MISSING_PASSPHRASE';
    throw new FormatError(
      encrypted ? `${files.keyFile} holds an encrypted private key: give the service an unencrypted one (mode 0600)` : `${files.keyFile} holds no usable PEM private key`,
      { cause: error },
    );
  }
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(privateKey)) throw new UsageError(`the private key in ${files.keyFile} does not belong to the certificate in ${files.certFile}`);
  return { cert, key, subject: leaf.subject.replace(/\n/g, ', '), notAfter: new Date(leaf.validTo) };
}

/** The node:https options for `credentials`: TLS 1.2 at least, Node's default cipher suites. */
export function serverTlsOptions(credentials: TlsCredentials): SecureContextOptions {
  return { cert: credentials.cert, key: credentials.key, minVersion: TLS_MIN_VERSION };
}

/** Whether `address` (a peer or a bind address) is loopback: 127.0.0.0/8, ::1, or IPv4-mapped 127.0.0.0/8. */
export function isLoopbackAddress(address: string): boolean {
  const v4 = /^(?:::ffff:)?(\d+)\.\d+\.\d+\.\d+$/i.exec(address);
  if (v4) return isIP(address.replace(/^::ffff:/i, '')) === 4 && v4[1] === '127';
  return address === '::1';
}
