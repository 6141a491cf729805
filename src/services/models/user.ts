// The user model: the public user record, its validation and the `kind: user` resource
// (tctl get users / tctl create -f user.yaml). No password hashing or TOTP here: tctl checks a
// user file with this alone (UserService in ../users.ts stores users and their secrets).
import {BadParameterError} from '../../lib/errors.js'
import {isPlainObject, parseEnvelope, type Resource} from './resource.js'
import type {Traits} from '../traits.js'

export type SecondFactor = 'off' | 'otp' | 'on' | 'optional'
export const SECOND_FACTORS: readonly SecondFactor[] = ['off', 'otp', 'on', 'optional']

export interface UserLock {
  /** ISO 8601. */
  until: string
  reason: string
}

/** The public user: safe to print, list and send to any client. */
export interface User {
  name: string
  roles: string[]
  traits: Traits
  /** ISO 8601. */
  createdAt: string
  locked?: UserLock
}

export interface TotpDevice {
  /** Base32. */
  secret: string
  addedAt: string
  /** Time-step counter of the last code accepted; codes at or before it are refused (replay). */
  lastUsedCounter?: number
}

/** Only the public fields, whatever else the object carries. */
export function toPublic(user: User): User {
  const out: User = {name: user.name, roles: [...user.roles], traits: structuredClone(user.traits ?? {}), createdAt: user.createdAt}
  if (user.locked) out.locked = {until: user.locked.until, reason: user.locked.reason}
  return out
}

// ---- validation -----------------------------------------------------------------------------

export function validateRoles(roles: unknown, user: string): string[] {
  if (!Array.isArray(roles) || roles.length === 0) throw new BadParameterError(`user ${JSON.stringify(user)}: at least one role is required`)
  for (const role of roles) {
    if (typeof role !== 'string' || role === '') throw new BadParameterError(`user ${JSON.stringify(user)}: role names must be non-empty strings`)
  }
  return [...new Set(roles as string[])]
}

export function validateTraits(traits: unknown, user: string): Traits {
  if (!isPlainObject(traits)) throw new BadParameterError(`user ${JSON.stringify(user)}: traits must be a mapping of names to lists of strings`)
  const out: Traits = {}
  for (const [key, values] of Object.entries(traits)) {
    const list = typeof values === 'string' ? [values] : values
    if (!Array.isArray(list) || list.some((v) => typeof v !== 'string')) {
      throw new BadParameterError(`user ${JSON.stringify(user)}: traits.${key}: expected a list of strings`)
    }
    out[key] = [...new Set(list as string[])]
  }
  return out
}

/** 2026-01-01T00:20:00Z (no milliseconds). */
export function formatInstant(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

// ---- the `user` resource (tctl get users / tctl create -f user.yaml) --------------------------

export interface UserResourceSpec {
  roles: string[]
  traits: Traits
  created_at?: string
  status?: {is_locked: boolean; locked_until?: string; lock_reason?: string}
}

export function userToResource(user: User): Resource<UserResourceSpec> {
  const spec: UserResourceSpec = {roles: [...user.roles], traits: structuredClone(user.traits), created_at: user.createdAt}
  spec.status = user.locked ? {is_locked: true, locked_until: user.locked.until, lock_reason: user.locked.reason} : {is_locked: false}
  return {kind: 'user', version: 'v2', metadata: {name: user.name}, spec}
}

/** Roles and traits from a `kind: user` resource; created_at and status are output only and ignored. */
export function userFromResource(raw: unknown): {name: string; roles: string[]; traits: Traits} {
  const resource = parseEnvelope(raw, ['user'])
  const name = resource.metadata.name
  if (resource.version !== 'v2') throw new BadParameterError(`user ${JSON.stringify(name)}: unsupported version ${JSON.stringify(resource.version)}; expected v2`)
  const spec = resource.spec as Record<string, unknown>
  for (const key of Object.keys(spec)) {
    if (!['roles', 'traits', 'created_at', 'status', 'created_by', 'expires'].includes(key)) {
      throw new BadParameterError(`user ${JSON.stringify(name)}: spec.${key}: unknown field; expected roles, traits`)
    }
  }
  return {name, roles: validateRoles(spec.roles, name), traits: validateTraits(spec.traits ?? {}, name)}
}
