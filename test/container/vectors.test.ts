/**
 * Checks every committed test vector in test/vectors/ (made once by
 * scripts/make-vectors.mjs; never regenerated here): the header alone through
 * parseHeader, then the whole file through openSealedFile, checkSealedFile
 * and verifySealedSignature, against the outcomes listed in vectors.json.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { BiosealError } from '../../src/errors.js';
import { FIXED_PREFIX_LENGTH, headerLengthFromPrefix, parseHeader } from '../../src/container/format.js';
import { checkSealedFile, openSealedFile, verifySealedSignature, type OpenOptions } from '../../src/container/open.js';
import { cleanupTempDirs, provider, useTempHome } from './helpers.js';

interface Vector {
  name: string;
  file: string;
  description: string;
  secrets: { keyfiles: string[]; passphrase: string | null };
  publisher: string | null;
  header: string;
  expect: { result: 'ok'; plaintextLength: number; sha256: string } | { result: 'error'; code: string };
  signature?: 'valid' | 'invalid' | 'unsigned';
}

// dist/test/container -> repository root (the vectors are data, not compiled).
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const dir = path.join(root, 'test', 'vectors');
const index = JSON.parse(readFileSync(path.join(dir, 'vectors.json'), 'utf8')) as { vectors: Vector[] };

function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (error instanceof BiosealError) return error.code;
    throw error;
  }
}

async function asyncOutcome<T>(fn: () => Promise<T>): Promise<{ code: string; value?: T }> {
  try {
    return { code: 'ok', value: await fn() };
  } catch (error) {
    if (error instanceof BiosealError) return { code: error.code };
    throw error;
  }
}

describe('test vectors', () => {
  before(() => useTempHome());
  after(() => cleanupTempDirs());

  test('vectors.json lists every .bseal file in test/vectors and nothing else; the directory is small', () => {
    const onDisk = readdirSync(dir).filter((f) => f.endsWith('.bseal')).sort();
    const listed = [...new Set(index.vectors.map((v) => v.file))].sort();
    assert.deepEqual(listed, onDisk);
    const total = readdirSync(dir).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);
    assert.ok(total < 200 * 1024, `test/vectors holds ${total} bytes`);
    assert.equal(new Set(index.vectors.map((v) => v.name)).size, index.vectors.length, 'unique names');
    assert.ok(index.vectors.length >= 30);
  });

  for (const v of index.vectors) {
    test(`${v.name}: ${v.description}`, async () => {
      const file = path.join(dir, v.file);
      const bytes = new Uint8Array(readFileSync(file));

      // The header on its own, fed whole to parseHeader.
      const headerOutcome = outcome(() => {
        const length = headerLengthFromPrefix(bytes);
        // The prefix alone announces the same length.
        assert.equal(headerLengthFromPrefix(bytes.subarray(0, FIXED_PREFIX_LENGTH)), length);
        parseHeader(bytes.subarray(0, length));
      });
      assert.equal(headerOutcome, v.header, 'parseHeader');
      if (v.header === 'ok' && bytes.length > headerLengthFromPrefix(bytes)) {
        assert.equal(outcome(() => parseHeader(bytes)), 'E_FORMAT', 'the whole file is not a header (trailing bytes)');
      }

      // The file API.
      const options = (): OpenOptions => ({
        provider: provider(
          v.secrets.keyfiles.map((k) => new Uint8Array(Buffer.from(k, 'hex'))),
          v.secrets.passphrase ?? undefined,
        ),
        publisher: v.publisher ? new Uint8Array(Buffer.from(v.publisher, 'hex')) : undefined,
      });
      const opened = await asyncOutcome(() => openSealedFile(file, options()));
      const checked = await asyncOutcome(() => checkSealedFile(file, options()));
      if (v.expect.result === 'ok') {
        assert.equal(opened.code, 'ok', 'open');
        assert.equal(checked.code, 'ok', 'check');
        const p = opened.value!;
        try {
          assert.equal(p.bytes.length, v.expect.plaintextLength);
          assert.equal(createHash('sha256').update(p.bytes).digest('hex'), v.expect.sha256);
          assert.equal(p.info.fileSize, bytes.length);
          if (v.publisher) assert.equal(Buffer.from(p.signer!).toString('hex'), v.publisher);
        } finally {
          p.release();
        }
      } else {
        assert.equal(opened.code, v.expect.code, 'open');
        assert.equal(checked.code, v.expect.code, 'check');
      }

      if (v.signature) {
        const s = await verifySealedSignature(file);
        assert.equal(s.status, v.signature, 'verifySealedSignature');
      }
    });
  }
});
