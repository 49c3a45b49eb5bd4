/**
 * The TPM device layer (src/devices/tpm/) against a real software TPM
 * (swtpm on loopback, started here): sealing and unsealing through
 * tpm2-tools, with and without a PCR policy; surviving a TPM restart;
 * refusing after a PCR is extended, on another TPM's state, and for a
 * changed sealed blob; an unreachable or silent TPM; missing tools; no
 * objects left loaded and no working files left behind. Plus the pure parts:
 * PCR lists, TCTI resolution, the mapping of tool errors.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

// Every tpm2-tools working directory is made under this TMPDIR, so the tests can see that none is left.
const TMP = mkdtempSync(path.join(os.tmpdir(), 'bioseal-tpm-test-'));
process.env.TMPDIR = TMP;

import { DeviceError } from '../../src/errors.js';
import { parsePcrList, pcrMask, pcrSelection, pcrsFromMask } from '../../src/devices/tpm/pcrs.js';
import { checkTcti, resolveTcti } from '../../src/devices/tpm/tcti.js';
import { DEFAULT_PRIMARY, sealSecret, unsealSecret, type SealedSecret } from '../../src/devices/tpm/seal.js';
import { toolFailure } from '../../src/devices/tpm/tool-errors.js';
import { biosealError } from '../enrolment/helpers.js';
import { startTestTpm, type TestTpm } from '../helpers/swtpm.js';

/** A DeviceError matcher: failure class and message. */
function deviceError(failure: DeviceError['failure'], message: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof DeviceError, `expected a DeviceError, got ${String((e as Error)?.stack ?? e)}`);
    assert.equal(e.code, 'E_DEVICE');
    assert.equal(e.failure, failure, e.message);
    assert.match(e.message, message);
    return true;
  };
}

/** tpm2-tools working directories left in TMPDIR. */
function leftovers(): string[] {
  return readdirSync(TMP).filter((n) => n.startsWith('bioseal-tpm-'));
}

after(() => rmSync(TMP, { recursive: true, force: true }));

describe('PCR lists', () => {
  test('parsePcrList accepts distinct PCRs 0..23 and sorts them', () => {
    assert.deepEqual(parsePcrList('0,7'), [0, 7]);
    assert.deepEqual(parsePcrList('7'), [7]);
    assert.deepEqual(parsePcrList('23,0,11'), [0, 11, 23]);
  });

  test('parsePcrList refuses anything else with E_USAGE', () => {
    for (const bad of ['', '24', '7,7', '0,,7', '0, 7', 'a', '-1', '0-7', '7,', '100', '0x7']) {
      assert.throws(() => parsePcrList(bad), biosealError('E_USAGE', /--pcrs/), JSON.stringify(bad));
    }
  });

  test('a PCR list survives the slot bitmap, and selections name the sha256 bank', () => {
    for (const pcrs of [[], [0], [7], [0, 7], [1, 8, 16, 23]]) assert.deepEqual(pcrsFromMask(pcrMask(pcrs)), pcrs);
    assert.deepEqual([...pcrMask([0, 7, 8, 23])], [0x81, 0x01, 0x80]);
    assert.equal(pcrSelection([0, 7]), 'sha256:0,7');
    assert.throws(() => pcrsFromMask(new Uint8Array(4)), biosealError('E_FORMAT'));
  });
});

describe('TCTI resolution', () => {
  const none = () => false;
  test('the given TCTI first, then BIOSEAL_TPM_TCTI, then /dev/tpmrm0, then /dev/tpm0', () => {
    const env = { BIOSEAL_TPM_TCTI: 'swtpm:host=127.0.0.1,port=2321' };
    assert.equal(resolveTcti('mssim:port=2321', env, none), 'mssim:port=2321');
    assert.equal(resolveTcti(undefined, env, none), 'swtpm:host=127.0.0.1,port=2321');
    assert.equal(resolveTcti(undefined, {}, () => true), 'device:/dev/tpmrm0');
    assert.equal(resolveTcti(undefined, {}, (f) => f === '/dev/tpm0'), 'device:/dev/tpm0');
  });

  test('no TPM and nothing configured: E_DEVICE unavailable, saying how to name one', () => {
    assert.throws(() => resolveTcti(undefined, {}, none), deviceError('unavailable', /no TPM on this machine.*--tcti/));
  });

  test('a malformed TCTI is E_USAGE', () => {
    for (const bad of ['', 'Swtpm', 'swtpm:host=a b', 'swtpm:\n', `device:${'x'.repeat(600)}`, ':port=1']) {
      assert.throws(() => checkTcti(bad), biosealError('E_USAGE', /not a TCTI/), JSON.stringify(bad));
    }
    assert.throws(() => resolveTcti(undefined, { BIOSEAL_TPM_TCTI: 'bad tcti' }, none), biosealError('E_USAGE'));
  });
});

describe('tool errors', () => {
  const tcti = 'swtpm:host=127.0.0.1,port=9';
  test('a policy failure means the PCRs changed; an integrity failure means another TPM', () => {
    const policy = 'ERROR:esys:src/tss2-esys/api/Esys_Unseal.c:98:Esys_Unseal() Esys Finish ErrorCode (0x0000099d)\nERROR: Esys_Unseal(0x99D) - tpm:session(1):a policy check failed\nERROR: Unable to run tpm2_unseal\n';
    assert.throws(() => {
      throw toolFailure('tpm2_unseal', tcti, policy);
    }, deviceError('refused', /PCR values changed since enrolment/));
    const integrity = 'ERROR: Eys_Load(0x1DF) - tpm:parameter(1):integrity check failed\nERROR: Unable to run tpm2_load\n';
    assert.throws(() => {
      throw toolFailure('tpm2_load', tcti, integrity);
    }, deviceError('refused', /belongs to another TPM/));
  });

  test('blobs the tools cannot unmarshal come from a damaged record: E_FORMAT', () => {
    for (const stderr of [
      'ERROR: Error deserializing public structure: 0x90006\nERROR: The input file needs to be a valid TPM2B_PUBLIC data structure\n',
      'ERROR: Eys_Load(0x9000B) - mu:A parameter has a bad value\n',
    ]) {
      const e = toolFailure('tpm2_load', tcti, stderr);
      assert.equal(e.code, 'E_FORMAT', stderr);
      assert.match(e.message, /tpm enrolment record is malformed/);
    }
  });

  test('an unloadable TCTI is unavailable; object memory, lockout and other codes are told apart', () => {
    const cases: [string, DeviceError['failure'], RegExp][] = [
      ['ERROR:tcti:src/util/io.c:262:socket_connect() Failed to connect to host 127.0.0.1, port 9: errno 111: Connection refused\nERROR: Could not load tcti, got: "x"\n', 'unavailable', /not reachable: connection refused/],
      ['Failed to open specified TCTI device file /dev/tpmrm0: No such file or directory\nERROR: Could not load tcti, got: "device:/dev/tpmrm0"\n', 'unavailable', /not reachable: no such device/],
      ['ERROR: Esys_Load(0x902) - tpm:warn(2.0): out of memory for object contexts\n', 'unavailable', /out of memory for object contexts/],
      ['ERROR: Esys_Unseal(0x921) - tpm:warn(2.0): authorizations for objects subject to DA protection are not allowed at this time\n', 'refused', /dictionary-attack lockout/],
      ['ERROR: Esys_CreatePrimary(0x9A2) - tpm:session(1):the authorization HMAC check failed\n', 'refused', /owner hierarchy without a password/],
      ['ERROR: Esys_Load(0xA0000) - tcti:IO failure\n', 'unavailable', /not reachable/],
      ['ERROR: Esys_Load(0x2C4) - tpm:handle(2):value is out of range\nERROR: Unable to run tpm2_load\n', 'refused', /the TPM refused tpm2_load: Esys_Load\(0x2C4\) - tpm:handle\(2\):value is out of range$/],
      ['ERROR: something unexpected\n', 'refused', /tpm2_load failed: something unexpected/],
    ];
    for (const [stderr, failure, message] of cases) {
      assert.throws(() => {
        throw toolFailure('tpm2_load', tcti, stderr);
      }, deviceError(failure, message), stderr);
    }
  });
});

describe('sealing in a real software TPM', () => {
  let tpm: TestTpm;
  let other: TestTpm | undefined;
  const secret = new Uint8Array(randomBytes(32));
  let bound: SealedSecret;
  let unbound: SealedSecret;

  before(async () => {
    tpm = await startTestTpm();
  });
  after(async () => {
    await tpm?.dispose();
    await other?.dispose();
  });

  test('seals without PCRs and unseals the same 32 bytes; the blobs are TPM2B structures, not the secret', async () => {
    unbound = await sealSecret(secret, [], { tcti: tpm.tcti });
    assert.deepEqual(unbound.pcrs, []);
    assert.deepEqual(unbound.primary, DEFAULT_PRIMARY);
    for (const blob of [unbound.public, unbound.private]) {
      assert.equal((blob[0]! << 8) | blob[1]!, blob.length - 2);
      assert.equal(Buffer.from(blob).indexOf(Buffer.from(secret)), -1, 'the secret must not appear in the blobs');
    }
    assert.deepEqual(await unsealSecret(unbound, { tcti: tpm.tcti }), secret);
  });

  test('seals to PCRs 0 and 7 and unseals while they hold their values', async () => {
    bound = await sealSecret(secret, [0, 7], { tcti: tpm.tcti });
    assert.deepEqual(bound.pcrs, [0, 7]);
    assert.deepEqual(await unsealSecret(bound, { tcti: tpm.tcti }), secret);
  });

  test('leaves no transient object or session loaded, and no working directory behind', async () => {
    assert.equal(tpm.tool('tpm2_getcap', ['handles-transient']).trim(), '');
    assert.equal(tpm.tool('tpm2_getcap', ['handles-loaded-session']).trim(), '');
    assert.equal(tpm.tool('tpm2_getcap', ['handles-saved-session']).trim(), '');
    assert.deepEqual(leftovers(), []);
  });

  test('many unseals in a row do not exhaust the TPM\'s object memory', async () => {
    for (let i = 0; i < 6; i++) assert.deepEqual(await unsealSecret(i % 2 ? bound : unbound, { tcti: tpm.tcti }), secret);
  });

  test('survives a TPM restart (same state, fresh PCRs)', async () => {
    await tpm.restart();
    assert.deepEqual(await unsealSecret(unbound, { tcti: tpm.tcti }), secret);
    assert.deepEqual(await unsealSecret(bound, { tcti: tpm.tcti }), secret);
  });

  test('refuses once a bound PCR is extended, saying the PCR values changed; an unbound seal still opens', async () => {
    tpm.extendPcr(7);
    await assert.rejects(unsealSecret(bound, { tcti: tpm.tcti }), deviceError('refused', /PCR values changed since enrolment/));
    assert.deepEqual(await unsealSecret(unbound, { tcti: tpm.tcti }), secret);
    assert.deepEqual(leftovers(), [], 'a refusal leaves no working directory either');
    assert.equal(tpm.tool('tpm2_getcap', ['handles-transient']).trim(), '');
  });

  test('a PCR outside the binding may change; a reboot (restart) restores the bound PCRs', async () => {
    tpm.extendPcr(16);
    await tpm.restart();
    tpm.extendPcr(16);
    assert.deepEqual(await unsealSecret(bound, { tcti: tpm.tcti }), secret);
  });

  test('refuses on another TPM\'s state: the enrolment belongs to another TPM', async () => {
    other = await startTestTpm();
    for (const sealed of [bound, unbound]) {
      await assert.rejects(unsealSecret(sealed, { tcti: other.tcti }), deviceError('refused', /belongs to another TPM/));
    }
  });

  test('refuses a sealed blob changed by one bit', async () => {
    const priv = new Uint8Array(unbound.private);
    priv[priv.length - 5]! ^= 1;
    await assert.rejects(unsealSecret({ ...unbound, private: priv }, { tcti: tpm.tcti }), deviceError('refused', /another TPM|integrity/));
    const pub = new Uint8Array(unbound.public);
    pub[pub.length - 3]! ^= 1;
    await assert.rejects(unsealSecret({ ...unbound, public: pub }, { tcti: tpm.tcti }), (e: unknown) => e instanceof DeviceError && e.failure === 'refused');
  });

  test('a primary template outside the known set never reaches the TPM: E_FORMAT', async () => {
    await assert.rejects(unsealSecret({ ...unbound, primary: { ...DEFAULT_PRIMARY, algorithm: 'rsa1024:aes128cfb' } }, { tcti: tpm.tcti }), biosealError('E_FORMAT', /algorithm/));
    await assert.rejects(unsealSecret({ ...unbound, primary: { ...DEFAULT_PRIMARY, attributes: 'fixedtpm|-P x' } }, { tcti: tpm.tcti }), biosealError('E_FORMAT', /attributes/));
  });

  test('a TPM that is not reachable: E_DEVICE unavailable', async () => {
    const stopped = await startTestTpm();
    const tcti = stopped.tcti;
    await stopped.dispose();
    await assert.rejects(unsealSecret(unbound, { tcti }), deviceError('unavailable', /not reachable/));
    await assert.rejects(sealSecret(secret, [], { tcti }), deviceError('unavailable', /not reachable/));
    await assert.rejects(unsealSecret(unbound, { tcti: 'device:/nonexistent/tpm' }), deviceError('unavailable', /not reachable/));
    assert.deepEqual(leftovers(), []);
  });

  test('a TPM that never answers: E_DEVICE timeout', async () => {
    // The swtpm TCTI connects to the server port P and the control port P+1: both accept and stay silent.
    const sockets: net.Socket[] = [];
    const listen = (port: number) =>
      new Promise<net.Server>((resolve, reject) => {
        const server = net.createServer((s) => sockets.push(s));
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve(server));
      });
    const servers: net.Server[] = [];
    try {
      while (servers.length < 2) {
        for (const s of servers.splice(0)) s.close();
        const first = await listen(0);
        servers.push(first);
        await listen((first.address() as net.AddressInfo).port + 1).then((s) => servers.push(s), () => undefined);
      }
      const port = (servers[0]!.address() as net.AddressInfo).port;
      await assert.rejects(unsealSecret(unbound, { tcti: `swtpm:host=127.0.0.1,port=${port}`, timeoutMs: 1_000 }), deviceError('timeout', /did not answer/));
    } finally {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    }
    assert.deepEqual(leftovers(), []);
  });

  test('tpm2-tools missing: E_DEVICE unavailable naming the package', async () => {
    const emptyBin = path.join(TMP, 'empty-bin');
    mkdirSync(emptyBin, { recursive: true });
    const saved = process.env.PATH;
    process.env.PATH = emptyBin;
    try {
      await assert.rejects(unsealSecret(unbound, { tcti: tpm.tcti }), deviceError('unavailable', /tpm2-tools is not installed/));
    } finally {
      process.env.PATH = saved;
    }
    assert.deepEqual(leftovers(), []);
  });
});
