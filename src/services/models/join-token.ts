// The join token model: token types (roles), what a token carries, and the parsing of token
// types and of auth_service.tokens entries. JoinTokenService (../join-tokens.ts) stores tokens.
import {BadParameterError} from '../../lib/errors.js'

export const JOIN_ROLES = ['node', 'proxy', 'auth', 'trusted_cluster'] as const
export type JoinRole = (typeof JOIN_ROLES)[number]

export const DEFAULT_JOIN_TOKEN_TTL_MS = 15 * 60_000
export const DEFAULT_MAX_JOIN_TOKEN_TTL_MS = 24 * 60 * 60_000
export const MAX_JOIN_TOKEN_USES = 10_000

export interface JoinToken {
  token: string
  roles: JoinRole[]
  /** Absent for static tokens (they never expire). */
  expires?: Date
  static: boolean
  /** How many more new hosts may join with it; absent for static tokens (no limit). */
  usesLeft?: number
}

export interface AddJoinToken {
  /** One role, a list, or a comma-separated string ("node,proxy"). */
  type: JoinRole | JoinRole[] | string
  /** Default 15m; may not exceed the configured maximum. */
  ttlMs?: number
  /** A chosen token value; default 32 random hex characters. */
  token?: string
  /** How many new hosts may join with it; default 1. */
  uses?: number
}

/** Parses one role name (case-insensitive: the reference writes "Node"). */
export function parseJoinRole(text: string): JoinRole {
  const role = text.trim().toLowerCase()
  if (!(JOIN_ROLES as readonly string[]).includes(role)) {
    throw new BadParameterError(`unknown token type ${JSON.stringify(text)}; expected one of ${JOIN_ROLES.join(', ')}`)
  }
  return role as JoinRole
}

export function parseJoinRoles(type: AddJoinToken['type']): JoinRole[] {
  const list = Array.isArray(type) ? type : typeof type === 'string' ? type.split(',') : []
  const roles = [...new Set(list.map((t) => parseJoinRole(String(t))))]
  if (roles.length === 0) throw new BadParameterError(`a token type is required; expected one of ${JOIN_ROLES.join(', ')}`)
  return roles
}

/** Parses auth_service.tokens entries. BadParameterError names the bad entry (without its secret). */
export function parseStaticTokens(entries: readonly string[]): JoinToken[] {
  return entries.map((entry, index) => {
    const colon = typeof entry === 'string' ? entry.indexOf(':') : -1
    if (colon <= 0 || colon === entry.length - 1) {
      throw new BadParameterError(`auth_service.tokens[${index}]: expected "<type>:<token>", e.g. "node:abc123"`)
    }
    let roles: JoinRole[]
    try {
      roles = parseJoinRoles(entry.slice(0, colon))
    } catch (err) {
      throw new BadParameterError(`auth_service.tokens[${index}]: ${(err as Error).message}`)
    }
    return {token: entry.slice(colon + 1).trim(), roles, static: true}
  })
}
