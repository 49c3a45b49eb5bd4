/**
 * Session tokens on a client connection: a connection remembers the token it
 * proved, which never lets another token through on it, nor the same token
 * past a lock.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AuditTrail } from '../../src/daemon/audit-trail.js';
import { LockedError } from '../../src/daemon/errors.js';
import { Gate } from '../../src/daemon/gate.js';
import { DaemonSession } from '../../src/daemon/session.js';
import { openAuditLog } from '../../src/audit/index.js';
import { AuthError } from '../../src/errors.js';
import { PolicyAuthorizer } from '../../src/policy/cedar/index.js';
import { TrustEngine } from '../../src/trust/index.js';

let dir: string;
let audit: AuditTrail;
let session: DaemonSession;
before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'bioseal-tokens-'));
  audit = new AuditTrail(await openAuditLog(dir), 60_000);
  session = new DaemonSession(new Gate(new TrustEngine(), await PolicyAuthorizer.load(), audit), undefined);
});
after(async () => {
  await session.lock('shutdown', 'test over');
  audit.close();
  rmSync(dir, { recursive: true, force: true });
});

const unlock = () => {
  const now = Date.now();
  return session.unlocked(session.gate.preview([{ modality: 'unlock', observedAt: now, factors: ['keyfile'] }], now), 'test unlock');
};

test('a connection that proved a token is still refused a forged one, and its token stops at a lock', async () => {
  const token = unlock();
  const connection = {};
  const epoch = session.authorize(token, Date.now(), connection);
  assert.equal(session.authorize(token, Date.now(), connection), epoch, 'the proven token again');
  const forged = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
  assert.throws(() => session.authorize(forged, Date.now(), connection), AuthError);
  assert.throws(() => session.authorize(undefined, Date.now(), connection), AuthError);
  assert.equal(session.authorize(token, Date.now(), connection), epoch, 'a refusal does not forget the proven token');
  assert.equal(session.authorize(token, Date.now(), {}), epoch, 'another connection proves it afresh');

  await session.lock('command', 'test');
  assert.throws(() => session.authorize(token, Date.now(), connection), LockedError);
  const next = unlock();
  assert.throws(() => session.authorize(token, Date.now(), connection), AuthError, 'the old token after a new unlock');
  assert.ok(session.authorize(next, Date.now(), connection) > epoch);
});
