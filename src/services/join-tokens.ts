// Join tokens: how a new node, proxy or auth server proves it may join the cluster.
// Static tokens come from the config file (auth_service.tokens: ["node:abc123"]) and never expire;
// dynamic ones (`tctl tokens add`) live in the backend under /tokens/<sha256 of the token>, so a
// lookup never compares the secret, and static ones are compared in constant time.
// A dynamic token lets one new host join unless it was made with more uses (`--uses`); a used-up
// token stays (until it expires) so the host that used it can still join its other roles.
import type {Backend, Item} from '../backend/backend.js'
import type {Clock} from '../lib/clock.js'
import {BackendService} from './backend-service.js'
import {AccessDeniedError, AlreadyExistsError, BadParameterError, CompareFailedError, NotFoundError} from '../lib/errors.js'
import type {HostIdClaim} from './host-ids.js'
import {formatDuration} from './duration.js'
import {constantTimeEqual, randomToken, tokenHash} from './secrets.js'
import {DEFAULT_JOIN_TOKEN_TTL_MS, DEFAULT_MAX_JOIN_TOKEN_TTL_MS, MAX_JOIN_TOKEN_USES, parseJoinRole, parseJoinRoles, parseStaticTokens, type AddJoinToken, type JoinRole, type JoinToken} from './models/join-token.js'

export * from './models/join-token.js'

/** Expired dynamic tokens stay readable this long, so a late joiner hears "expired", not "unknown". */
const EXPIRED_RETENTION_MS = 60 * 60_000
const PREFIX = '/tokens/'

interface StoredJoinToken {
  token: string
  roles: JoinRole[]
  createdAt: string
  expires: string
  /** Absent in tokens stored before uses were counted: one use. */
  usesLeft?: number
}

export interface JoinTokenServiceOptions {
  clock?: Clock
  /** auth_service.tokens entries: "node:abc123", "node,proxy:def456". */
  staticTokens?: readonly string[]
  defaultTtlMs?: number
  maxTtlMs?: number
}

export class JoinTokenService extends BackendService {
  private readonly staticTokens: JoinToken[]
  private readonly defaultTtlMs: number
  private readonly maxTtlMs: number

  constructor(backend: Backend, options: JoinTokenServiceOptions = {}) {
    super(backend, options)
    this.staticTokens = parseStaticTokens(options.staticTokens ?? [])
    this.maxTtlMs = options.maxTtlMs ?? DEFAULT_MAX_JOIN_TOKEN_TTL_MS
    this.defaultTtlMs = Math.min(options.defaultTtlMs ?? DEFAULT_JOIN_TOKEN_TTL_MS, this.maxTtlMs)
  }

  /** Creates a dynamic token. BadParameterError for a TTL over the maximum; AlreadyExistsError for a taken value. */
  async add({type, ttlMs, token, uses = 1}: AddJoinToken): Promise<JoinToken> {
    const roles = parseJoinRoles(type)
    if (!Number.isInteger(uses) || uses < 1 || uses > MAX_JOIN_TOKEN_USES) {
      throw new BadParameterError(`invalid number of token uses ${JSON.stringify(uses)}: expected a whole number from 1 to ${MAX_JOIN_TOKEN_USES}`)
    }
    const ttl = ttlMs ?? this.defaultTtlMs
    if (!Number.isFinite(ttl) || ttl <= 0) throw new BadParameterError(`invalid token TTL ${JSON.stringify(ttlMs)}: expected a positive duration such as 15m`)
    if (ttl > this.maxTtlMs) {
      throw new BadParameterError(`token TTL ${formatDuration(ttl)} is longer than the maximum of ${formatDuration(this.maxTtlMs)}`, {
        hint: `use a shorter --ttl (the default is ${formatDuration(this.defaultTtlMs)})`,
      })
    }
    const value = token ?? randomToken()
    // eslint-disable-next-line no-control-regex
    if (typeof value !== 'string' || value === '' || /[\s\u0000-\u001f\u007f]/.test(value)) {
      throw new BadParameterError('a join token must be a non-empty string without spaces or control characters')
    }
    if (this.findStatic(value)) throw new AlreadyExistsError('this join token already exists (as a static token in the config file)')
    const now = this.clock.now()
    const expires = new Date(now.getTime() + ttl)
    const stored: StoredJoinToken = {token: value, roles, createdAt: now.toISOString(), expires: expires.toISOString(), usesLeft: uses}
    try {
      await this.backend.create({key: PREFIX + tokenHash(value), value: JSON.stringify(stored), expires: new Date(expires.getTime() + EXPIRED_RETENTION_MS)})
    } catch (err) {
      if (err instanceof AlreadyExistsError) throw new AlreadyExistsError('this join token already exists')
      throw err
    }
    return {token: value, roles, expires, static: false, usesLeft: uses}
  }

  /** Static tokens first (config order), then live dynamic tokens with uses left, by expiry. */
  async list(): Promise<JoinToken[]> {
    const now = this.clock.now()
    const dynamic = (await this.backend.getRange(PREFIX))
      .map((item) => JSON.parse(item.value) as StoredJoinToken)
      .filter((t) => new Date(t.expires) > now && usesLeft(t) > 0)
      .map((t): JoinToken => ({token: t.token, roles: t.roles, expires: new Date(t.expires), static: false, usesLeft: usesLeft(t)}))
      .sort((a, b) => a.expires!.getTime() - b.expires!.getTime())
    return [...this.staticTokens.map((t) => ({...t, roles: [...t.roles]})), ...dynamic]
  }

  /** Deletes a dynamic token. Static tokens can only be removed from the config file. */
  async delete(token: string): Promise<void> {
    if (this.findStatic(token)) {
      throw new BadParameterError('this is a static token from the config file and cannot be deleted', {
        hint: 'remove it from auth_service.tokens and restart the auth service',
      })
    }
    const stored = (await this.getDynamic(token))?.stored
    if (!stored || new Date(stored.expires) <= this.clock.now()) throw new NotFoundError('join token not found')
    try {
      await this.backend.delete(PREFIX + tokenHash(token))
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundError('join token not found')
      throw err
    }
  }

  /**
   * Checks a joining host's token for `role`. Returns the token, or throws AccessDeniedError:
   * `unknown join token`, `join token expired`, `token does not allow role "proxy"`.
   */
  async validate(token: string, role: JoinRole | string): Promise<JoinToken> {
    const wanted = parseJoinRole(role)
    let found: JoinToken | undefined = typeof token === 'string' && token !== '' ? this.findStatic(token) : undefined
    if (!found && typeof token === 'string' && token !== '') {
      const stored = (await this.getDynamic(token))?.stored
      if (stored) {
        const expires = new Date(stored.expires)
        if (expires <= this.clock.now()) {
          throw new AccessDeniedError('join token expired', {hint: `create a new one on the auth server: tctl tokens add --type=${wanted}`})
        }
        found = {token: stored.token, roles: stored.roles, expires, static: false, usesLeft: usesLeft(stored)}
      }
    }
    if (!found) {
      throw new AccessDeniedError('unknown join token', {
        hint: `check the token against "tctl tokens ls" on the auth server, or create one: tctl tokens add --type=${wanted}`,
      })
    }
    if (!found.roles.includes(wanted)) {
      throw new AccessDeniedError(`token does not allow role ${JSON.stringify(wanted)}; it is for ${found.roles.join(', ')}`, {
        hint: `create a token for this role: tctl tokens add --type=${wanted}`,
      })
    }
    return {...found, roles: [...found.roles]}
  }

  /**
   * Lets a host join with `token` as `role`, writing `claim` (its host id) in the same atomic write
   * that takes one use of a dynamic token when the host is new. Racing joins on one token: a join
   * that lost the race for the token's record reads it again and takes one of the uses left (so
   * N hosts joining at once with an N-use token all join, on etcd as on SQLite); with none left,
   * "already been used". A lost race for the host id itself is CompareFailedError.
   */
  async admit(token: string, role: JoinRole | string, claim: HostIdClaim): Promise<JoinToken> {
    const found = await this.validate(token, role)
    if (found.static || !claim.newHost) {
      await this.backend.atomicWrite(claim.operations, claim.conditions)
      return found
    }
    for (;;) {
      const current = await this.getDynamic(token)
      if (!current || usesLeft(current.stored) <= 0) {
        throw new AccessDeniedError('join token has already been used', {hint: `create a new one on the auth server: tctl tokens add --type=${parseJoinRole(role)} (add --uses=N for a token that several hosts join with)`})
      }
      const {item, stored} = current
      const spent: StoredJoinToken = {...stored, usesLeft: usesLeft(stored) - 1}
      try {
        await this.backend.atomicWrite(
          [...claim.operations, {op: 'put', item: {key: item.key, value: JSON.stringify(spent), ...(item.expires ? {expires: item.expires} : {})}}],
          [...claim.conditions, {key: item.key, kind: 'value-equals', value: item.value}],
        )
        return {...found, usesLeft: spent.usesLeft}
      } catch (err) {
        // Only a token record changed meanwhile (another host took a use) is worth another try.
        if (!(err instanceof CompareFailedError) || (await this.getDynamic(token))?.item.value === item.value) throw err
      }
    }
  }

  /** Compares against every static token (no early exit) in constant time. */
  private findStatic(token: string): JoinToken | undefined {
    let match: JoinToken | undefined
    for (const candidate of this.staticTokens) if (constantTimeEqual(candidate.token, token) && !match) match = candidate
    return match
  }

  private async getDynamic(token: string): Promise<{item: Item; stored: StoredJoinToken} | undefined> {
    const item = await this.find(PREFIX + tokenHash(token))
    return item && {item, stored: JSON.parse(item.value) as StoredJoinToken}
  }
}

function usesLeft(stored: StoredJoinToken): number {
  return stored.usesLeft ?? 1
}
