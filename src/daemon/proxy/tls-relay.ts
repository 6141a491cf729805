import {createHash} from 'node:crypto'
import type {TLSSocket} from 'node:tls'
import {encodeRelayLine, parseRelayRequest, readRelayLine, splice, SSH_RELAY_ALPN, type RelayAnswer, type RelayDialRequest} from '../../api/ssh-relay.js'
import {EventCode, EventName, type EmitNamed} from '../../events/index.js'
import {systemClock, type Clock} from '../../lib/clock.js'
import {AccessDeniedError} from '../../lib/errors.js'
import type {Logger} from '../../lib/log.js'
import type {Endpoint} from '../../lib/net/connection.js'
import {joinHostPort, plainIp} from '../../lib/net/ip.js'
import {CertificateError} from '../../sshca/index.js'
import {verifyX509UserCert, type X509UserIdentity} from '../../sshca/x509.js'
import type {AccessCache} from '../common/access-cache.js'
import type {CaKeyCache} from './client-auth.js'
import type {NodeRouter} from './node-route.js'

// The proxy's TLS relay (protocol: src/api/ssh-relay.ts), handed the TLS sockets of the web port
// whose ALPN is SSH_RELAY_ALPN. The client certificate must come from the cluster's TLS user CA
// and be valid now, and its user must exist and not be locked now (the AccessCache the SSH port
// uses); refusals are audited as T3007W and answered before any request is read. The node is
// found, refused when locked, dialled, told the real client address and audited by the same
// NodeRouter as the `proxy:` subsystem (audit name `tls-relay:<host>:<port>@<cluster>`); then the
// two sockets are spliced. The proxy decrypts TLS (OpenSSL) and never sees inside the SSH.

export interface TlsSshRelayOptions {
  clusterName: string
  caKeys: CaKeyCache
  access: AccessCache
  router: NodeRouter
  audit: EmitNamed
  log: Logger
  clock?: Clock
  /** How long a client has to send its dial request (default 10 s). */
  requestTimeoutMs?: number
}

/** Certificates already checked against the CA (by digest and CA set): a reconnect costs no parse. */
const MAX_CACHED_CERTS = 1024

export class TlsSshRelay {
  readonly alpn = SSH_RELAY_ALPN
  private readonly clock: Clock
  private readonly closing = new AbortController()
  private readonly sockets = new Set<TLSSocket>()
  private readonly verified = new Map<string, X509UserIdentity & {expires: Date}>()

  constructor(private readonly options: TlsSshRelayOptions) {
    this.clock = options.clock ?? systemClock
  }

  /** Takes a TLS socket whose handshake (with ALPN SSH_RELAY_ALPN) is done. */
  handle(socket: TLSSocket, remote: Endpoint): void {
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    const addr = joinHostPort(plainIp(remote.host), remote.port)
    void this.serve(socket, addr).catch((err: Error) => {
      this.options.log.warn(`TLS relay for ${addr}: ${err.message}`)
      answer(socket, {error: `error: ${err.message}`})
    })
  }

  close(): void {
    this.closing.abort()
    for (const socket of this.sockets) socket.destroy()
  }

  private async serve(socket: TLSSocket, addr: string): Promise<void> {
    let who: X509UserIdentity | undefined
    try {
      who = await this.authenticate(socket)
      const refused = await this.options.access.check({user: who.username, roles: who.roles})
      if (refused) throw new AccessDeniedError(refused)
    } catch (err) {
      if (!(err instanceof AccessDeniedError)) throw err
      const user = who?.username ?? (err as AccessDeniedError & {user?: string}).user ?? ''
      this.options.audit(EventName.AuthAttempt, EventCode.AuthAttemptFailure, {user, 'addr.remote': addr, success: false, error: err.message, transport: 'tls-relay'})
      this.options.log.debug(`TLS relay refused ${addr}: ${err.message}`)
      return answer(socket, {error: `error: ${err.message}`})
    }
    const client = who

    socket.setTimeout(this.options.requestTimeoutMs ?? 10_000, () => socket.destroy())
    let request: RelayDialRequest
    try {
      const line = await readRelayLine(socket)
      if (line === undefined) return void socket.destroy()
      request = parseRelayRequest(line)
    } catch (err) {
      return answer(socket, {error: `error: ${(err as Error).message}`})
    }
    socket.setTimeout(0)
    if (request.cluster !== this.options.clusterName) {
      return answer(socket, {error: `error: cluster "${request.cluster}" is not found (this proxy serves "${this.options.clusterName}")`})
    }
    const name = `tls-relay:${joinHostPort(request.host, request.port ?? 0)}@${request.cluster}`
    const routed = await this.options.router.route(
      {host: request.host, ...(request.port !== undefined ? {port: request.port} : {})},
      {user: client.username, login: request.login ?? '', addr},
      name,
      {signal: this.closing.signal},
    )
    if (!routed.ok) return answer(socket, {error: routed.message})
    if (socket.destroyed) return void routed.stream.destroy()
    socket.write(encodeRelayLine({ok: true}))
    await splice(socket, routed.stream)
  }

  /** The client certificate's identity; CertificateError (with `user` when known) saying why not. */
  private async authenticate(socket: TLSSocket): Promise<X509UserIdentity> {
    const peer = socket.getPeerX509Certificate()
    if (!peer) throw new CertificateError('wrong-type', 'no client certificate was presented; the TLS relay takes the X.509 certificate of tsh login', {hint: 'log in again with tsh login'})
    const {tlsUserCAs} = (await this.options.caKeys.get()).value
    const key = createHash('sha256').update(peer.raw).update(tlsUserCAs.join('')).digest('base64')
    const now = this.clock.now()
    let identity = this.verified.get(key)
    if (!identity) {
      identity = await verifyX509UserCert(peer.raw, tlsUserCAs, now)
      if (this.verified.size >= MAX_CACHED_CERTS) this.verified.clear()
      this.verified.set(key, identity)
    }
    if (now >= identity.expires) {
      throw Object.assign(new CertificateError('expired', `the client certificate expired at ${identity.expires.toISOString()}`, {hint: 'log in again with tsh login'}), {user: identity.username})
    }
    if (identity.cluster !== this.options.clusterName) {
      throw Object.assign(new CertificateError('untrusted-ca', `the client certificate is for cluster "${identity.cluster}", not "${this.options.clusterName}"`), {user: identity.username})
    }
    return identity
  }
}

function answer(socket: TLSSocket, value: RelayAnswer): void {
  if (socket.destroyed || socket.writableEnded) return
  socket.end(encodeRelayLine(value))
}
