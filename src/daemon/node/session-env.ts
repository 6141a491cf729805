import {defaultPath, type OsLogin} from './os-login.js'
import type {Endpoints} from './context.js'

// A session's environment, built whole (nothing of the daemon's own environment leaks in):
// the login environment sshd gives (HOME, USER, LOGNAME, SHELL, PATH, MAIL), the SSH_* variables
// (Teleport's own among them), TERM from the pty request, and the client's env requests that are
// allowed through.

/** Sent by `tsh join` on a shell request: the session to join instead of starting a program, and the mode. */
export {JOIN_SESSION_ENV, PARTICIPANT_MODE_ENV} from '../../services/models/session-tracker.js'

/** Client env requests accepted, as with sshd's AcceptEnv: TERM, LANG, LC_*, TELEPORT_* (the join requests among them). */
export function isAcceptedEnv(name: string): boolean {
  return name === 'TERM' || name === 'LANG' || /^LC_[A-Z_]+$/.test(name) || /^TELEPORT_[A-Z0-9_]+$/.test(name)
}

export interface SessionEnvInput {
  login: OsLogin
  endpoints: Endpoints
  /** Accepted env requests, in order. */
  requested: Record<string, string>
  term?: string
  agentSocket?: string
  originalCommand?: string
  teleport: TeleportSessionVars
}

/** What Teleport tells a session about itself (SSH_TELEPORT_*, SSH_SESSION_*). */
export interface TeleportSessionVars {
  /** The cluster user (the certificate's key id). */
  user: string
  sessionId: string
  hostUuid: string
  clusterName: string
  /** The proxy's public web address, when the node knows it. */
  webProxyAddr?: string
}

export function sessionEnv(input: SessionEnvInput): Record<string, string> {
  const {login, endpoints: e} = input
  const env: Record<string, string> = {
    HOME: login.home,
    USER: login.name,
    LOGNAME: login.name,
    SHELL: login.shell,
    PATH: defaultPath(login),
    MAIL: `/var/mail/${login.name}`,
  }
  for (const [key, value] of Object.entries(input.requested)) if (isAcceptedEnv(key)) env[key] = value
  if (input.term) env.TERM = input.term
  env.SSH_CLIENT = `${e.remoteIp} ${e.remotePort} ${e.localPort}`
  env.SSH_CONNECTION = `${e.remoteIp} ${e.remotePort} ${e.localIp} ${e.localPort}`
  if (input.agentSocket) env.SSH_AUTH_SOCK = input.agentSocket
  if (input.originalCommand !== undefined) env.SSH_ORIGINAL_COMMAND = input.originalCommand
  const t = input.teleport
  env.SSH_TELEPORT_USER = t.user
  env.SSH_SESSION_ID = t.sessionId
  env.SSH_TELEPORT_HOST_UUID = t.hostUuid
  env.SSH_TELEPORT_CLUSTER_NAME = t.clusterName
  if (t.webProxyAddr) env.SSH_SESSION_WEBPROXY_ADDR = t.webProxyAddr
  return env
}
