import type {Connection} from 'ssh2'
import type ssh2 from 'ssh2'
import {EventCode, EventName, type EventFields} from '../../../events/index.js'
import {plainIp, splitHostPort} from '../../../lib/net/ip.js'
import {nodeLabels} from '../../../services/models/node.js'
import {acceptCertLogins} from '../../../ssh/cert-login.js'
import {endConnectionWith} from '../../common/end-connection.js'
import {nodeLoginRefusal} from '../../common/node-access.js'
import {AgentWait} from './agent-wait.js'
import {ForwardedChannelAgent} from './channel-agent.js'
import type {LiveTerminatedConnection, RecordingProxyContext, TerminatedConnection, TerminatedTarget} from './context.js'
import {forwardDirectTcpip, RemoteForwardRelay} from './port-forwarding.js'
import {ProxySessionChannel} from './session-channel.js'
import {connectUpstream} from './upstream.js'

// One user connection the recording proxy terminates, standing in for the node: certificate-only
// authentication and the node's access decision (node-access.ts: user, roles and locks as they are
// now, RBAC against the node's labels), refusals audited and told as our nodes tell them. Then the
// user's channels and requests: sessions (session-channel.ts), direct-tcpip and tcpip-forward
// (port-forwarding.ts), each carried over the proxy's own connection to the node, opened with the
// user's forwarded agent at the first that needs it.
// A lock or a deletion that comes into force ends the connection as the node ends its own.

export function agentRequiredMessage(nodeName: string): string {
  return `failed connecting to node ${nodeName}. agent forwarding required in proxy recording mode`
}

export function handleTerminatedConnection(ctx: RecordingProxyContext, client: Connection, target: TerminatedTarget): void {
  const {node, clientAddr} = target
  const clientIp = plainIp(splitHostPort(clientAddr).host)
  const baseFields = {server_id: node.name, server_hostname: node.hostname, 'addr.remote': clientAddr}
  const authenticated = acceptCertLogins(client, {
    hostName: node.hostname,
    remote: clientAddr,
    clientIp,
    trustedUserCAs: () => ctx.userCAs(),
    decide: async (cert, login) => {
      const refused = await nodeLoginRefusal(ctx, cert, login, {id: node.name, labels: nodeLabels(node)})
      return refused ? {allowed: false, reason: refused} : {allowed: true, grant: undefined}
    },
    audit: (refusal) => ctx.emit(EventName.AuthAttempt, EventCode.AuthAttemptFailure, {...baseFields, user: refusal.user, login: refusal.login, success: false, error: refusal.error}),
    log: ctx.log,
    logPrefix: 'recording proxy: ',
  })

  const closeNode = () => target.nodeStream.destroy()
  client.on('error', (err) => ctx.log.debug(`recording proxy: connection from ${clientAddr}: ${err.message}`))
  client.once('close', () => {
    if (!authenticated()) closeNode()
  })

  client.once('ready', () => {
    const loggedIn = authenticated()
    if (!loggedIn) return client.end()
    const {cert, login} = loggedIn
    let upstream: Promise<ssh2.Client> | undefined
    const conn: TerminatedConnection = {
      ctx,
      target,
      client,
      cert,
      user: cert.keyId,
      login,
      agent: new AgentWait(ctx.clock),
      eventFields: (): EventFields => ({...baseFields, user: cert.keyId, login, 'addr.local': node.addr}),
      async upstream(options = {}) {
        // The web terminal's connection comes with the web session's agent, which the proxy holds.
        if (!target.agent && !conn.agent.isForwarded) {
          if (!options.waitForAgent) {
            // A session starting without the agent: the client is not forwarding it; forwards stop waiting too.
            conn.agent.noneComing()
            throw new Error(agentRequiredMessage(node.hostname))
          }
          if (!(await conn.agent.wait())) throw new Error(agentRequiredMessage(node.hostname))
        }
        const agent = target.agent ?? new ForwardedChannelAgent(client)
        upstream ??= (async () => {
          try {
            return await connectUpstream(target.nodeStream, {node, login, agent, hostCAs: await ctx.nodeHostCAs()})
          } catch (err) {
            throw new Error(`failed connecting to node ${node.hostname}: ${(err as Error).message}`)
          }
        })()
        return upstream
      },
    }
    ctx.log.debug(`recording proxy: "${conn.user}" logged in as "${login}" to ${node.hostname} from ${clientAddr}.`)
    const sessions = new Set<ProxySessionChannel>()
    client.on('session', (accept) => sessions.add(new ProxySessionChannel(conn, accept())))
    let endReason = 'client disconnected'
    const live: LiveTerminatedConnection = {
      user: cert.keyId,
      roles: cert.roles,
      node: node.name,
      async end(message) {
        if (!ctx.live.delete(live)) return
        endReason = message
        ctx.log.info(`recording proxy: ending the connection of "${conn.user}" to ${node.hostname}: ${message}`)
        await endConnectionWith(client, sessions, message)
      },
    }
    ctx.live.add(live)
    client.on('tcpip', (accept, rejectChannel, info) => forwardDirectTcpip(conn, accept, rejectChannel, info))
    const remoteForwards = new RemoteForwardRelay(conn)
    client.on('request', (accept, rejectRequest, name, info) => remoteForwards.handle(accept, rejectRequest, name, info as ssh2.TcpipBindInfo))
    client.on('openssh.streamlocal', (_accept, rejectChannel) => rejectChannel())
    client.once('close', () => {
      ctx.live.delete(live)
      conn.agent.noneComing()
      for (const session of sessions) session.hangUp()
      void upstream?.then((c) => c.end(), () => {})
      closeNode()
      ctx.emit(EventName.ClientDisconnect, EventCode.ClientDisconnect, {...conn.eventFields(), reason: endReason})
    })
  })
}
