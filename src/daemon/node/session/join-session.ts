import {EventCode, EventName, type EmitNamed, type EventFields} from '../../../events/index.js'
import {PARTICIPANT_MODES, type ParticipantMode} from '../../../services/models/session-tracker.js'
import type {Role} from '../../../services/roles.js'
import {checkJoinSession} from '../../../services/session-policy.js'
import type {RoleCache} from '../../common/role-cache.js'
import type {Party, PartyOutput} from './party.js'
import type {SessionRegistry} from './registry.js'

// A party joining a session already running on this node (`tsh join`: a shell request carrying
// TELEPORT_SESSION and TELEPORT_PARTICIPANT_MODE). The join is authorized by the joiner's and the
// owner's roles as auth has them now (join_sessions, session-policy.ts), not by the login the
// joiner connected as: that login only got them onto the node. Joins, leaves and refusals are
// audited by the node (session.join T2001I, session.leave T2003I, session.rejected T1006W).
// The recording proxy joins the sessions it holds the same way, standing in for the node.

/** Who joins: a connection to the node, or one the recording proxy terminated for it. */
export interface Joiner {
  user: string
  cert: {roles: readonly string[]}
  eventFields(): EventFields
  /** Where the join is audited, and the roles as auth has them now. */
  node: {emit: EmitNamed; roles: Pick<RoleCache, 'getRoles'>}
}

export type JoinOutcome = {joined: Party} | {refused: string}

export interface JoinRequest {
  sid: string
  /** As sent; absent: observer. */
  mode: string | undefined
  output: PartyOutput
  input: NodeJS.ReadableStream
}

export async function joinSession(conn: Joiner, registry: SessionRegistry, request: JoinRequest): Promise<JoinOutcome> {
  const {node} = conn
  const modeText = request.mode ?? 'observer'
  const fields = {...conn.eventFields(), sid: request.sid, participant_mode: modeText}
  const refuse = (reason: string): JoinOutcome => {
    node.emit(EventName.SessionRejected, EventCode.SessionRejected, {...fields, reason})
    return {refused: reason}
  }
  if (!(PARTICIPANT_MODES as readonly string[]).includes(modeText)) return refuse(`invalid participant mode ${JSON.stringify(modeText)}; expected ${PARTICIPANT_MODES.join(', ')}`)
  const mode = modeText as ParticipantMode
  const session = registry.get(request.sid)
  // The same answer for a session that does not exist and one the joiner may not see.
  const notFound = `session ${request.sid} is not found on this node`
  if (!session?.running || !session.owner) return refuse(notFound)
  if (!session.interactive) return refuse(`session ${request.sid} has no terminal and cannot be joined`)
  let joinerRoles: Role[]
  let ownerRoles: Role[]
  try {
    ;[joinerRoles, ownerRoles] = await Promise.all([node.roles.getRoles(conn.cert.roles), node.roles.getRoles(session.owner.roles)])
  } catch (err) {
    return refuse(`cannot read roles from the auth server: ${(err as Error).message}`)
  }
  const decision = checkJoinSession({joiner: {name: conn.user, roles: joinerRoles}, owner: {name: session.owner.user, roles: ownerRoles}, mode})
  if (!decision.allowed) return refuse(decision.reason)
  if (!session.running) return refuse(notFound) // it ended while roles were read
  const party = session.join({user: conn.user, mode, roles: joinerRoles.map((r) => r.metadata.name), output: request.output, input: request.input})
  node.emit(EventName.SessionJoin, EventCode.SessionJoin, fields)
  void party.left.then(() => node.emit(EventName.SessionLeave, EventCode.SessionLeave, fields))
  return {joined: party}
}
