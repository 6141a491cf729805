import type {AuthContext, Connection} from 'ssh2'
import {EventCode, EventName, type EventFields} from '../../events/index.js'
import {CertificateError, type ParsedCert} from '../../sshca/index.js'
import {AuthAttempts, verifyUserCertAuth, type PublicKeyAuthAttempt} from '../../ssh/index.js'
import {joinHostPort} from '../../lib/net/ip.js'
import {type ConnectionContext, type Endpoints, type LiveConnection, type NodeContext} from './context.js'
import {decideLogin} from './login-access.js'
import type {OsLogin} from './os-login.js'
import {handleDirectTcpip, RemoteForwards} from './port-forwarding.js'
import type {SessionRegistry} from './session/registry.js'
import {SessionChannel} from './session/ssh-shell.js'
import {disconnectWith, sendAuthBanner} from '../../ssh/server-internals.js'

// One client connection to the node: certificate-only authentication, refusals audited (T3007W)
// as AuthAttempts decides and a refused signed attempt told "access denied", then its channels:
// sessions, and port forwarding when the certificate allows it.

/** A client gets this many refused attempts before it is disconnected (sshd's MaxAuthTries). */
const MAX_AUTH_TRIES = 6
/** How long a refused connection's sessions get to take the message before the connection closes. */
const END_MESSAGE_GRACE_MS = 5_000

export function handleConnection(node: NodeContext, client: Connection, endpoints: Endpoints, sessions: SessionRegistry, live: Set<LiveConnection>): void {
  const remote = joinHostPort(endpoints.remoteIp, endpoints.remotePort)
  let failures = 0
  let bannerSent = false
  let authenticated: {cert: ParsedCert; login: string; osLogin: OsLogin} | undefined

  const attempts = new AuthAttempts((refusal) =>
    node.emit(EventName.AuthAttempt, EventCode.AuthAttemptFailure, {
      user: refusal.user,
      login: refusal.login,
      success: false,
      error: refusal.error,
      'addr.remote': remote,
      server_id: node.hostUuid,
      server_hostname: node.nodeName,
    }),
  )
  const reject = (ctx: AuthContext) => {
    ctx.reject(['publickey'])
    if (++failures >= MAX_AUTH_TRIES) client.end()
  }
  // A refused query is silent (see AuthAttempts); a refused signed attempt is the real failure.
  const refuse = (ctx: AuthContext, login: string, reason: string, cert?: ParsedCert) => {
    const refusal = {user: cert?.keyId ?? '', login, error: reason, cert: cert !== undefined}
    if (!(ctx as unknown as PublicKeyAuthAttempt).signature) {
      attempts.queryRefused(refusal)
      node.log.debug(`Refused a key query from ${remote} as "${login}": ${reason}`)
      return reject(ctx)
    }
    attempts.signedRefused(refusal)
    node.log.info(`Refused ${cert ? `user "${cert.keyId}"` : 'a client'} as "${login}" from ${remote}: ${reason}`)
    if (!bannerSent) {
      bannerSent = true
      sendAuthBanner(client, `access denied to ${login} connecting to ${node.nodeName}`)
    }
    reject(ctx)
  }

  client.once('close', () => {
    attempts.closed()
    if (!authenticated) node.log.debug(`Connection from ${remote} closed without logging in.`)
  })
  client.on('error', (err) => node.log.debug(`connection from ${remote}: ${err.message}`))
  client.on('authentication', (ctx) => {
    if (ctx.method !== 'publickey') {
      attempts.otherMethodRefused(ctx.method, ctx.username)
      if (ctx.method === 'none') return ctx.reject(['publickey'])
      return reject(ctx)
    }
    let result
    try {
      result = verifyUserCertAuth(ctx as unknown as PublicKeyAuthAttempt, {trustedUserCAs: node.userCAs(), clientAddress: endpoints.remoteIp})
    } catch (err) {
      if (!(err instanceof CertificateError)) node.log.warn(`checking a certificate from ${remote} failed: ${(err as Error).message}`)
      return refuse(ctx, ctx.username, (err as Error).message, (err as CertificateError).cert)
    }
    if (!result.proven) return ctx.accept() // "go ahead and sign"; access is decided on the signed attempt
    const cert = result.cert
    decideLogin(node, cert, ctx.username).then(
      (decision) => {
        if (!decision.allowed) return refuse(ctx, ctx.username, decision.reason, cert)
        authenticated = {cert, login: ctx.username, osLogin: decision.osLogin}
        attempts.succeeded()
        ctx.accept()
      },
      (err: Error) => refuse(ctx, ctx.username, `internal error: ${err.message}`, cert),
    )
  })

  client.once('ready', () => {
    if (!authenticated) return client.end()
    const {cert, login, osLogin} = authenticated
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
        // A client that stops reading must not keep its connection open: the message gets a moment, no more.
        let timer: NodeJS.Timeout | undefined
        const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, END_MESSAGE_GRACE_MS)))
        await Promise.race([Promise.all([...mine].map((session) => session.endWith(`Teleport > ${message}`))), grace])
        clearTimeout(timer)
        // Said again in the DISCONNECT: a connection with no session yet learns why too.
        disconnectWith(client, `Teleport > ${message}`)
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
