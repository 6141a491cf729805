// A browser's web session as auth keeps it: who, until when, and the session's key and
// certificate. Its id (the cookie) and bearer token are bearer credentials, so only their
// SHA-256 is stored, and the private key is stored sealed with a key derived from the id: a read
// of the backend yields no cookie, no token and no key to sign with.

/** auth_service.web_idle_timeout's default: a session unused this long is gone. */
export const DEFAULT_WEB_IDLE_TIMEOUT_MS = 30 * 60_000
/** Live web sessions one user may have; a new sign-in past this drops the oldest. */
export const MAX_WEB_SESSIONS_PER_USER = 20
/** Every refusal of a session id or token, whatever the cause, reads the same. */
export const WEB_SESSION_GONE = 'web session expired or signed out; sign in again'

/** What is stored under the session's id hash. */
export interface StoredWebSession {
  /** SHA-256 (hex) of the session id. */
  idHash: string
  /** SHA-256 (hex) of the bearer token. */
  bearerHash: string
  user: string
  /** The user's createdAt when the session was made: a user deleted and made again does not inherit it. */
  userCreatedAt: string
  created: string
  /** The certificate's expiry. */
  expires: string
  lastActive: string
  idleTimeoutMs: number
  /** The session's private key (OpenSSH, Ed25519), sealed with the session id (AES-256-GCM): never leaves auth. */
  sealedPrivateKey: string
  /** The session's OpenSSH user certificate. */
  certificate: string
}

/** A live session without its secrets: what auth's callers get. */
export type WebSessionRecord = Omit<StoredWebSession, 'bearerHash' | 'sealedPrivateKey'>

export function webSessionRecord(stored: StoredWebSession): WebSessionRecord {
  const {bearerHash: _bearer, sealedPrivateKey: _key, ...record} = stored
  return record
}

/** When a session stops being live: its expiry, or its idle timeout after its last activity, whichever comes first. */
export function webSessionEnd(session: Pick<StoredWebSession, 'expires' | 'lastActive' | 'idleTimeoutMs'>): Date {
  return new Date(Math.min(new Date(session.expires).getTime(), new Date(session.lastActive).getTime() + session.idleTimeoutMs))
}
