/** Exit codes scripts can rely on: one per error code, stable across releases. */
export const EXIT_CODES: Readonly<Record<string, number>> = {
  OK: 0,
  E_INTERNAL: 1,
  E_USAGE: 2,
  E_AUTH: 3,
  E_TAMPERED: 4,
  E_FORMAT: 5,
  E_POLICY: 6,
  E_SIGNATURE: 7,
  E_IO: 8,
  E_EXISTS: 9,
  E_RATE_LIMIT: 10,
  E_MODEL: 11,
  E_IMAGE: 12,
  E_FACE_NOT_FOUND: 13,
  E_FACE_MULTIPLE: 14,
  E_FACE_QUALITY: 15,
  E_ENROLMENT: 16,
  E_DEVICE: 17,
  E_ROLLBACK: 18,
  E_EXPIRED: 19,
  E_DIGEST: 20,
};

export function exitCodeFor(code: string): number {
  return EXIT_CODES[code] ?? 1;
}
