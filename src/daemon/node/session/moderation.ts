import type {Role} from '../../../services/roles.js'
import {moderationState} from '../../../services/session-policy.js'
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
