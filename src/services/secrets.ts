// Secret tokens: generation, the hash they are stored under, and constant-time comparison.
// Tokens are looked up by their SHA-256 so no comparison of the secret itself leaks timing.
import {createHash, randomBytes, timingSafeEqual} from 'node:crypto'

/** A new random token: 32 hex characters (16 bytes from the CSPRNG). */
export function randomToken(): string {
  return randomBytes(16).toString('hex')
}

/** Hex SHA-256 of a token: the backend key under which it is stored. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

/** Constant-time string equality (lengths are hidden by comparing digests). */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest()
  const db = createHash('sha256').update(b, 'utf8').digest()
  return timingSafeEqual(da, db)
}
