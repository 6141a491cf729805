import type {AuthContext, Connection} from 'ssh2'
import type ssh2 from 'ssh2'
import {EventCode, EventName, type EventFields} from '../../../events/index.js'
import {plainIp, splitHostPort} from '../../../lib/net/ip.js'
import {nodeLabels} from '../../../services/models/node.js'
import {CertificateError, type ParsedCert} from '../../../sshca/index.js'
import {AuthAttempts, verifyUserCertAuth, type PublicKeyAuthAttempt} from '../../../ssh/index.js'
import {disconnectWith, sendAuthBanner} from '../../../ssh/server-internals.js'
import {nodeLoginRefusal} from '../../common/node-access.js'
import {ForwardedChannelAgent} from './channel-agent.js'
import type {LiveTerminatedConnection, RecordingProxyContext, TerminatedConnection, TerminatedTarget} from './context.js'
import {forwardDirectTcpip} from './port-forwarding.js'
import {ProxySessionChannel} from './session-channel.js'
import {connectUpstream} from './upstream.js'

// One user connection the recording proxy terminates, standing in for the node: certificate-only
// authentication and the node's access decision (node-access.ts: user, roles and locks as they are
// now, RBAC against the node's labels), refusals audited and told as our nodes tell them. Then the
// user's channels: sessions (session-channel.ts) and direct-tcpip, each carried over the proxy's
// own connection to the node, opened with the user's forwarded agent at the first channel.
// A lock or a deletion that comes into force ends the connection as the node ends its own.

/** A client gets this many refused attempts before it is disconnected (sshd's MaxAuthTries). */
const MAX_AUTH_TRIES = 6
/** How long a locked-out connection's sessions get to take the message before the connection closes. */
const END_MESSAGE_GRACE_MS = 5_000

export function agentRequiredMessage(nodeName: string): string {
  return `failed connecting to node ${nodeName}. agent forwarding required in proxy recording mode`
}

export function handleTerminatedConnection(ctx: RecordingProxyContext, client: Connection, target: TerminatedTarget): void {
  const {node, clientAddr} = target
  const clientIp = plainIp(splitHostPort(clientAddr).host)
  let failures = 0
  let bannerSent = false
  let authenticated: {cert: ParsedCert; login: string} | undefined
  const baseFields = {server_id: node.name, server_hostname: node.hostname, 'addr.remote': clientAddr}
  const attempts = new AuthAttempts((refusal) =>
    ctx.emit(EventName.AuthAttempt, EventCode.AuthAttemptFailure, {...baseFields, user: refusal.user, login: refusal.login, success: false, error: refusal.error}),
  )
  const reject = (auth: AuthContext) => {
    auth.reject(['publickey'])
    if (++failures >= MAX_AUTH_TRIES) client.end()
  }
  const refuse = (auth: AuthContext, login: string, reason: string, cert?: ParsedCert) => {
    const refusal = {user: cert?.keyId ?? '', login, error: reason, cert: cert !== undefined}
    if (!(auth as unknown as PublicKeyAuthAttempt).signature) {
      attempts.queryRefused(refusal)
      return reject(auth)
    }
    attempts.signedRefused(refusal)
    ctx.log.info(`recording proxy: refused ${cert ? `user "${cert.keyId}"` : 'a client'} as "${login}" on ${node.hostname} from ${clientAddr}: ${reason}`)
    if (!bannerSent) {
      bannerSent = true
      sendAuthBanner(client, `access denied to ${login} connecting to ${node.hostname}`)
    }
    reject(auth)
  }

  const closeNode = () => target.nodeStream.destroy()
  client.on('error', (err) => ctx.log.debug(`recording proxy: connection from ${clientAddr}: ${err.message}`))
  client.once('close', () => {
    attempts.closed()
    if (!authenticated) closeNode()
  })
  client.on('authentication', (auth) => {
    if (auth.method !== 'publickey') {
      attempts.otherMethodRefused(auth.method, auth.username)
      if (auth.method === 'none') return auth.reject(['publickey'])
      return reject(auth)
    }
    void (async () => {
      let result
      try {
        result = verifyUserCertAuth(auth as unknown as PublicKeyAuthAttempt, {trustedUserCAs: await ctx.userCAs(), clientAddress: clientIp})
      } catch (err) {
        return refuse(auth, auth.username, (err as Error).message, (err as CertificateError).cert)
      }
      if (!result.proven) return auth.accept()
      const {cert} = result
      const refused = await nodeLoginRefusal(ctx, cert, auth.username, {id: node.name, labels: nodeLabels(node)})
      if (refused) return refuse(auth, auth.username, refused, cert)
      authenticated = {cert, login: auth.username}
      attempts.succeeded()
      auth.accept()
    })().catch((err: Error) => refuse(auth, auth.username, `internal error: ${err.message}`))
  })

  client.once('ready', () => {
    if (!authenticated) return client.end()
    const {cert, login} = authenticated
    let upstream: Promise<ssh2.Client> | undefined
    const conn: TerminatedConnection = {
      ctx,
      target,
      client,
      cert,
      user: cert.keyId,
      login,
      agentForwarded: false,
      eventFields: (): EventFields => ({...baseFields, user: cert.keyId, login, 'addr.local': node.addr}),
      upstream() {
        // The web terminal's connection comes with the web session's agent, which the proxy holds.
        const agent = target.agent ?? (conn.agentForwarded ? new ForwardedChannelAgent(client) : undefined)
        if (!agent) return Promise.reject(new Error(agentRequiredMessage(node.hostname)))
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
        // A client that stops reading must not keep its connection open: the message gets a moment, no more.
        let timer: NodeJS.Timeout | undefined
        const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, END_MESSAGE_GRACE_MS)))
        await Promise.race([Promise.all([...sessions].map((session) => session.endWith(`Teleport > ${message}`))), grace])
        clearTimeout(timer)
        disconnectWith(client, `Teleport > ${message}`)
      },
    }
    ctx.live.add(live)
    client.on('tcpip', (accept, rejectChannel, info) => forwardDirectTcpip(conn, accept, rejectChannel, info))
    // Remote forwarding (ssh -R) through a recording proxy is not offered.
    client.on('request', (_accept, rejectRequest) => rejectRequest?.())
    client.on('openssh.streamlocal', (_accept, rejectChannel) => rejectChannel())
    client.once('close', () => {
      ctx.live.delete(live)
      for (const session of sessions) session.hangUp()
      void upstream?.then((c) => c.end(), () => {})
      closeNode()
      ctx.emit(EventName.ClientDisconnect, EventCode.ClientDisconnect, {...conn.eventFields(), reason: endReason})
    })
  })
}
