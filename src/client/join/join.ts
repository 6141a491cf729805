import type {Writable} from 'node:stream'
import type ssh2 from 'ssh2'
import type {SessionTracker} from '../../api/auth-api.js'
import {NotFoundError, UsageError, UserError} from '../../lib/errors.js'
import {JOIN_SESSION_ENV, PARTICIPANT_MODE_ENV, PARTICIPANT_MODES, trackerNodeId, type ParticipantMode} from '../../services/models/session-tracker.js'
import {authApiViaProxy} from '../connect/auth-via-proxy.js'
import type {ConnectIdentity} from '../connect/identity.js'
import {connectToNode} from '../connect/node.js'
import {runSession, type TerminalIn, type TerminalOut} from '../ssh/session.js'

// `tsh join`: find the session's node from its tracker (auth, through the proxy), connect to that
// node through the proxy as the session's login, and open a shell channel on a terminal whose
// env asks the node to join the session (TELEPORT_SESSION, TELEPORT_PARTICIPANT_MODE) instead of
// starting a shell. The node decides whether we may (join_sessions); the local terminal is raw
// while joined (Ctrl-C reaches the node: it is how observers and moderators leave) and restored
// after.

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export interface JoinArgs {
  sid: string
  mode: ParticipantMode
  /** The login to connect as; default the session's. */
  login?: string
  cluster?: string
}

export interface JoinIO {
  stdin: TerminalIn
  stdout: TerminalOut
  stderr: Writable
}

/** How the join reaches the cluster (the proxy in tsh; a node directly in tests). */
export interface JoinRoute {
  /** The session's tracker; NotFoundError when auth has none the user may see. */
  lookup(sid: string): Promise<SessionTracker>
  connect(tracker: SessionTracker, login: string): Promise<{client: ssh2.Client; close(): void}>
}

/** Checks the command line's session id and mode (usage errors, exit status 2). */
export function parseJoinArgs(sid: string, mode: string | undefined, extra: {login?: string; cluster?: string} = {}): JoinArgs {
  const id = sid.trim().toLowerCase()
  if (!SESSION_ID.test(id)) throw new UsageError(`invalid session id ${JSON.stringify(sid)}: expected a UUID such as 6b5f9a5e-1c1e-4d2b-9c51-0d1f3c2a7e11`, {hint: 'list the sessions you may join with "tsh sessions ls"'})
  const m = mode ?? 'observer'
  if (!(PARTICIPANT_MODES as readonly string[]).includes(m)) throw new UsageError(`invalid participant mode ${JSON.stringify(m)}; expected ${PARTICIPANT_MODES.join(', ')}`)
  return {sid: id, mode: m as ParticipantMode, ...(extra.login ? {login: extra.login} : {}), ...(extra.cluster ? {cluster: extra.cluster} : {})}
}

/** The env of the shell request that joins instead of starting a shell. */
export function joinEnv(args: Pick<JoinArgs, 'sid' | 'mode'>): Record<string, string> {
  return {[JOIN_SESSION_ENV]: args.sid, [PARTICIPANT_MODE_ENV]: args.mode}
}

/** Joins the session until it ends or we leave; resolves with the exit status (the node's, 255 without one). */
export async function joinSession(args: JoinArgs, io: JoinIO, route: JoinRoute, options: {log?: (line: string) => void} = {}): Promise<number> {
  let tracker: SessionTracker
  try {
    tracker = await route.lookup(args.sid)
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(`session ${args.sid} is not found`, {hint: 'list the sessions you may join with "tsh sessions ls"'})
    throw err
  }
  if (tracker.state === 'TERMINATED') throw new UserError(`session ${args.sid} has ended`)
  const login = args.login ?? tracker.login
  options.log?.(`joining session ${args.sid} on ${tracker.hostname} (${tracker.hostId}) as ${login}, mode ${args.mode}`)
  const conn = await route.connect(tracker, login)
  try {
    return await runSession(conn.client, {
      command: [],
      pty: true,
      forwardAgent: false,
      env: joinEnv(args),
      host: tracker.hostname,
      stdin: io.stdin,
      stdout: io.stdout,
      stderr: io.stderr,
      escapeChar: '~',
      ...(options.log ? {log: options.log} : {}),
    })
  } finally {
    conn.close()
  }
}

/** The route tsh takes: the tracker from auth through the proxy, the node by its id through the proxy. */
export function proxyJoinRoute(identity: ConnectIdentity, options: {cluster?: string; log?: (line: string) => void} = {}): JoinRoute {
  const {cluster, log} = options
  return {
    async lookup(sid) {
      const api = authApiViaProxy(identity, {...(cluster ? {cluster} : {}), ...(log ? {log} : {})})
      try {
        return await api.getSessionTracker(sid)
      } finally {
        await api.close().catch(() => {})
      }
    },
    connect: (tracker, login) =>
      // Dialled by host id, which the node's host certificate carries (in recording proxy mode the
      // proxy holds the session and answers for the node, with a certificate for its names).
      connectToNode(identity, trackerNodeId(tracker), undefined, login, {
        expectPrincipal: trackerNodeId(tracker),
        displayName: tracker.hostname,
        ...(cluster ? {cluster} : {}),
        ...(log ? {log} : {}),
      }),
  }
}
