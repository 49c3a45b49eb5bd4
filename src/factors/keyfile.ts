/**
 * `keyfile`: 32 random bytes in a file. The slot stores an 8-byte key id
 * (a hash of the key, revealing nothing about a 256-bit random key) so that
 * the right file is picked among several.
 */
import { createHash } from 'node:crypto';
import { FormatError, UsageError } from '../errors.js';
import { constantTimeEqual, toHex } from '../util/bytes.js';
import type { Factor } from './factor.js';

const ID_LENGTH = 8;

function keyId(key: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update('bioseal/v1 keyfile id').update(key).digest().subarray(0, ID_LENGTH));
}

function parseId(params: Uint8Array): Uint8Array {
  if (params.length !== ID_LENGTH) throw new FormatError(`keyfile parameters must be ${ID_LENGTH} bytes`);
  return params;
}

export const keyfileFactor: Factor = {
  name: 'keyfile',
  summary: 'a file of 32 random bytes (bioseal keygen --key-file F)',
  cost: 1,
  standalone: true,
  async createShare(inputs) {
    const key = inputs.keyFiles?.[0];
    if (!key) throw new UsageError('the keyfile factor needs --key-file F (make one with: bioseal keygen --key-file F)');
    // new Uint8Array(...) copies; Buffer#slice would return a view that wiping the secret would zero.
    return { params: keyId(key), secret: new Uint8Array(key) };
  },
  async deriveSecret(params, inputs) {
    const id = parseId(params);
    const key = inputs.keyFiles?.find((k) => constantTimeEqual(keyId(k), id));
    return key ? new Uint8Array(key) : undefined;
  },
  describe(params) {
    return { keyId: toHex(parseId(params)) };
  },
};
