// Invite (1h) and reset (8h) tokens: the links `tctl users add` and `tctl users reset` print.
// A token is stored under the SHA-256 of its value (/usertokens/<sha256>), so looking one up never
// compares the secret itself. The TOTP secret the user will enroll is generated with the token and
// shown on the invite page; redeeming sets the password, enrolls the device, clears any lockout
// and deletes the token in one atomic write.
import type {Backend, Condition, Item, Operation} from '../backend/backend.js'
import type {Clock} from '../lib/clock.js'
import {BackendService} from './backend-service.js'
import {AccessDeniedError, BadParameterError, CompareFailedError, NotFoundError} from '../lib/errors.js'
import {DEFAULT_BCRYPT_COST, hashPassword} from './password.js'
import {assertValidName} from './models/resource.js'
import {randomToken, tokenHash} from './secrets.js'
import {newTotpSecret, totpCodeCounter, totpUrl} from './totp.js'
import {userKeys, type SecondFactor, type TotpDevice, type User} from './users.js'

export type UserTokenKind = 'invite' | 'reset'

export const INVITE_TTL_MS = 60 * 60_000
export const RESET_TTL_MS = 8 * 60 * 60_000
const PREFIX = '/usertokens/'

interface StoredUserToken {
  kind: UserTokenKind
  user: string
  /** The user's createdAt: a link made for a deleted user can't take over a new one of that name. */
  userCreatedAt: string
  createdAt: string
  expires: string
  totpSecret: string
}

export interface UserToken {
  /** The secret itself: only in what createInvite/createReset return (it is never stored). */
  token?: string
  kind: UserTokenKind
  user: string
  createdAt: Date
  expires: Date
  /** The device to enroll, shown on the invite/reset page. */
  totp: {secret: string; otpauthUrl: string}
}

export interface UserTokenServiceOptions {
  clock?: Clock
  bcryptCost?: number
  /** Issuer in the otpauth URL (the authenticator app's label): the cluster name. */
  issuer?: string
  inviteTtlMs?: number
  resetTtlMs?: number
}

export interface RedeemRequest {
  token: string
  password: string
  otpCode?: string
  /** The cluster's second factor: 'otp'/'on' require a valid code; 'optional' enrolls only when one is given. */
  secondFactor: SecondFactor
}

export class UserTokenService extends BackendService {
  private readonly bcryptCost: number
  private readonly issuer: string
  private readonly ttl: Record<UserTokenKind, number>

  constructor(backend: Backend, options: UserTokenServiceOptions = {}) {
    super(backend, options)
    this.bcryptCost = options.bcryptCost ?? DEFAULT_BCRYPT_COST
    this.issuer = options.issuer ?? 'Teleport'
    this.ttl = {invite: options.inviteTtlMs ?? INVITE_TTL_MS, reset: options.resetTtlMs ?? RESET_TTL_MS}
  }

  /** A sign-up link token for a user who has no password yet (valid 1h). Replaces the user's older tokens. */
  async createInvite(user: string): Promise<UserToken & {token: string}> {
    return this.create('invite', user)
  }

  /**
   * A reset link token (valid 8h). The user's password and TOTP device are removed at once, as in
   * the reference: whoever had them can't log in any more; the user sets new ones through the link.
   */
  async createReset(user: string): Promise<UserToken & {token: string}> {
    return this.create('reset', user)
  }

  /** What the invite/reset page shows. NotFoundError for an unknown, used or expired token. */
  async getUserToken(token: string): Promise<UserToken> {
    const {stored} = await this.load(token)
    return this.toPublic(stored)
  }

  /** Live tokens of one user (or all), without the token value or the TOTP secret. */
  async list(user?: string): Promise<Array<Pick<UserToken, 'kind' | 'user' | 'createdAt' | 'expires'>>> {
    const now = this.clock.now()
    return (await this.backend.getRange(PREFIX))
      .map((item) => JSON.parse(item.value) as StoredUserToken)
      .filter((t) => (user === undefined || t.user === user) && new Date(t.expires) > now)
      .map((t) => ({kind: t.kind, user: t.user, createdAt: new Date(t.createdAt), expires: new Date(t.expires)}))
  }

  async delete(token: string): Promise<void> {
    const {item} = await this.load(token)
    await this.backend.delete(item.key)
  }

  /**
   * Sets the password and (per secondFactor) enrolls the TOTP device, resets any lockout and
   * deletes the token, all in one atomic write. Everything is checked first: a short password
   * or a wrong code changes nothing and leaves the token usable.
   */
  async redeem({token, password, otpCode, secondFactor}: RedeemRequest): Promise<Pick<User, 'name'>> {
    const {item, stored} = await this.load(token)
    const name = stored.user
    const hash = await hashPassword(password, this.bcryptCost) // refuses a bad length before anything is written

    let enrollCounter: number | undefined
    const wantsDevice = secondFactor === 'otp' || secondFactor === 'on' || (secondFactor === 'optional' && !!otpCode)
    if (wantsDevice) {
      if (!otpCode) throw new BadParameterError('a one-time password code from your authenticator app is required')
      const counter = totpCodeCounter(stored.totpSecret, otpCode, this.clock.now().getTime())
      if (counter === null) {
        throw new AccessDeniedError('invalid one-time password code', {hint: 'check that the clock of the device running your authenticator app is correct'})
      }
      enrollCounter = counter
    } else if (secondFactor !== 'off' && secondFactor !== 'optional') {
      throw new BadParameterError(`unknown second factor ${JSON.stringify(secondFactor)}`)
    }

    const operations: Operation[] = [
      {op: 'put', item: {key: userKeys.password(name), value: hash}},
      {op: 'put', item: {key: userKeys.status(name), value: JSON.stringify({failures: 0})}},
      {op: 'delete', key: item.key},
    ]
    if (enrollCounter !== undefined) {
      // The code used to enroll can't be replayed to log in.
      const device: TotpDevice = {secret: stored.totpSecret, addedAt: this.clock.now().toISOString(), lastUsedCounter: enrollCounter}
      operations.push({op: 'put', item: {key: userKeys.totp(name), value: JSON.stringify(device)}})
    }
    const params = await this.getUserParams(name)
    if (!params || (JSON.parse(params.value) as User).createdAt !== stored.userCreatedAt) throw notFound()
    const conditions: Condition[] = [
      {key: item.key, kind: 'value-equals', value: item.value},
      {key: params.key, kind: 'value-equals', value: params.value},
    ]
    try {
      await this.backend.atomicWrite(operations, conditions)
    } catch (err) {
      if (err instanceof CompareFailedError) throw notFound()
      throw err
    }
    return {name}
  }

  // ---- internals ----------------------------------------------------------------------------

  private async create(kind: UserTokenKind, user: string): Promise<UserToken & {token: string}> {
    assertValidName('user', user)
    const now = this.clock.now()
    const expires = new Date(now.getTime() + this.ttl[kind])
    const params = await this.getUserParams(user)
    if (!params) throw new NotFoundError(`user ${JSON.stringify(user)} is not found`)
    const token = randomToken()
    const stored: StoredUserToken = {
      kind,
      user,
      userCreatedAt: (JSON.parse(params.value) as User).createdAt,
      createdAt: now.toISOString(),
      expires: expires.toISOString(),
      totpSecret: newTotpSecret(),
    }

    const operations: Operation[] = [{op: 'put', item: {key: PREFIX + tokenHash(token), value: JSON.stringify(stored), expires}}]
    const conditions: Condition[] = [{key: params.key, kind: 'value-equals', value: params.value}]
    // Older links for the same user stop working.
    for (const old of await this.backend.getRange(PREFIX)) {
      if ((JSON.parse(old.value) as StoredUserToken).user === user) {
        operations.push({op: 'delete', key: old.key})
        conditions.push({key: old.key, kind: 'exists'})
      }
    }
    if (kind === 'reset') {
      for (const key of [userKeys.password(user), userKeys.totp(user)]) {
        if (await this.exists(key)) {
          operations.push({op: 'delete', key})
          conditions.push({key, kind: 'exists'})
        }
      }
    }
    try {
      await this.backend.atomicWrite(operations, conditions)
    } catch (err) {
      if (!(err instanceof CompareFailedError)) throw err
      if (!(await this.exists(userKeys.params(user)))) throw new NotFoundError(`user ${JSON.stringify(user)} is not found`)
      throw new CompareFailedError(`user ${JSON.stringify(user)} changed while creating the ${kind} token; try again`)
    }
    return {...this.toPublic(stored), token}
  }

  private async load(token: string): Promise<{item: Item; stored: StoredUserToken}> {
    if (typeof token !== 'string' || !/^[0-9a-f]{32}$/.test(token)) throw notFound()
    let item: Item
    try {
      item = await this.backend.get(PREFIX + tokenHash(token))
    } catch (err) {
      if (err instanceof NotFoundError) throw notFound()
      throw err
    }
    const stored = JSON.parse(item.value) as StoredUserToken
    if (new Date(stored.expires) <= this.clock.now()) throw notFound()
    return {item, stored}
  }

  private getUserParams(name: string): Promise<Item | undefined> {
    return this.find(userKeys.params(name))
  }

  private async exists(key: string): Promise<boolean> {
    return (await this.find(key)) !== undefined
  }

  private toPublic(stored: StoredUserToken): UserToken {
    return {
      kind: stored.kind,
      user: stored.user,
      createdAt: new Date(stored.createdAt),
      expires: new Date(stored.expires),
      totp: {secret: stored.totpSecret, otpauthUrl: totpUrl(stored.totpSecret, stored.user, this.issuer)},
    }
  }
}

function notFound(): NotFoundError {
  return new NotFoundError('this link is invalid, has expired or was already used', {
    hint: 'ask your administrator for a new one (tctl users reset <user>)',
  })
}
