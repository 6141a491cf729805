// The certificate extensions Teleport adds on top of OpenSSH's, and their JSON payloads.
// Names and shapes follow Teleport so existing tooling reading the certificates keeps working.

import {BadParameterError} from '../lib/errors.js'

export const EXT_PERMIT_PTY = 'permit-pty'
export const EXT_PERMIT_AGENT_FORWARDING = 'permit-agent-forwarding'
export const EXT_PERMIT_PORT_FORWARDING = 'permit-port-forwarding'
export const EXT_PERMIT_X11_FORWARDING = 'permit-X11-forwarding'
export const EXT_TELEPORT_ROLES = 'teleport-roles'
export const EXT_TELEPORT_TRAITS = 'teleport-traits'
export const EXT_TELEPORT_ROUTE_TO_CLUSTER = 'teleport-route-to-cluster'
export const EXT_HOST_ROLE = 'x-teleport-role'
export const EXT_HOST_AUTHORITY = 'x-teleport-authority'

export const OPT_SOURCE_ADDRESS = 'source-address'
export const OPT_FORCE_COMMAND = 'force-command'

export const HOST_ROLES = ['Node', 'Proxy', 'Auth', 'Admin'] as const
export type HostRole = (typeof HOST_ROLES)[number]

export function encodeRoles(roles: string[]): string {
  return JSON.stringify({version: 'v1', roles})
}

/** Roles from a teleport-roles value; [] when the extension is absent. */
export function decodeRoles(value: string | undefined): string[] {
  if (value === undefined) return []
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    throw new BadParameterError(`certificate extension ${EXT_TELEPORT_ROLES} is not JSON`)
  }
  const roles = (parsed as {roles?: unknown})?.roles
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) {
    throw new BadParameterError(`certificate extension ${EXT_TELEPORT_ROLES} must be {"version":"v1","roles":[...]}`)
  }
  return roles
}

export function encodeTraits(traits: Record<string, string[]>): string {
  return JSON.stringify(traits)
}

/** Traits from a teleport-traits value; {} when the extension is absent. */
export function decodeTraits(value: string | undefined): Record<string, string[]> {
  if (value === undefined) return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    throw new BadParameterError(`certificate extension ${EXT_TELEPORT_TRAITS} is not JSON`)
  }
  // Teleport writes null for a user without traits.
  if (parsed === null) return {}
  const valid =
    typeof parsed === 'object' &&
    !Array.isArray(parsed) &&
    Object.values(parsed as object).every((v) => Array.isArray(v) && v.every((s) => typeof s === 'string'))
  if (!valid) throw new BadParameterError(`certificate extension ${EXT_TELEPORT_TRAITS} must map names to lists of strings`)
  return parsed as Record<string, string[]>
}
