/**
 * The fleet service's base64 members: uploads of many megabytes are read
 * (a search query is about 5.6 MB of base64), and only the canonical
 * spelling of some bytes is accepted.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { base64Member } from '../../src/fleet/http.js';

test('a 12 MB base64 member decodes to its bytes', () => {
  const bytes = randomBytes(9 * 1024 * 1024);
  assert.deepEqual(Buffer.from(base64Member({ group: bytes.toString('base64') }, 'group')), bytes);
});

test('non-canonical, padded-wrong, URL-safe, empty and non-string members are E_FORMAT', () => {
  for (const value of ['', 'QQ', 'QQ=', 'QR==', 'QQ==QQ==', 'a-_b', 'QU JD', 42, null]) {
    assert.throws(() => base64Member({ x: value }, 'x'), { code: 'E_FORMAT' }, JSON.stringify(value));
  }
  assert.deepEqual([...base64Member({ x: 'QQ==' }, 'x')], [0x41]);
});
