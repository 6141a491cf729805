// Web sessions (the browser's sign-in, served by the proxy): stored in the backend so they
// survive an auth restart, keyed by the SHA-256 of their id, their private key sealed with a key
// derived from the id: a backend read yields no cookie and no key to sign with. Layout:
//   /websessions/sessions/<sha256(id)>         the session (StoredWebSession), expiring when it
//                                               stops being live (certificate expiry or idle timeout)
//   /websessions/users/<user>/<sha256(id)>     the user's index entry {created}, expiring with the certificate
//   /websessions/keys/<sha256(key fingerprint)> {idHash}, expiring with the certificate and kept after
//                                               the session ends: auth refuses the certificate of an ended session
import {createCipheriv, createDecipheriv, hkdfSync, randomBytes, sign as cryptoSign} from 'node:crypto'
import type {Backend, Item} from '../backend/backend.js'
import type {Clock} from '../lib/clock.js'
import {AccessDeniedError, CompareFailedError, NotFoundError} from '../lib/errors.js'
import {fingerprint, loadPrivateKey} from '../sshca/index.js'
import {BackendService} from './backend-service.js'
import {constantTimeEqual, tokenHash} from './secrets.js'
import {DEFAULT_WEB_IDLE_TIMEOUT_MS, MAX_WEB_SESSIONS_PER_USER, WEB_SESSION_GONE, webSessionEnd, webSessionRecord, type StoredWebSession, type WebSessionRecord} from './models/web-session.js'

export * from './models/web-session.js'

const PREFIX = '/websessions/'
const keys = {
  session: (idHash: string) => `${PREFIX}sessions/${idHash}`,
  userPrefix: (user: string) => `${PREFIX}users/${user}/`,
  userEntry: (user: string, idHash: string) => `${PREFIX}users/${user}/${idHash}`,
  /** By the certified key (a certificate line or its key's line). */
  certifiedKey: (publicKeyOrCert: string) => `${PREFIX}keys/${tokenHash(fingerprint(publicKeyOrCert))}`,
}

/** Activity is written at most this often per session: every API call marks it, few write. */
export const ACTIVITY_WRITE_INTERVAL_MS = 10_000
const SESSION_ID = /^[0-9a-f]{64}$/

export interface WebSessionServiceOptions {
  clock?: Clock
  /** auth_service.web_idle_timeout (default 30m). */
  idleTimeoutMs?: number
  /** Live sessions per user (default 20); the oldest go first. */
  maxPerUser?: number
}

export interface NewWebSessionInput {
  user: string
  userCreatedAt: string
  /** The certificate's expiry: the session ends then. */
  expires: Date
  privateKey: string
  certificate: string
}

export class WebSessionService extends BackendService {
  readonly idleTimeoutMs: number
  private readonly maxPerUser: number

  constructor(backend: Backend, options: WebSessionServiceOptions = {}) {
    super(backend, options)
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_WEB_IDLE_TIMEOUT_MS
    this.maxPerUser = options.maxPerUser ?? MAX_WEB_SESSIONS_PER_USER
  }

  /** Stores a new session; its id and bearer token are returned here only. Drops the user's oldest past the cap. */
  async create(input: NewWebSessionInput): Promise<{id: string; bearerToken: string; session: WebSessionRecord}> {
    const id = randomBytes(32).toString('hex')
    const bearerToken = randomBytes(32).toString('hex')
    const now = this.clock.now().toISOString()
    const stored: StoredWebSession = {
      idHash: tokenHash(id),
      bearerHash: tokenHash(bearerToken),
      user: input.user,
      userCreatedAt: input.userCreatedAt,
      created: now,
      expires: input.expires.toISOString(),
      lastActive: now,
      idleTimeoutMs: this.idleTimeoutMs,
      sealedPrivateKey: seal(id, input.privateKey),
      certificate: input.certificate,
    }
    await this.dropOldest(input.user, this.maxPerUser - 1)
    await this.backend.atomicWrite([
      {op: 'put', item: {key: keys.session(stored.idHash), value: JSON.stringify(stored), expires: webSessionEnd(stored)}},
      {op: 'put', item: {key: keys.userEntry(stored.user, stored.idHash), value: JSON.stringify({created: now}), expires: input.expires}},
      {op: 'put', item: {key: keys.certifiedKey(input.certificate), value: JSON.stringify({idHash: stored.idHash}), expires: input.expires}},
    ])
    return {id, bearerToken, session: webSessionRecord(stored)}
  }

  /**
   * The live session for a cookie's id and the page's bearer token (compared in constant time),
   * marked active. Anything else (unknown, signed out, expired, idle, wrong token) is the same
   * AccessDeniedError; an expired or idle one is removed.
   */
  async authenticate(id: string, bearerToken: string): Promise<WebSessionRecord> {
    const {item, stored} = await this.live(id)
    if (typeof bearerToken !== 'string' || !constantTimeEqual(tokenHash(bearerToken), stored.bearerHash)) throw gone()
    return webSessionRecord(await this.markActive(item, stored))
  }

  /** The live session `id` (not marked active): for calls the proxy makes after authenticating it. */
  async get(id: string): Promise<WebSessionRecord> {
    return webSessionRecord((await this.live(id)).stored)
  }

  /** The raw signature (as an ssh-agent's sign answers it) of `data` with live session `id`'s key. */
  async sign(id: string, data: Buffer): Promise<Buffer> {
    const {stored} = await this.live(id)
    // The session's key is Ed25519 (auth makes it): its signature is the same whatever the agent's flags.
    return cryptoSign(null, data, loadPrivateKey(unseal(id, stored.sealedPrivateKey)))
  }

  /** Sign-out: the session and its key are gone. Idempotent. */
  async delete(id: string): Promise<void> {
    if (typeof id !== 'string' || !SESSION_ID.test(id)) return
    const item = await this.find(keys.session(tokenHash(id)))
    if (item) await this.remove(JSON.parse(item.value) as StoredWebSession)
  }

  /**
   * Whether `certificate` is a web session's that has ended (signed out, expired, idle, dropped):
   * its key stays known until the certificate expires, so auth refuses it even on a connection the
   * proxy opened before the sign-out. False for any other certificate.
   */
  async hasEnded(certificate: string): Promise<boolean> {
    const entry = await this.find(keys.certifiedKey(certificate))
    if (!entry) return false
    const item = await this.find(keys.session((JSON.parse(entry.value) as {idHash: string}).idHash))
    return !item || webSessionEnd(JSON.parse(item.value) as StoredWebSession).getTime() <= this.clock.now().getTime()
  }

  /** The user's sessions, oldest first (without secrets). */
  async listUser(user: string): Promise<WebSessionRecord[]> {
    const sessions: WebSessionRecord[] = []
    for (const entry of await this.backend.getRange(keys.userPrefix(user))) {
      const item = await this.find(keys.session(entry.key.slice(keys.userPrefix(user).length)))
      if (item) sessions.push(webSessionRecord(JSON.parse(item.value) as StoredWebSession))
    }
    return sessions.sort((a, b) => a.created.localeCompare(b.created))
  }

  /** Every session of `user` (the user was deleted). */
  async deleteUser(user: string): Promise<void> {
    await this.dropOldest(user, 0)
  }

  private async live(id: string): Promise<{item: Item; stored: StoredWebSession}> {
    if (typeof id !== 'string' || !SESSION_ID.test(id)) throw gone()
    const item = await this.find(keys.session(tokenHash(id)))
    if (!item) throw gone()
    const stored = JSON.parse(item.value) as StoredWebSession
    // The backend's expiry hides it too; checked here so no backend's sweep timing matters.
    if (webSessionEnd(stored).getTime() <= this.clock.now().getTime()) {
      await this.remove(stored)
      throw gone()
    }
    return {item, stored}
  }

  private async markActive(item: Item, stored: StoredWebSession): Promise<StoredWebSession> {
    const now = this.clock.now()
    if (now.getTime() - new Date(stored.lastActive).getTime() < ACTIVITY_WRITE_INTERVAL_MS) return stored
    const next: StoredWebSession = {...stored, lastActive: now.toISOString()}
    try {
      // Compare-and-swap, so a sign-out meanwhile is not undone by this write.
      await this.backend.compareAndSwap(item.value, {key: item.key, value: JSON.stringify(next), expires: webSessionEnd(next)})
      return next
    } catch (err) {
      if (err instanceof NotFoundError) throw gone()
      if (err instanceof CompareFailedError) return stored // another call marked it active just now
      throw err
    }
  }

  /** Removes the user's oldest sessions until at most `keep` remain (and index entries of sessions already gone). */
  private async dropOldest(user: string, keep: number): Promise<void> {
    const prefix = keys.userPrefix(user)
    const live: {idHash: string; created: string}[] = []
    for (const entry of await this.backend.getRange(prefix)) {
      const idHash = entry.key.slice(prefix.length)
      if (await this.find(keys.session(idHash))) live.push({idHash, created: (JSON.parse(entry.value) as {created: string}).created})
      else await this.remove({user, idHash})
    }
    live.sort((a, b) => a.created.localeCompare(b.created))
    for (const entry of live.slice(0, Math.max(0, live.length - keep))) await this.remove({user, idHash: entry.idHash})
  }

  private async remove(session: Pick<StoredWebSession, 'user' | 'idHash'>): Promise<void> {
    await this.backend.atomicWrite([
      {op: 'delete', key: keys.session(session.idHash)},
      {op: 'delete', key: keys.userEntry(session.user, session.idHash)},
    ])
  }
}

/** The key that seals a session's private key: derived from its id, which only the proxy's caller holds. */
function sealingKey(id: string): Buffer {
  return Buffer.from(hkdfSync('sha256', id, '', 'teleport web session private key', 32))
}

/** AES-256-GCM: base64 of iv (12) | tag (16) | ciphertext. */
function seal(id: string, privateKey: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', sealingKey(id), iv)
  const sealed = Buffer.concat([cipher.update(privateKey, 'utf8'), cipher.final()])
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64')
}

function unseal(id: string, sealed: string): string {
  const bytes = Buffer.from(sealed, 'base64')
  const decipher = createDecipheriv('aes-256-gcm', sealingKey(id), bytes.subarray(0, 12))
  decipher.setAuthTag(bytes.subarray(12, 28))
  return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8')
}

function gone(): AccessDeniedError {
  return new AccessDeniedError(WEB_SESSION_GONE)
}
