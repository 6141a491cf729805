import type {Connection} from 'ssh2'
import type {EmitNamed, EventFields} from '../../events/index.js'
import type {Clock} from '../../lib/clock.js'
import type {Logger} from '../../lib/log.js'
import type {AccessCache} from '../common/access-cache.js'
import type {ParsedCert} from '../../sshca/index.js'
import type {OpenSessions} from './open-sessions.js'
import type {OsLogin} from './os-login.js'
import type {SessionRecorder} from './recording/session-recorder.js'
import type {RoleCache} from '../common/role-cache.js'
import type {SessionTap} from './session/tap.js'
import type {TrackedSession} from './session/tracker-tap.js'

// What the parts of the node's SSH server share: the node itself, and one authenticated connection.

export interface NodeContext {
  hostUuid: string
  nodeName: string
  clusterName: string
  /** CA public keys as they are now (refreshed from auth). */
  userCAs(): string[]
  hostCAs(): string[]
  /** The proxy's public web address as auth last said, "" while unknown (SSH_SESSION_WEBPROXY_ADDR). */
  proxyWebAddr(): string
  /** Static labels merged with command-label results: what RBAC matches against. */
  labels(): Record<string, string>
  roles: RoleCache
  /** Locks and deleted users, as auth last told us. */
  access: AccessCache
  /** Audit events, to auth through the node's BufferedEmitter: never waits, never throws at the caller. */
  emit: EmitNamed
  /** The node's time and timers (session start and stop times, deadlines). */
  clock: Clock
  /** Sessions recorded on disk until their session.end is emitted. */
  openSessions: OpenSessions
  /** Records sessions in the cluster's recording mode. */
  recorder: SessionRecorder
  /** The tap keeping a session's tracker on auth (tsh sessions ls). */
  trackSession(session: TrackedSession): SessionTap
  log: Logger
}

/** A logged-in connection, as the node ends it when a lock or a deletion reaches its user. */
export interface LiveConnection {
  user: string
  /** The roles named in the certificate. */
  roles: readonly string[]
  /** Writes the message to each session's stderr, then closes the connection. */
  end(message: string): Promise<void>
}

/** "ip:port" of each end, and the parts SSH_CLIENT / SSH_CONNECTION need. */
export interface Endpoints {
  remoteIp: string
  remotePort: number
  localIp: string
  localPort: number
  /** The connection came through a proxy of the cluster (its signed preamble said so). */
  viaProxy?: boolean
}

export interface ConnectionContext {
  node: NodeContext
  client: Connection
  /** The verified user certificate: keyId is the cluster user. */
  cert: ParsedCert
  user: string
  login: string
  osLogin: OsLogin
  endpoints: Endpoints
  /** Fields every event about this connection carries. */
  eventFields(): EventFields
}

export {plainIp} from '../../lib/net/ip.js'

export function certAllows(cert: ParsedCert, extension: 'permit-pty' | 'permit-port-forwarding' | 'permit-agent-forwarding' | 'permit-X11-forwarding'): boolean {
  return Object.hasOwn(cert.extensions, extension)
}
