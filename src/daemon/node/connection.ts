import type {Connection} from 'ssh2'
import {EventCode, EventName, type EventFields} from '../../events/index.js'
import {joinHostPort} from '../../lib/net/ip.js'
import {acceptCertLogins} from '../../ssh/cert-login.js'
import {endConnectionWith} from '../common/end-connection.js'
import {type ConnectionContext, type Endpoints, type LiveConnection, type NodeContext} from './context.js'
import {decideLogin} from './login-access.js'
import {handleDirectTcpip, RemoteForwards} from './port-forwarding.js'
import type {SessionRegistry} from './session/registry.js'
import {SessionChannel} from './session/ssh-shell.js'

// One client connection to the node: certificate-only authentication (cert-login.ts: refusals
// audited as AuthAttempts decides, a refused signed attempt told "access denied"), then its
// channels: sessions, and port forwarding when the certificate allows it.

export function handleConnection(node: NodeContext, client: Connection, endpoints: Endpoints, sessions: SessionRegistry, live: Set<LiveConnection>): void {
  const remote = joinHostPort(endpoints.remoteIp, endpoints.remotePort)
  const authenticated = acceptCertLogins(client, {
    hostName: node.nodeName,
    remote,
    clientIp: endpoints.remoteIp,
    trustedUserCAs: () => node.userCAs(),
    decide: (cert, login) => decideLogin(node, cert, login),
    audit: (refusal) =>
      node.emit(EventName.AuthAttempt, EventCode.AuthAttemptFailure, {
        user: refusal.user,
        login: refusal.login,
        success: false,
        error: refusal.error,
        'addr.remote': remote,
        server_id: node.hostUuid,
        server_hostname: node.nodeName,
      }),
    log: node.log,
  })
  client.once('close', () => {
    if (!authenticated()) node.log.debug(`Connection from ${remote} closed without logging in.`)
  })
  client.on('error', (err) => node.log.debug(`connection from ${remote}: ${err.message}`))

  client.once('ready', () => {
    const loggedIn = authenticated()
    if (!loggedIn) return client.end()
    const {cert, login, grant: osLogin} = loggedIn
    const conn: ConnectionContext = {
      node,
      client,
      cert,
      user: cert.keyId,
      login,
      osLogin,
      endpoints,
      eventFields: (): EventFields => ({
        user: cert.keyId,
        login,
        server_id: node.hostUuid,
        server_hostname: node.nodeName,
        'addr.remote': remote,
        'addr.local': joinHostPort(endpoints.localIp, endpoints.localPort),
      }),
    }
    node.log.debug(`User "${conn.user}" logged in as "${login}" from ${remote}.`)
    const mine = new Set<SessionChannel>()
    const forwards = new RemoteForwards(conn)
    client.on('session', (accept) => {
      const session = new SessionChannel(conn, accept(), sessions)
      mine.add(session)
    })
    client.on('tcpip', (accept, reject, info) => handleDirectTcpip(conn, accept, reject, info))
    client.on('request', (accept, reject, name, info) => forwards.handle(accept, reject, name, info as never))
    client.on('openssh.streamlocal', (_accept, reject) => reject())
    let endReason = 'client disconnected'
    const entry: LiveConnection = {
      user: cert.keyId,
      roles: cert.roles,
      async end(message) {
        if (!live.delete(entry)) return
        endReason = message
        node.log.info(`Ending the connection of "${conn.user}" from ${remote}: ${message}`)
        await endConnectionWith(client, mine, message)
      },
    }
    live.add(entry)
    client.once('close', () => {
      live.delete(entry)
      forwards.closeAll()
      for (const session of mine) session.hangUp()
      node.emit(EventName.ClientDisconnect, EventCode.ClientDisconnect, {...conn.eventFields(), reason: endReason})
    })
  })
}
