// Local users: the user record, its password (bcrypt), its TOTP device, and login checking with
// lockout (5 consecutive failures lock the account for 20 minutes).
//
// Backend layout, one key per concern so secrets never travel with the public record:
//   /users/<name>/params   the public record {name, roles, traits, createdAt}
//   /users/<name>/pwd      the password hash
//   /users/<name>/totp     the TOTP device {secret, addedAt, lastUsedCounter}
//   /users/<name>/status   the login-failure counter and lock {failures, lockedUntil, lockReason}
import type {Backend, Condition, Item, Operation} from '../backend/backend.js'
import type {Clock} from '../lib/clock.js'
import {BackendService} from './backend-service.js'
import {AccessDeniedError, AlreadyExistsError, BadParameterError, CompareFailedError, NotFoundError} from '../lib/errors.js'
import {bcryptPasswordChecker, DEFAULT_BCRYPT_COST, hashPassword, type PasswordChecker} from './password.js'
import {assertValidName} from './models/resource.js'
import {formatInstant, SECOND_FACTORS, toPublic, validateRoles, validateTraits, type SecondFactor, type TotpDevice, type User} from './models/user.js'
import {totpCodeCounter} from './totp.js'
import type {Traits} from './traits.js'

export * from './models/user.js'

interface LoginStatus {
  failures: number
  lockedUntil?: string
  lockReason?: string
}

export const USERS_PREFIX = '/users/'
export const userKeys = {
  prefix: (name: string) => `${USERS_PREFIX}${name}/`,
  params: (name: string) => `${USERS_PREFIX}${name}/params`,
  password: (name: string) => `${USERS_PREFIX}${name}/pwd`,
  totp: (name: string) => `${USERS_PREFIX}${name}/totp`,
  status: (name: string) => `${USERS_PREFIX}${name}/status`,
}

export const MAX_LOGIN_ATTEMPTS = 5
export const LOCKOUT_MS = 20 * 60_000
export const INVALID_CREDENTIALS = 'invalid username, password or second factor'
const LOCK_REASON = 'too many failed login attempts'
const CAS_RETRIES = 50
/** Unknown names whose failures are remembered (in memory), oldest forgotten first. */
const MAX_UNKNOWN_NAMES = 10_000

export interface UserServiceOptions {
  clock?: Clock
  /** bcrypt cost: 10 in production; tests use 4. */
  bcryptCost?: number
  /** The cluster's second factor (auth_service.authentication.second_factor); default otp. */
  secondFactor?: SecondFactor
  maxLoginAttempts?: number
  lockoutMs?: number
  /** When given, create/update refuse roles that don't exist. */
  roleExists?: (name: string) => Promise<boolean>
  /** bcrypt by default; tests count the calls. */
  passwordChecker?: PasswordChecker
}

export interface NewUser {
  name: string
  roles: string[]
  traits?: Traits
  password?: string
}

export class UserService extends BackendService {
  readonly bcryptCost: number
  readonly secondFactor: SecondFactor
  private readonly maxLoginAttempts: number
  private readonly lockoutMs: number
  private readonly roleExists?: (name: string) => Promise<boolean>
  private readonly passwords: PasswordChecker
  /** Login failures of names that are no user, so they lock exactly as users do. */
  private readonly unknownNames = new Map<string, LoginStatus>()

  constructor(backend: Backend, options: UserServiceOptions = {}) {
    super(backend, options)
    this.bcryptCost = options.bcryptCost ?? DEFAULT_BCRYPT_COST
    this.secondFactor = options.secondFactor ?? 'otp'
    if (!SECOND_FACTORS.includes(this.secondFactor)) throw new BadParameterError(`unknown second factor ${JSON.stringify(this.secondFactor)}; expected off, otp, on or optional`)
    this.maxLoginAttempts = options.maxLoginAttempts ?? MAX_LOGIN_ATTEMPTS
    this.lockoutMs = options.lockoutMs ?? LOCKOUT_MS
    this.roleExists = options.roleExists
    this.passwords = options.passwordChecker ?? bcryptPasswordChecker
  }

  // ---- the record ---------------------------------------------------------------------------

  /** Creates a user (with a password when given). AlreadyExistsError when the name is taken. */
  async create(input: NewUser): Promise<User> {
    assertValidName('user', input?.name)
    const user: User = {
      name: input.name,
      roles: validateRoles(input.roles, input.name),
      traits: validateTraits(input.traits ?? {}, input.name),
      createdAt: this.clock.now().toISOString(),
    }
    await this.checkRolesExist(user)
    const operations: Operation[] = [{op: 'put', item: {key: userKeys.params(user.name), value: JSON.stringify(user)}}]
    if (input.password !== undefined) {
      operations.push({op: 'put', item: {key: userKeys.password(user.name), value: await hashPassword(input.password, this.bcryptCost)}})
    }
    try {
      await this.backend.atomicWrite(operations, [{key: userKeys.params(user.name), kind: 'not-exists'}])
    } catch (err) {
      if (err instanceof CompareFailedError) throw new AlreadyExistsError(`user ${JSON.stringify(user.name)} already exists`)
      throw err
    }
    return toPublic(user)
  }

  /** Changes roles and/or traits. NotFoundError when the user doesn't exist. */
  async update(name: string, changes: {roles?: string[]; traits?: Traits}): Promise<User> {
    const roles = changes.roles === undefined ? undefined : validateRoles(changes.roles, name)
    const traits = changes.traits === undefined ? undefined : validateTraits(changes.traits, name)
    if (roles) await this.checkRolesExist({name, roles})
    for (let attempt = 0; ; attempt++) {
      const item = await this.getParamsItem(name)
      const current = JSON.parse(item.value) as User
      const next: User = {...current, ...(roles ? {roles} : {}), ...(traits ? {traits} : {})}
      try {
        await this.backend.compareAndSwap(item.value, {key: item.key, value: JSON.stringify(next)})
        const status = await this.find(userKeys.status(name))
        return this.withLock(next, status && (JSON.parse(status.value) as LoginStatus))
      } catch (err) {
        if (!(err instanceof CompareFailedError) || attempt >= CAS_RETRIES) throw err
      }
    }
  }

  /** Creates or replaces the record (roles and traits), keeping the password, device and createdAt. */
  async upsert(input: Omit<NewUser, 'password'>): Promise<User> {
    assertValidName('user', input?.name)
    const roles = validateRoles(input.roles, input.name)
    const traits = validateTraits(input.traits ?? {}, input.name)
    await this.checkRolesExist({name: input.name, roles})
    try {
      return await this.update(input.name, {roles, traits})
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err
      return this.create({name: input.name, roles, traits})
    }
  }

  async get(name: string): Promise<User> {
    const item = await this.getParamsItem(name)
    const status = await this.find(userKeys.status(name))
    return this.withLock(JSON.parse(item.value) as User, status && (JSON.parse(status.value) as LoginStatus))
  }

  /** Every user, sorted by name, public fields only. */
  async list(): Promise<User[]> {
    const items = await this.backend.getRange(USERS_PREFIX)
    const statuses = new Map<string, LoginStatus>()
    const users: User[] = []
    for (const item of items) {
      const [, , name, part] = item.key.split('/')
      if (!name) continue
      if (part === 'params') users.push(JSON.parse(item.value) as User)
      else if (part === 'status') statuses.set(name, JSON.parse(item.value) as LoginStatus)
    }
    return users.map((user) => this.withLock(user, statuses.get(user.name)))
  }

  /** Deletes the user with its password, device and login status. */
  async delete(name: string): Promise<void> {
    await this.getParamsItem(name)
    await this.backend.deleteRange(userKeys.prefix(name))
  }

  // ---- credentials --------------------------------------------------------------------------

  async setPassword(name: string, password: string): Promise<void> {
    const hash = await hashPassword(password, this.bcryptCost)
    await this.writeIfUserExists(name, [{op: 'put', item: {key: userKeys.password(name), value: hash}}])
  }

  async hasPassword(name: string): Promise<boolean> {
    return (await this.find(userKeys.password(name))) !== undefined
  }

  /** Sets (replaces) the user's TOTP device. */
  async setTotpDevice(name: string, secret: string): Promise<void> {
    const device: TotpDevice = {secret, addedAt: this.clock.now().toISOString()}
    await this.writeIfUserExists(name, [{op: 'put', item: {key: userKeys.totp(name), value: JSON.stringify(device)}}])
  }

  async hasTotpDevice(name: string): Promise<boolean> {
    return (await this.find(userKeys.totp(name))) !== undefined
  }

  /** Clears a lockout and the failure counter. */
  async unlock(name: string): Promise<void> {
    await this.getParamsItem(name)
    await this.backend.put({key: userKeys.status(name), value: JSON.stringify({failures: 0} satisfies LoginStatus)})
  }

  /**
   * Checks a login. Each attempt is counted as a failure *before* the password is checked, with
   * compare-and-swap, so concurrent guesses can't slip past the limit; success resets the count.
   * The 5th consecutive failure locks the user for 20 minutes; while locked every attempt is
   * refused, even with the right password. Unknown user, wrong password, wrong or replayed code
   * all give the same AccessDeniedError, and unknown names lock the same way (counted in memory),
   * so neither answer nor timing tells which names exist.
   */
  async checkPassword(name: string, password: string, otpCode?: string): Promise<User> {
    let paramsItem: Item
    try {
      paramsItem = await this.getParamsItem(name)
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err
      this.recordUnknownAttempt(name)
      await this.passwords.burn(password, this.bcryptCost)
      throw new AccessDeniedError(INVALID_CREDENTIALS)
    }
    await this.recordAttempt(name)

    const hashItem = await this.find(userKeys.password(name))
    const passwordOk = hashItem ? await this.passwords.verify(password, hashItem.value) : (await this.passwords.burn(password, this.bcryptCost), false)
    if (!passwordOk) throw new AccessDeniedError(INVALID_CREDENTIALS)

    if (this.secondFactor !== 'off') {
      const deviceItem = await this.find(userKeys.totp(name))
      const required = this.secondFactor !== 'optional' || deviceItem !== undefined
      if (required && !(deviceItem && (await this.consumeTotpCode(deviceItem, otpCode)))) {
        throw new AccessDeniedError(INVALID_CREDENTIALS)
      }
    }
    await this.backend.put({key: userKeys.status(name), value: JSON.stringify({failures: 0} satisfies LoginStatus)})
    return this.withLock(JSON.parse(paramsItem.value) as User, {failures: 0})
  }

  // ---- internals ----------------------------------------------------------------------------

  /** Counts one attempt as a failure; throws the lockout error when locked. */
  private async recordAttempt(name: string): Promise<void> {
    const key = userKeys.status(name)
    for (let attempt = 0; ; attempt++) {
      const now = this.clock.now()
      const item = await this.find(key)
      const next = this.nextStatus(name, item ? (JSON.parse(item.value) as LoginStatus) : {failures: 0}, now)
      const value = JSON.stringify(next)
      try {
        if (item) await this.backend.compareAndSwap(item.value, {key, value})
        else await this.backend.create({key, value})
        return
      } catch (err) {
        const raced = err instanceof CompareFailedError || err instanceof AlreadyExistsError || err instanceof NotFoundError
        if (!raced) throw err
        // Under a flood of parallel attempts: refuse rather than check a password uncounted.
        if (attempt >= CAS_RETRIES) throw new AccessDeniedError(INVALID_CREDENTIALS, {hint: 'too many simultaneous login attempts; try again'})
      }
    }
  }

  /** The same count and lock for a name that is no user, kept in memory. */
  private recordUnknownAttempt(name: string): void {
    const next = this.nextStatus(name, this.unknownNames.get(name) ?? {failures: 0}, this.clock.now())
    this.unknownNames.delete(name) // re-inserted last: the oldest entry goes first
    this.unknownNames.set(name, next)
    if (this.unknownNames.size > MAX_UNKNOWN_NAMES) this.unknownNames.delete(this.unknownNames.keys().next().value as string)
  }

  /** The status after one more attempt; throws the lockout error while locked. */
  private nextStatus(name: string, status: LoginStatus, now: Date): LoginStatus {
    const lockedUntil = status.lockedUntil ? new Date(status.lockedUntil) : undefined
    if (lockedUntil && lockedUntil > now) throw this.lockedError(name, lockedUntil)
    const failures = (lockedUntil ? 0 : status.failures) + 1 // an expired lock starts a new count
    const next: LoginStatus = {failures}
    if (failures >= this.maxLoginAttempts) {
      next.lockedUntil = new Date(now.getTime() + this.lockoutMs).toISOString()
      next.lockReason = LOCK_REASON
    }
    return next
  }

  /** Validates the code and records its counter, refusing a code at or before the last one used. */
  private async consumeTotpCode(item: Item, code: string | undefined): Promise<boolean> {
    if (!code) return false
    for (let attempt = 0; ; attempt++) {
      const device = JSON.parse(item.value) as TotpDevice
      const counter = totpCodeCounter(device.secret, code, this.clock.now().getTime())
      if (counter === null) return false
      if (device.lastUsedCounter !== undefined && counter <= device.lastUsedCounter) return false
      const next: TotpDevice = {...device, lastUsedCounter: counter}
      try {
        await this.backend.compareAndSwap(item.value, {key: item.key, value: JSON.stringify(next)})
        return true
      } catch (err) {
        if (!(err instanceof CompareFailedError) || attempt >= CAS_RETRIES) throw err
        item = await this.backend.get(item.key)
      }
    }
  }

  private lockedError(name: string, until: Date): AccessDeniedError {
    return new AccessDeniedError(`user ${JSON.stringify(name)} is locked until ${formatInstant(until)} after ${LOCK_REASON}`, {
      hint: 'wait until then, or ask an administrator for a password reset link (tctl users reset)',
    })
  }

  private withLock(user: User, status?: LoginStatus): User {
    const out = toPublic(user)
    delete out.locked
    if (status?.lockedUntil && new Date(status.lockedUntil) > this.clock.now()) {
      out.locked = {until: status.lockedUntil, reason: status.lockReason ?? LOCK_REASON}
    }
    return out
  }

  private async getParamsItem(name: string): Promise<Item> {
    assertValidName('user', name)
    try {
      return await this.backend.get(userKeys.params(name))
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundError(`user ${JSON.stringify(name)} is not found`)
      throw err
    }
  }


  private async writeIfUserExists(name: string, operations: Operation[]): Promise<void> {
    assertValidName('user', name)
    const conditions: Condition[] = [{key: userKeys.params(name), kind: 'exists'}]
    try {
      await this.backend.atomicWrite(operations, conditions)
    } catch (err) {
      if (err instanceof CompareFailedError) throw new NotFoundError(`user ${JSON.stringify(name)} is not found`)
      throw err
    }
  }

  private async checkRolesExist(user: {name: string; roles: string[]}): Promise<void> {
    if (!this.roleExists) return
    for (const role of user.roles) {
      if (!(await this.roleExists(role))) {
        throw new BadParameterError(`user ${JSON.stringify(user.name)}: role ${JSON.stringify(role)} is not found`, {hint: 'list roles with `tctl get roles`'})
      }
    }
  }
}
