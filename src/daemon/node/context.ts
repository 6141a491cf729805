import type {Connection} from 'ssh2'
import type {EventCode, EventFields, EventName} from '../../events/index.js'
import type {Logger} from '../../lib/log.js'
import type {ParsedCert} from '../../sshca/index.js'
import type {OpenSessions} from './open-sessions.js'
import type {OsLogin} from './os-login.js'
import type {RoleCache} from './role-cache.js'

// What the parts of the node's SSH server share: the node itself, and one authenticated connection.

export interface NodeContext {
  hostUuid: string
  nodeName: string
  clusterName: string
  /** CA public keys as they are now (refreshed from auth). */
  userCAs(): string[]
  hostCAs(): string[]
  /** Static labels merged with command-label results: what RBAC matches against. */
  labels(): Record<string, string>
  roles: RoleCache
  emit(name: EventName, code: EventCode, fields: EventFields): void
  /** Sessions recorded on disk until their session.end is emitted. */
  openSessions: OpenSessions
  log: Logger
}

/** "ip:port" of each end, and the parts SSH_CLIENT / SSH_CONNECTION need. */
export interface Endpoints {
  remoteIp: string
  remotePort: number
  localIp: string
  localPort: number
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

export function formatEndpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`
}

/** "::ffff:127.0.0.1" (an IPv4 client on a dual-stack socket) as "127.0.0.1". */
export function plainIp(ip: string | undefined): string {
  if (!ip) return ''
  return ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '')
}

export function certAllows(cert: ParsedCert, extension: 'permit-pty' | 'permit-port-forwarding' | 'permit-agent-forwarding' | 'permit-X11-forwarding'): boolean {
  return Object.hasOwn(cert.extensions, extension)
}
