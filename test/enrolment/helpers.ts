/** Temporary BIOSEAL_HOMEs and checks that a failed enrolment left nothing behind. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BiosealError } from '../../src/errors.js';

export function tempHome(prefix = 'bioseal-face-'): { home: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { home: path.join(dir, 'home'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function faceDir(home: string): string {
  return path.join(home, 'enrolments', 'face');
}

/** Files in the face enrolment directory (none when it does not exist), temporaries included. */
export function faceFiles(home: string): string[] {
  const dir = faceDir(home);
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** An assert.rejects/throws matcher for a BiosealError with this code (and message pattern). */
export function biosealError(code: string, message?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof BiosealError, `expected a BiosealError ${code}, got ${String((e as Error)?.stack ?? e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    if (message) assert.match(e.message, message);
    return true;
  };
}
