// The lock model, as Teleport has it: a resource that refuses a user, everyone holding a role, or
// a node, until it is removed or expires; its validation and what a lock in force says.
// LockService (../locks.ts) stores locks.
import {AccessDeniedError, BadParameterError} from '../../lib/errors.js'
import {isPlainObject, parseEnvelope, type Resource} from './resource.js'

/** Every field given must match (Teleport ANDs a target's fields). */
export interface LockTarget {
  user?: string
  role?: string
  /** A node's host UUID. */
  node?: string
}

export interface LockSpec {
  target: LockTarget
  message?: string
  /** ISO 8601; absent: in force until removed. */
  expires?: string
  created_at?: string
  created_by?: string
}

export type Lock = Resource<LockSpec> & {kind: 'lock'; version: 'v2'}

/** What a caller or connection is, as far as locks go. */
export interface LockSubject {
  user?: string
  roles?: readonly string[]
  node?: string
}

const TARGET_FIELDS = ['user', 'role', 'node'] as const
const TARGET_LABELS: Record<(typeof TARGET_FIELDS)[number], string> = {user: 'User', role: 'Role', node: 'Node'}
const SPEC_FIELDS = new Set(['target', 'message', 'expires', 'created_at', 'created_by'])

/** `User:"alice"`: how Teleport names a lock's target. */
export function lockTargetString(target: LockTarget): string {
  return TARGET_FIELDS.filter((f) => target[f] !== undefined)
    .map((f) => `${TARGET_LABELS[f]}:${JSON.stringify(target[f])}`)
    .join(', ')
}

/** Teleport's refusal: `lock targeting User:"alice" is in force: <message>`. */
export function lockInForceMessage(lock: Lock): string {
  const base = `lock targeting ${lockTargetString(lock.spec.target)} is in force`
  return lock.spec.message ? `${base}: ${lock.spec.message}` : base
}

export function lockExpired(lock: Lock, now: Date): boolean {
  return lock.spec.expires !== undefined && new Date(lock.spec.expires).getTime() <= now.getTime()
}

export function lockMatches(lock: Lock, subject: LockSubject): boolean {
  const {user, role, node} = lock.spec.target
  if (user !== undefined && user !== subject.user) return false
  if (role !== undefined && !(subject.roles ?? []).includes(role)) return false
  if (node !== undefined && node !== subject.node) return false
  return true
}

/** The first lock in force that targets the subject. */
export function findLockInForce(locks: readonly Lock[], subject: LockSubject, now: Date): Lock | undefined {
  return locks.find((lock) => !lockExpired(lock, now) && lockMatches(lock, subject))
}

export function assertNotLocked(locks: readonly Lock[], subject: LockSubject, now: Date): void {
  const lock = findLockInForce(locks, subject, now)
  if (lock) throw new AccessDeniedError(lockInForceMessage(lock))
}

/** Checks a `kind: lock` resource (tctl create, the API) and returns it in canonical form. */
export function lockFromResource(raw: unknown): Lock {
  const resource = parseEnvelope(raw, ['lock'])
  const name = resource.metadata.name
  const where = `lock ${JSON.stringify(name)}`
  if (resource.version !== 'v2') throw new BadParameterError(`${where}: unsupported version ${JSON.stringify(resource.version)}; expected v2`)
  const spec = resource.spec as Record<string, unknown>
  for (const key of Object.keys(spec)) {
    if (!SPEC_FIELDS.has(key)) throw new BadParameterError(`${where}: spec.${key}: unknown field; expected target, message, expires`)
  }
  const out: LockSpec = {target: validateTarget(spec.target, where)}
  if (spec.message !== undefined) {
    if (typeof spec.message !== 'string') throw new BadParameterError(`${where}: spec.message: expected a string`)
    if (spec.message !== '') out.message = spec.message
  }
  const expires = spec.expires ?? resource.metadata.expires
  if (expires !== undefined && expires !== null) out.expires = instant(expires, `${where}: spec.expires`)
  for (const field of ['created_at', 'created_by'] as const) {
    if (typeof spec[field] === 'string') out[field] = spec[field]
  }
  return {kind: 'lock', version: 'v2', metadata: {name}, spec: out}
}

function validateTarget(raw: unknown, where: string): LockTarget {
  if (!isPlainObject(raw)) throw new BadParameterError(`${where}: spec.target: expected a mapping with user, role or node`)
  const target: LockTarget = {}
  for (const [key, value] of Object.entries(raw)) {
    if (!(TARGET_FIELDS as readonly string[]).includes(key)) throw new BadParameterError(`${where}: spec.target.${key}: unknown field; expected user, role or node`)
    if (value === undefined || value === null || value === '') continue
    if (typeof value !== 'string') throw new BadParameterError(`${where}: spec.target.${key}: expected a string`)
    target[key as keyof LockTarget] = value
  }
  if (Object.keys(target).length === 0) throw new BadParameterError(`${where}: spec.target: name a user, role or node to lock`)
  return target
}

function instant(value: unknown, field: string): string {
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined
  if (!date || Number.isNaN(date.getTime())) throw new BadParameterError(`${field}: expected an RFC 3339 time like 2026-01-31T12:00:00Z`)
  return date.toISOString()
}

export interface NewLock {
  target: LockTarget
  message?: string
  /** How long the lock holds; absent: until removed. */
  ttlMs?: number
  createdBy?: string
}
