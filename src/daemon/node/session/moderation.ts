import type {Role} from '../../../services/roles.js'
import {moderationState} from '../../../services/session-policy.js'
import type {RoleCache} from '../../common/role-cache.js'
import type {SessionGate} from './session.js'

// The gate of a moderated session: the owner's require_session_join policies (session-policy.ts)
// over the parties present, by the role names each joined with.

/** undefined when the owner's roles require nobody. */
export function moderationGate(owner: string, ownerRoles: readonly Role[]): SessionGate | undefined {
  if (!moderationState(owner, ownerRoles, []).moderated) return undefined
  return {
    evaluate(parties) {
      const {satisfied, onLeave} = moderationState(owner, ownerRoles, parties.map((p) => ({user: p.user, roles: p.roles ?? [], mode: p.mode})))
      return {satisfied, onLeave}
    },
  }
}

/**
 * The gate of a session the owner starts (undefined: not moderated), or why it may not run: the
 * roles cannot be read, or it is moderated but has no terminal (nobody could join it).
 */
export async function sessionGate(owner: {user: string; roles: readonly string[]}, roles: Pick<RoleCache, 'getRoles'>, interactive: boolean): Promise<SessionGate | undefined | string> {
  let gate: SessionGate | undefined
  try {
    gate = moderationGate(owner.user, await roles.getRoles(owner.roles))
  } catch (err) {
    return `cannot read the user's roles from the auth server: ${(err as Error).message}`
  }
  if (gate && !interactive) return 'your roles require moderators to join your sessions (require_session_join): only interactive sessions (with a terminal) can be moderated'
  return gate
}
