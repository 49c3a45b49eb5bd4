/**
 * The fleet service over HTTPS, with a throwaway CA and certificates made by
 * the `openssl` command: a device pins the CA and runs the 1:1 flow with
 * real CKKS; a client without that CA, plain HTTP to the TLS port and old
 * protocol versions are refused; bad certificate and key files are typed
 * errors at start; and without TLS the service refuses to listen anywhere
 * but loopback. Every server listens on 127.0.0.1 only.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519.js';
import { HeContext, HeKeyHolder, innerProduct, unitVector } from '../../src/he/index.js';
import { FleetClient, isLoopbackAddress, loadTlsCredentials, SqliteFleetStore, startFleetService, type FleetService } from '../../src/fleet/index.js';
import { assertError, readStartedJson, runCli, spawnCli } from '../helpers/cli.js';

const TOKEN = 't'.repeat(43);
const dir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-fleet-tls-'));
const file = (name: string) => path.join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A CA, and a certificate for IP 127.0.0.1 that it signed (valid one day). */
function makeCa(name: string): void {
  openssl('req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
}

before(() => {
  makeCa('ca');
  makeCa('other-ca');
  openssl('req', ...EC, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(file('ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'ext.cnf');
  // Its renewal: a new key, the same name.
  openssl('req', ...EC, '-keyout', 'renewed.key', '-out', 'renewed.csr', '-subj', '/CN=127.0.0.1/O=renewed');
  openssl('x509', '-req', '-in', 'renewed.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'renewed.crt', '-days', '1', '-extfile', 'ext.cnf');
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'stranger.key');
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-aes256', '-pass', 'pass:secret', '-out', 'encrypted.key');
  writeFileSync(file('garbage.crt'), '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
});

after(() => rmSync(dir, { recursive: true, force: true }));

const TLS = { certFile: file('server.crt'), keyFile: file('server.key') };
const ca = () => readFileSync(file('ca.crt'), 'utf8');

async function serveTls(home: string, store: SqliteFleetStore): Promise<FleetService> {
  return startFleetService({ home, host: '127.0.0.1', port: 0, tls: TLS, store, operatorToken: TOKEN, onInternalError: (e) => console.error(e) });
}

/** The SHA-256 fingerprint of the certificate a new TLS connection to `port` is served. */
function servedCertificate(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: ca() }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

/** Installs `name`.crt and `name`.key as the files a service was told to read. */
function install(files: { certFile: string; keyFile: string }, name: string): void {
  writeFileSync(files.certFile, readFileSync(file(`${name}.crt`)));
  writeFileSync(files.keyFile, readFileSync(file(`${name}.key`)));
}

const fingerprint = (name: string) => new X509Certificate(readFileSync(file(`${name}.crt`))).fingerprint256;

async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: any) => {
    assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe('the service over HTTPS', () => {
  let ctx: HeContext;
  let keys: HeKeyHolder;
  let home: string;
  let store: SqliteFleetStore;
  let service: FleetService;

  before(async () => {
    ctx = await HeContext.create();
    keys = HeKeyHolder.generate(ctx);
    home = mkdtempSync(path.join(dir, 'home-'));
    store = await SqliteFleetStore.open({ home });
    service = await serveTls(home, store);
  });
  after(async () => {
    await service?.close();
    await store?.close();
    keys?.dispose();
    ctx?.dispose();
  });

  test('a device that pins the CA registers, enrols and verifies over https://; the score decrypts right', async () => {
    assert.equal(service.tls, true);
    assert.match(service.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const phone = new FleetClient({ url: service.url, ca: ca(), deviceId: 'phone-1', secretKey: ed25519.utils.randomSecretKey(), operatorToken: TOKEN });
    await phone.register(keys.evaluationKeys());
    const vector = (phase: number) => unitVector(Array.from({ length: 64 }, (_, i) => Math.sin(i * 0.37 + phase)));
    await phone.enrol('alice', keys.encryptMatchVector(vector(1)));
    const score = keys.decryptMatchScore(await phone.verify('alice', keys.encryptMatchVector(vector(1.1))));
    assert.ok(Math.abs(score - innerProduct(vector(1), vector(1.1))) < 1e-4);
  });

  test('TLS 1.3 by default, 1.2 accepted, 1.1 refused by the service', async () => {
    const handshake = (options: object) =>
      new Promise<string>((resolve, reject) => {
        const socket = tlsConnect({ host: '127.0.0.1', port: service.port, ca: ca(), ...options }, () => {
          resolve(socket.getProtocol() ?? '');
          socket.end();
        });
        socket.on('error', reject);
      });
    assert.equal(await handshake({}), 'TLSv1.3');
    assert.equal(await handshake({ maxVersion: 'TLSv1.2' }), 'TLSv1.2');
    // The client allows TLS 1.1 (and its ciphers); the refusal is the service's protocol-version alert.
    await assert.rejects(handshake({ minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }), (error: any) => {
      assert.match(String(error.code), /ALERT_PROTOCOL_VERSION/, `${error.code}: ${error.message}`);
      return true;
    });
  });

  test('a client without the CA, or pinning another CA, is refused with a certificate error, and nothing reaches the service', async () => {
    for (const options of [{}, { ca: readFileSync(file('other-ca.crt')) }]) {
      const stranger = new FleetClient({ url: service.url, ...options, deviceId: 'phone-2', secretKey: ed25519.utils.randomSecretKey(), operatorToken: TOKEN });
      await rejectsWith(stranger.register(keys.evaluationKeys()), 'E_IO', /TLS certificate was not accepted \((UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/);
    }
    assert.equal(await store.getDevice('phone-2'), undefined);
  });

  test('plain HTTP to the TLS port gets no HTTP answer', async () => {
    const plain = new FleetClient({ url: service.url.replace('https:', 'http:'), deviceId: 'phone-1', secretKey: ed25519.utils.randomSecretKey() });
    await rejectsWith(plain.latestManifest('m'), 'E_IO', /cannot reach the fleet service/);
    const status = await new Promise<number | Error>((resolve) => {
      httpGet(`http://127.0.0.1:${service.port}/v1/health`, (res) => resolve(res.statusCode ?? 0)).on('error', resolve);
    });
    assert.ok(status instanceof Error, `plain HTTP got status ${String(status)}`);
  });

  test('a CA with an http:// URL, or a URL of another scheme, is E_USAGE', () => {
    const secretKey = ed25519.utils.randomSecretKey();
    assert.throws(() => new FleetClient({ url: 'http://127.0.0.1:1', ca: ca(), deviceId: 'd', secretKey }), { code: 'E_USAGE' });
    assert.throws(() => new FleetClient({ url: 'ftp://127.0.0.1:1', deviceId: 'd', secretKey }), { code: 'E_USAGE' });
  });
});

describe('certificate and key files are checked before the service starts', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'bioseal-fleet-tls-home-'));
  after(() => rmSync(home, { recursive: true, force: true }));
  const start = (tls: { certFile: string; keyFile: string }, now?: () => number) => startFleetService({ home, host: '127.0.0.1', port: 0, tls, operatorToken: TOKEN, now });

  test('a key that does not belong to the certificate is E_USAGE', async () => {
    await rejectsWith(start({ certFile: TLS.certFile, keyFile: file('stranger.key') }), 'E_USAGE', /does not belong to the certificate/);
    // The CA's own key with the server certificate: also a mismatch.
    await rejectsWith(start({ certFile: TLS.certFile, keyFile: file('ca.key') }), 'E_USAGE', /does not belong/);
  });

  test('missing files are E_IO; no certificate, garbage or an encrypted key is E_FORMAT', async () => {
    await rejectsWith(start({ certFile: file('nothing.crt'), keyFile: TLS.keyFile }), 'E_IO', /TLS certificate: .*no such file/);
    await rejectsWith(start({ certFile: TLS.certFile, keyFile: file('nothing.key') }), 'E_IO', /TLS private key: .*no such file/);
    await rejectsWith(start({ certFile: TLS.keyFile, keyFile: TLS.keyFile }), 'E_FORMAT', /no PEM certificate/);
    await rejectsWith(start({ certFile: file('garbage.crt'), keyFile: TLS.keyFile }), 'E_FORMAT', /does not parse/);
    await rejectsWith(start({ certFile: TLS.certFile, keyFile: TLS.certFile }), 'E_FORMAT', /no usable PEM private key/);
    await rejectsWith(start({ certFile: TLS.certFile, keyFile: file('encrypted.key') }), 'E_FORMAT', /encrypted private key/);
  });

  test('a certificate past its expiry, or not yet valid, is E_EXPIRED', async () => {
    const { notAfter } = loadTlsCredentials(TLS);
    await rejectsWith(start(TLS, () => notAfter.getTime() + 1000), 'E_EXPIRED', /expired at/);
    await rejectsWith(start(TLS, () => Date.now() - 86_400_000), 'E_EXPIRED', /not valid before/);
  });
});

describe('a renewed certificate is served without a restart', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'bioseal-fleet-tls-reload-'));
  const live = { certFile: path.join(home, 'live.crt'), keyFile: path.join(home, 'live.key') };
  after(() => rmSync(home, { recursive: true, force: true }));

  test('reloadTls serves the new files on new connections; files that fail the checks leave the old certificate served', async () => {
    install(live, 'server');
    const service = await startFleetService({ home, host: '127.0.0.1', port: 0, tls: live, operatorToken: TOKEN });
    try {
      assert.equal(await servedCertificate(service.port), fingerprint('server'));
      install(live, 'renewed');
      assert.equal(await servedCertificate(service.port), fingerprint('server'), 'nothing changes until asked');
      assert.match(service.reloadTls().subject, /O=renewed/);
      assert.equal(await servedCertificate(service.port), fingerprint('renewed'));
      writeFileSync(live.certFile, readFileSync(file('garbage.crt')));
      await rejectsWith(Promise.resolve().then(() => service.reloadTls()), 'E_FORMAT', /does not parse/);
      install(live, 'server');
      writeFileSync(live.keyFile, readFileSync(file('stranger.key')));
      await rejectsWith(Promise.resolve().then(() => service.reloadTls()), 'E_USAGE', /does not belong to the certificate/);
      rmSync(live.keyFile);
      await rejectsWith(Promise.resolve().then(() => service.reloadTls()), 'E_IO', /no such file/);
      assert.equal(await servedCertificate(service.port), fingerprint('renewed'), 'the last good certificate is still served');
    } finally {
      await service.close();
    }
  });

  test('a service without TLS has nothing to reload: E_USAGE', async () => {
    const service = await startFleetService({ home, host: '127.0.0.1', port: 0, operatorToken: TOKEN });
    try {
      assert.throws(() => service.reloadTls(), { code: 'E_USAGE' });
    } finally {
      await service.close();
    }
  });
});

describe('without TLS the service listens on loopback only', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'bioseal-fleet-bind-home-'));
  after(() => rmSync(home, { recursive: true, force: true }));

  test('asking for 0.0.0.0, ::, a LAN address or a host name without TLS is E_USAGE before anything is bound', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10']) {
      await rejectsWith(startFleetService({ home, host, port: 0, operatorToken: TOKEN }), 'E_USAGE', /without TLS/);
    }
    await rejectsWith(startFleetService({ home, host: 'localhost', port: 0, operatorToken: TOKEN }), 'E_USAGE', /must be an IP address/);
  });

  test('loopback addresses are what isLoopbackAddress says they are', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopbackAddress(a), true, a);
    for (const a of ['0.0.0.0', '10.0.0.1', '::', '::ffff:10.0.0.1', '1127.0.0.1', '127.0.0.1.5', 'localhost', '']) assert.equal(isLoopbackAddress(a), false, a);
  });
});

describe('bioseal fleet serve with TLS', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'bioseal-fleet-tls-cli-'));
  after(() => rmSync(home, { recursive: true, force: true }));

  test('--host 0.0.0.0 without TLS, half a TLS pair, and a mismatched pair are E_USAGE with a clear message', async () => {
    const r = await runCli(['fleet', 'serve', '--host', '0.0.0.0', '--port', '0'], { home });
    assert.match(assertError(r, 'E_USAGE'), /refusing to listen on 0\.0\.0\.0 without TLS/);
    assertError(await runCli(['fleet', 'serve', '--port', '0', '--tls-cert', TLS.certFile], { home }), 'E_USAGE', { message: /both a certificate and a key/ });
    const mismatched = await runCli(['fleet', 'serve', '--port', '0', '--tls-cert', TLS.certFile, '--tls-key', file('stranger.key')], { home });
    assertError(mismatched, 'E_USAGE', { message: /does not belong to the certificate/ });
    assert.doesNotMatch(mismatched.stderr, /\n\s+at /, 'no stack trace');
    assertError(await runCli(['fleet', 'serve', '--port', '0', '--tls-cert', file('nothing.crt'), '--tls-key', TLS.keyFile], { home }), 'E_IO');
  });

  test('SIGHUP reads the certificate and key again; bad files are reported and the old certificate kept', { timeout: 120_000 }, async () => {
    const live = { certFile: path.join(home, 'live.crt'), keyFile: path.join(home, 'live.key') };
    install(live, 'server');
    const child = spawnCli(['fleet', 'serve', '--port', '0', '--tls-cert', live.certFile, '--tls-key', live.keyFile, '--json'], { home });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    try {
      const { port } = await readStartedJson(child);
      assert.equal(await servedCertificate(port), fingerprint('server'));
      install(live, 'renewed');
      child.kill('SIGHUP');
      // The signal is handled between requests: ask until the answer changes (the test's own timeout bounds this).
      while ((await servedCertificate(port)) !== fingerprint('renewed')) await new Promise((r) => setTimeout(r, 50));
      writeFileSync(live.certFile, readFileSync(file('garbage.crt')));
      child.kill('SIGHUP');
      while (!stderr.includes('SIGHUP')) await new Promise((r) => setTimeout(r, 50));
      assert.match(stderr, /warning: SIGHUP: still serving the previous certificate: E_FORMAT: .*does not parse/);
      assert.equal(await servedCertificate(port), fingerprint('renewed'));
    } finally {
      child.kill('SIGTERM');
      const [code] = await once(child, 'close');
      assert.equal(code, 0, stderr);
    }
  });

  test('the certificate and key from BIOSEAL_FLEET_TLS_CERT/KEY: it serves https:// on 127.0.0.1', async () => {
    const child = spawnCli(['fleet', 'serve', '--host', '127.0.0.1', '--port', '0', '--json'], { home, env: { BIOSEAL_FLEET_TLS_CERT: TLS.certFile, BIOSEAL_FLEET_TLS_KEY: TLS.keyFile } });
    try {
      const started = await readStartedJson(child);
      assert.match(started.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(started.tls, true);
      const client = new FleetClient({ url: started.url, ca: ca(), deviceId: 'd', secretKey: ed25519.utils.randomSecretKey() });
      assert.deepEqual((await client.request('GET', '/v1/health', undefined, { sign: false })).json, { ok: true, backend: 'sqlite' });
    } finally {
      child.kill('SIGTERM');
      const [code] = await once(child, 'close');
      assert.equal(code, 0);
    }
  });
});
