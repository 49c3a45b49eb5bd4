/**
 * The operator's credential: a bearer token of 256 random bits that
 * registers and revokes devices and publishes model manifests. `bioseal
 * fleet serve` makes it once and keeps it in `$BIOSEAL_HOME/fleet-operator.token`
 * (mode 0600); the operator passes it as `Authorization: Bearer TOKEN`.
 * Comparison is between SHA-256 digests in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { AuthError, FormatError } from '../errors.js';
import { ensureBiosealHome } from '../home.js';
import { describeFsError, writeFileAtomic } from '../util/atomic-file.js';

/** The token file's name in the state directory. */
export const OPERATOR_TOKEN_FILE = 'fleet-operator.token';
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A new operator token (base64url, 43 characters). */
export function newOperatorToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Reads the operator token file in `home`, making it first when there is none.
 * @returns the token and the file's path.
 * @throws IOError when it cannot be read or written; FormatError when the file holds something else.
 */
export async function loadOperatorToken(home: string): Promise<{ token: string; file: string }> {
  const file = path.join(ensureBiosealHome(home), OPERATOR_TOKEN_FILE);
  try {
    const text = (await fs.readFile(file, 'utf8')).trim();
    if (!TOKEN_PATTERN.test(text)) throw new FormatError(`${file} does not hold a fleet operator token`);
    return { token: text, file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error instanceof FormatError ? error : describeFsError(error, file);
  }
  const token = newOperatorToken();
  await writeFileAtomic(file, async (h) => void (await h.writeFile(`${token}\n`)), { mode: 0o600 });
  return { token, file };
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** @throws AuthError unless the request carries the operator token. */
export function requireOperator(req: IncomingMessage, token: string): void {
  const m = /^Bearer ([A-Za-z0-9_-]{1,128})$/.exec(req.headers.authorization ?? '');
  if (!m || !timingSafeEqual(digest(m[1]!), digest(token))) throw new AuthError('operator authentication failed: send Authorization: Bearer <fleet operator token>');
}
