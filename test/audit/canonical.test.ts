/**
 * Canonical JSON (RFC 8785) and the leaf encoding of entries: one entry has
 * exactly one byte string, whatever order its members were written in, and
 * values JSON cannot carry exactly are refused rather than silently changed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { canonicalJson } from '../../src/audit/canonical.js';
import { encodeEntry, eventColumns } from '../../src/audit/entry.js';
import { FormatError, UsageError } from '../../src/errors.js';

describe('canonical JSON', () => {
  test('members are sorted, no whitespace, nested objects too', () => {
    assert.equal(canonicalJson({ b: 1, a: [true, null, { d: 'x', c: 2 }] }), '{"a":[true,null,{"c":2,"d":"x"}],"b":1}');
  });

  test('member names sort by UTF-16 code units (the RFC 8785 §3.2.3 example)', () => {
    const value = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
    // (Read the text itself: JSON.parse would put the integer-like "1" first.)
    const expected = ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'].map((k) => `${JSON.stringify(k)}:${JSON.stringify(value[k as keyof typeof value])}`);
    assert.equal(canonicalJson(value), `{${expected.join(',')}}`);
  });

  test('numbers are written as ECMAScript writes them (RFC 8785 §3.2.2.3)', () => {
    assert.equal(canonicalJson([0, -0, 1e21, 1e-7, 0.1, 123456789012, -1.5]), '[0,0,1e+21,1e-7,0.1,123456789012,-1.5]');
  });

  test('refuses what JSON cannot carry exactly', () => {
    for (const bad of [Number.NaN, Infinity, undefined, 10n, () => 1, Symbol('s'), new Date(0), new Map(), '\ud800', { '\udc00': 1 }, { a: undefined }]) {
      assert.throws(() => canonicalJson(bad), FormatError, String(typeof bad));
    }
  });

  test('refuses nesting past the limit', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 20; i++) deep = [deep];
    assert.throws(() => canonicalJson(deep, 16), /nested more than 16/);
    assert.doesNotThrow(() => canonicalJson(deep, 21));
  });

  test('property: member order never changes the canonical text, and it parses back to the same value', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 }), (obj) => {
        const text = canonicalJson(obj);
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        assert.equal(canonicalJson(reversed), text);
        assert.equal(canonicalJson(JSON.parse(text)), text);
      }),
      { numRuns: 200 },
    );
  });
});

describe('entry leaf encoding', () => {
  const time = '2026-01-02T03:04:05.678Z';

  test('is the canonical JSON of the entry, with null for absent fields and v = 1', () => {
    const columns = eventColumns({ type: 'unlock', actor: 'alice', reasons: ['face matched'], details: { z: 1, a: 'b' } }, time);
    assert.equal(
      Buffer.from(encodeEntry(columns)).toString('utf8'),
      '{"actor":"alice","decision":null,"details":{"a":"b","z":1},"reasons":["face matched"],"subject":null,"time":"2026-01-02T03:04:05.678Z","type":"unlock","v":1}',
    );
  });

  test('an edited column gives different bytes; a column of the wrong type still encodes (and differs)', () => {
    const columns = eventColumns({ type: 'decision', decision: 'allow' }, time);
    const original = Buffer.from(encodeEntry(columns)).toString('hex');
    assert.notEqual(Buffer.from(encodeEntry({ ...columns, decision: 'deny' })).toString('hex'), original);
    assert.notEqual(Buffer.from(encodeEntry({ ...columns, time: 1767322000000 })).toString('hex'), original);
    assert.throws(() => encodeEntry({ ...columns, details: '{not json' }), FormatError);
    assert.throws(() => encodeEntry({ ...columns, details: Buffer.from('{}') }), FormatError);
  });

  test('malformed events are refused with a usage error', () => {
    const bad: unknown[] = [
      { type: 'Unlock' },
      { type: '' },
      { type: 'unlock', actor: '' },
      { type: 'unlock', actor: 'x'.repeat(257) },
      { type: 'unlock', decision: 'Allow!' },
      { type: 'unlock', reasons: 'because' },
      { type: 'unlock', reasons: [1] },
      { type: 'unlock', reasons: Array.from({ length: 65 }, () => 'r') },
      { type: 'unlock', details: [] },
      { type: 'unlock', details: { n: Number.NaN } },
      { type: 'unlock', details: { big: 'x'.repeat(70_000) } },
      { type: 'unlock', details: { when: new Date() } },
      null,
    ];
    for (const event of bad) assert.throws(() => eventColumns(event as never, time), UsageError, JSON.stringify(event)?.slice(0, 80));
  });
});
