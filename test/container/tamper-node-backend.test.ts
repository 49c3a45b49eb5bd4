/**
 * The tamper matrix again, with the node:crypto AEAD backend selected through
 * BIOSEAL_AEAD=node. The backend is chosen when aead.ts loads, so the
 * variable is set before the library is imported (each test file runs in its
 * own process under `node --test`).
 */
import assert from 'node:assert/strict';

process.env.BIOSEAL_AEAD = 'node';

const { aeadBackend } = await import('../../src/container/aead.js');
assert.equal(aeadBackend, 'node', 'BIOSEAL_AEAD=node must select the node:crypto backend');
const { defineTamperMatrix } = await import('./tamper-matrix.js');
defineTamperMatrix('node');
