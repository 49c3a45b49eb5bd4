/**
 * The header parser on hostile input: arbitrary bytes, bytes that pass the
 * prefix and checksum checks, and mutated valid headers. parseHeader and
 * headerLengthFromPrefix may only throw BiosealError subclasses (E_FORMAT or
 * E_TAMPERED), never TypeError/RangeError, and the slot area is capped before
 * anything is allocated for it. Also an exhaustive one-bit sweep of a real
 * header, with and without the checksum recomputed.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';

import { BiosealError } from '../../src/errors.js';
import {
  FIXED_PREFIX_LENGTH,
  MAGIC,
  MAX_HEADER_LENGTH,
  MAX_SLOTS_AREA,
  headerLengthFromPrefix,
  parseHeader,
  type Header,
} from '../../src/container/format.js';
import { readSealedInfo, unlockHeader } from '../../src/container/open.js';
import { sealFile } from '../../src/container/seal.js';
import {
  cleanupTempDirs,
  fixChecksum,
  flipBit,
  headerRegions,
  keyfileSlot,
  patternBytes,
  provider,
  randomKey,
  rejectsWithCode,
  tempDir,
  throwsWithCode,
  useTempHome,
} from './helpers.js';

/** Runs fn; returns its value, or undefined if it threw a BiosealError with code E_FORMAT/E_TAMPERED; rethrows anything else. */
function onlyBiosealErrors<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (error instanceof BiosealError && (error.code === 'E_FORMAT' || error.code === 'E_TAMPERED')) return undefined;
    throw new Error(`parser threw a non-bioseal error: ${String(error)}`, { cause: error });
  }
}

function withChecksum(body: Uint8Array): Uint8Array {
  return new Uint8Array(Buffer.concat([body, createHash('sha256').update(body).digest()]));
}

function parseBoth(bytes: Uint8Array): Header | undefined {
  onlyBiosealErrors(() => headerLengthFromPrefix(bytes));
  const h = onlyBiosealErrors(() => parseHeader(bytes));
  if (h) {
    // Anything accepted is self-consistent.
    assert.equal(headerLengthFromPrefix(bytes), bytes.length);
    assert.deepEqual(h.bytes, bytes);
    assert.ok(h.slots.length >= 1 && h.slots.length <= 32);
    assert.ok(h.chunkLog2 >= 12 && h.chunkLog2 <= 24);
  }
  return h;
}

let dir: string;
let keyA: Uint8Array;
let keyB: Uint8Array;
const headers: Uint8Array[] = [];

before(async () => {
  useTempHome();
  dir = tempDir('fuzz');
  keyA = randomKey();
  keyB = randomKey();
  const signing = randomKey();
  const variants = [
    { slots: [await keyfileSlot(keyA), await keyfileSlot(keyB)], signingKey: undefined },
    { slots: [await keyfileSlot(keyA)], signingKey: signing },
  ];
  for (const [i, v] of variants.entries()) {
    const file = path.join(dir, `base-${i}.bseal`);
    await sealFile({ input: patternBytes(100 * i), output: file, chunkLog2: 12, slots: v.slots, signingKey: v.signingKey });
    const bytes = new Uint8Array(readFileSync(file));
    headers.push(bytes.subarray(0, headerLengthFromPrefix(bytes)));
  }
});
after(() => cleanupTempDirs());

describe('parseHeader / headerLengthFromPrefix fuzz', () => {
  test('arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        assert.equal(parseBoth(bytes), undefined);
      }),
      { numRuns: 2000 },
    );
  });

  test('bytes with a valid prefix and a correct checksum reach the slot parser', () => {
    const body = fc
      .record({
        flags: fc.constantFrom(0, 1, 2, 0x81),
        chunkLog2: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 11, max: 25 })),
        length: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        slotCount: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 })),
        area: fc.uint8Array({ maxLength: 400 }),
        areaDelta: fc.oneof(fc.constant(0), fc.integer({ min: -4, max: 4 })),
        tail: fc.uint8Array({ maxLength: 200 }),
      })
      .map((r) => {
        const head = Buffer.alloc(FIXED_PREFIX_LENGTH);
        Buffer.from(MAGIC).copy(head, 0);
        head[8] = 1;
        head[9] = 1;
        head[10] = r.flags;
        head[11] = r.chunkLog2;
        head.writeBigUInt64BE(r.length, 12);
        head[68] = r.slotCount;
        head.writeUInt32BE(Math.max(0, r.area.length + r.areaDelta), 69);
        return new Uint8Array(Buffer.concat([head, r.area, r.tail]));
      });
    fc.assert(
      fc.property(body, (b) => {
        parseBoth(withChecksum(b));
      }),
      { numRuns: 2000 },
    );
  });

  test('structured slot areas with a correct checksum', () => {
    const factor = fc.record({
      nameLength: fc.integer({ min: 0, max: 40 }),
      name: fc.oneof(fc.constantFrom('keyfile', 'recovery', 'recipient', 'x'), fc.string({ maxLength: 34 })),
      paramsLength: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(16384, 16385, 65535)),
      params: fc.uint8Array({ maxLength: 40 }),
    });
    const slot = fc.record({
      declared: fc.option(fc.integer({ min: 0, max: 0xffffffff })),
      count: fc.integer({ min: 0, max: 10 }),
      factors: fc.array(factor, { maxLength: 3 }),
      tail: fc.uint8Array({ minLength: 70, maxLength: 90 }),
    });
    fc.assert(
      fc.property(fc.array(slot, { minLength: 0, maxLength: 4 }), fc.integer({ min: 0, max: 5 }), fc.boolean(), (slots, count, signed) => {
        const area: Buffer[] = [];
        for (const s of slots) {
          const parts: Buffer[] = [Buffer.of(s.count)];
          for (const f of s.factors) {
            const name = Buffer.from(f.name, 'latin1');
            const p = Buffer.alloc(2);
            p.writeUInt16BE(f.paramsLength);
            parts.push(Buffer.of(f.nameLength), name, p, Buffer.from(f.params));
          }
          parts.push(Buffer.from(s.tail));
          const body = Buffer.concat(parts);
          const len = Buffer.alloc(4);
          len.writeUInt32BE(s.declared ?? body.length);
          area.push(len, body);
        }
        const areaBytes = Buffer.concat(area);
        const head = Buffer.alloc(FIXED_PREFIX_LENGTH);
        Buffer.from(MAGIC).copy(head, 0);
        head.set([1, 1, signed ? 1 : 0, 12], 8);
        head[68] = count;
        head.writeUInt32BE(areaBytes.length, 69);
        const rest = Buffer.alloc((signed ? 128 : 0) + 32);
        parseBoth(withChecksum(new Uint8Array(Buffer.concat([head, areaBytes, rest]))));
      }),
      { numRuns: 2000 },
    );
  });

  test('mutated valid headers, with and without the checksum recomputed', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), value: fc.constant(0) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(), value: fc.constant(0) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: headers.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), (which, muts, fix) => {
        let b = Buffer.from(headers[which]!);
        for (const m of muts) {
          const at = b.length === 0 ? 0 : m.at % b.length;
          if (m.kind === 'set' && b.length > 0) b[at] = m.value;
          else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.of(m.value), b.subarray(at)]);
          else if (m.kind === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
          else if (m.kind === 'truncate') b = b.subarray(0, at);
        }
        const bytes = new Uint8Array(b);
        if (fix && bytes.length > 32) fixChecksum(bytes, bytes.length);
        parseBoth(bytes);
      }),
      { numRuns: 3000 },
    );
  });

  test('a header claiming a huge slot area is refused from the 73-byte prefix alone', async () => {
    const prefix = Buffer.from(headers[0]!.subarray(0, FIXED_PREFIX_LENGTH));
    for (const area of [MAX_SLOTS_AREA + 1, 0x7fffffff, 0xffffffff]) {
      prefix.writeUInt32BE(area, 69);
      const e = throwsWithCode(() => headerLengthFromPrefix(prefix), 'E_FORMAT', `area ${area}`);
      assert.match(e.message, /slot area/);
      throwsWithCode(() => parseHeader(prefix), 'E_FORMAT');
      // Through the file API, with nothing after the prefix: refused, not read.
      const file = path.join(dir, `huge-${area}.bseal`);
      writeFileSync(file, prefix);
      await rejectsWithCode(readSealedInfo(file), 'E_FORMAT');
    }
    prefix.writeUInt32BE(MAX_SLOTS_AREA, 69);
    const flags = prefix[10]!;
    assert.equal(headerLengthFromPrefix(prefix), FIXED_PREFIX_LENGTH + MAX_SLOTS_AREA + (flags & 1 ? 128 : 0) + 64);
    assert.ok(headerLengthFromPrefix(prefix) <= MAX_HEADER_LENGTH);
    for (let n = 0; n < FIXED_PREFIX_LENGTH; n++) {
      throwsWithCode(() => headerLengthFromPrefix(headers[0]!.subarray(0, n)), 'E_FORMAT', `prefix of ${n} bytes`);
    }
  });
});

describe('exhaustive one-bit sweep of a real header', () => {
  test('raw flips: parseHeader never accepts a header with any single bit flipped', () => {
    for (const h of headers) {
      for (let at = 0; at < h.length; at++) {
        for (let bit = 0; bit < 8; bit++) {
          throwsWithCode(() => parseHeader(flipBit(h, at, bit)), ['E_FORMAT', 'E_TAMPERED'], `byte ${at} bit ${bit}`);
        }
      }
    }
  });

  test('checksum recomputed: no flip yields a data key; E_AUTH only for the file id', async () => {
    const h = headers[0]!; // two keyfile slots, unsigned
    const header = parseHeader(h);
    const regions = headerRegions(header);
    const regionAt = (at: number) => regions.find((r) => at >= r.start && at < r.start + r.length)!.name;
    const p = provider([keyA, keyB]);
    const seen = new Map<string, Set<string>>();
    for (let at = 0; at < h.length - 32; at++) {
      const bytes = fixChecksum(flipBit(h, at, at % 8), h.length);
      const region = regionAt(at);
      let code: string;
      try {
        const parsed = parseHeader(bytes);
        const { dataKey } = await unlockHeader(parsed, p);
        dataKey.fill(0);
        assert.fail(`byte ${at} (${region}): a tampered header unlocked`);
      } catch (error) {
        assert.ok(error instanceof BiosealError, `byte ${at} (${region}): ${String(error)}`);
        code = error.code;
      }
      if (region === 'fileId') assert.equal(code, 'E_AUTH', `byte ${at} (${region})`);
      else assert.ok(code === 'E_FORMAT' || code === 'E_TAMPERED', `byte ${at} (${region}): ${code}`);
      if (!seen.has(region)) seen.set(region, new Set());
      seen.get(region)!.add(code);
    }
    assert.ok(seen.get('mac')!.has('E_TAMPERED'));
    assert.ok(seen.get('keyCommitment')!.has('E_TAMPERED'));
    assert.ok(seen.get('slot0.kekSalt')!.has('E_TAMPERED'), 'a broken slot 0 is skipped; slot 1 opens; the MAC catches it');
  });
});
