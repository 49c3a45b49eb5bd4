/**
 * Session tokens: 256 random bits, handed to a client after an unlock and
 * bound to that session. Only their SHA-256 is kept, so comparing does not
 * depend on secret bytes; a lock forgets every token at once.
 */
import { hash as digest, randomBytes } from 'node:crypto';

export class TokenSet {
  readonly #hashes = new Set<string>();

  /** A new token (base64url). */
  issue(): string {
    const token = randomBytes(32).toString('base64url');
    this.#hashes.add(hash(token));
    return token;
  }

  /** Whether the token was issued and not revoked since. */
  has(token: string | undefined): boolean {
    return token !== undefined && this.#hashes.has(hash(token));
  }

  revokeAll(): void {
    this.#hashes.clear();
  }

  get size(): number {
    return this.#hashes.size;
  }
}

function hash(token: string): string {
  return digest('sha256', token, 'base64');
}
