import type {IncomingMessage} from 'node:http'
import type {ProxyAuthApi} from '../../api/auth-api.js'
import {AuthServers} from '../../api/auth-servers.js'
import type {Clock} from '../../lib/clock.js'
import {dataDirPaths} from '../../config/data-dir.js'
import {UserError} from '../../lib/errors.js'
import type {Logger} from '../../lib/log.js'
import type {StartupLimits} from '../../lib/net/startup-limiter.js'
import {parseCert} from '../../sshca/index.js'
import {openAuthAudit} from '../common/auth-audit.js'
import {connectToAuth} from '../common/auth-connection.js'
import {readOrCreateHostUuid} from '../common/host-uuid.js'
import {loadOrJoin} from '../common/join.js'
import {formatHostPort, parseHostPort, type HostPort} from '../../config/index.js'
import {emitNamed, EventCode, EventName} from '../../events/index.js'
import {systemClock} from '../../lib/clock.js'
import {AccessCache} from '../common/access-cache.js'
import {CAFollower} from '../common/ca-follower.js'
import {saveJoinedIdentity, type JoinedIdentity} from '../common/joined-identity.js'
import {caKeyCache} from './client-auth.js'
import {productVersion} from '../../lib/version.js'
import {ProxyPresence} from './proxy-presence.js'
import {requestHost} from './http-util.js'
import type {NodeDialer} from './node-dialer.js'
import {ProxySshServer} from './ssh-server.js'
import {TunnelNodeDialer} from './tunnel-dialer.js'
import {ReverseTunnelServer} from './tunnel-server.js'
import {defaultWebAssetsDir, StaticFiles} from './static-files.js'
import {multiplexHandlers} from './multiplex.js'
import {TlsSshRelay} from './tls-relay.js'
import {RecordingProxy} from './recording-proxy/recording-proxy.js'
import {isSelfSigned, loadOrCreateWebCertificate, readConfiguredKeyPairs, webCertificateNames, type WebKeyPair} from './web-certificate.js'
import {createWebServer, type WebTimeouts} from './web-server.js'
import {webSessionConnector} from './web-session-connector.js'
import {ProxyWebSessions, type WebSessionConnector} from './web-sessions-proxy.js'
import {WebSocketGateway} from './web-sockets.js'

// The proxy service (`teleport start --roles=proxy`): the HTTPS web API, the web UI and its
// WebSockets, and the SSH port that routes clients to nodes. It keeps nothing but its identity,
// its TLS key pair and, in memory, the connections of live web sessions; every decision and every
// record is the auth server's, so a restart loses nothing but open terminals.

/** The proxy reaches the cluster with an identity it already has (the one-process cluster). */
export interface ProxyClusterAccess {
  /**
   * The proxy's host identity: a host certificate with role Proxy, and its key, with the host CA
   * keys its auth client trusts. Updated in place through a CA rotation (the client reads it at
   * each connection).
   */
  identity: {privateKey: string; certificate: string; hostCAs?: string[]}
  /** An auth API client authenticated with that identity; the caller owns (and closes) it. */
  authApi: ProxyAuthApi
  /** The auth servers the client uses, which `proxy:@<cluster>` and web sessions' connections follow. */
  authServers: AuthServers
}

/** The proxy joins the cluster with a token (or reuses the identity it joined with before). */
export interface ProxyJoinParameters {
  join: {
    /** Auth API addresses (a proxy must reach auth directly: its clients' pipes lead there). */
    authServers: HostPort[]
    token?: string
    caPins: string[]
  }
}

export interface ProxyServiceOptions {
  dataDir: string
  nodeName: string
  /** proxy_service.web_listen_addr (default 0.0.0.0:3080); port 0 picks a free port. */
  webListen: HostPort
  /** proxy_service.listen_addr (default 0.0.0.0:3023). */
  sshListen: HostPort
  /** proxy_service.tunnel_listen_addr (default 0.0.0.0:3024): where nodes behind firewalls dial in; none: no reverse tunnels. */
  tunnelListen?: HostPort
  /** proxy_service.public_addr: the web addresses users reach; the first goes in links and hints. */
  publicAddrs?: HostPort[]
  /** proxy_service.https_keypairs; none: a self-signed certificate kept in <data_dir>/proxy/. */
  httpsKeyPairs?: Array<{keyFile: string; certFile: string}>
  cluster: ProxyClusterAccess | ProxyJoinParameters
  log: Logger
  /** Login deadline and caps on unauthenticated connections, SSH and web (tests shorten them). */
  startupLimits?: Partial<StartupLimits>
  /** Web request deadlines (tests shorten them). */
  webTimeouts?: Partial<WebTimeouts>
  /** Ages what the proxy keeps from auth (node list, CA keys, locks) and times its retries; tests move it. */
  clock?: Clock
  /** How nodes are reached (default: over their reverse tunnel when they have one, else TCP to their announced address). */
  nodeDialer?: NodeDialer
  /** The built web UI (default: dist/web of this package). */
  webAssetsDir?: string
  /** How the proxy acts as a web session's user (default: SSH to auth with the session's agent). */
  webSessionConnector?: WebSessionConnector
}

export interface RunningProxyService {
  webAddress: HostPort
  sshAddress: HostPort
  /** The reverse tunnel server's address, when it serves one. */
  tunnelAddress?: HostPort
  /** The reverse tunnel server: a ConnectionHandler a multiplexed port can hand tunnel connections to. */
  tunnels?: ReverseTunnelServer
  clusterName: string
  /** Delivers queued audit events (tests use it before searching the audit log). */
  flushAudit(): Promise<void>
  /** Resolves once the recordings made here (recording proxy mode) are uploaded (tests). */
  flushRecordings(): Promise<void>
  close(): Promise<void>
}

export async function startProxyService(options: ProxyServiceOptions): Promise<RunningProxyService> {
  const {log} = options
  const publicAddrs = options.publicAddrs ?? []
  const access: ProxyClusterAccess & {owned: boolean; joined?: JoinedIdentity} = 'join' in options.cluster ? await joinAsProxy(options, options.cluster) : {...options.cluster, owned: false}
  const closers: Array<() => Promise<void>> = []
  const close = async () => {
    for (const step of closers.splice(0).reverse()) await step().catch((err: Error) => log.warn(`while stopping the proxy: ${err.message}`))
  }
  if (access.owned) closers.push(() => access.authApi.close())
  try {
    checkProxyIdentity(access.identity.certificate)
    const ping = await access.authApi.ping()
    const clusterName = ping.clusterName
    // auth_service.proxy_listener_mode: multiplex serves everything on the web port (multiplex.ts).
    const multiplex = ping.proxyListenerMode === 'multiplex'
    const clock = options.clock ?? systemClock
    const keyPairs = await webKeyPairs(options, publicAddrs, log, clock)

    // Users of sessions the proxy runs itself (recording proxy mode) are polled too: a deletion ends them.
    let recordingProxy: RecordingProxy | undefined
    const accessCache = new AccessCache(access.authApi, {clock, log, activeUsers: () => recordingProxy?.activeUsers() ?? []})
    await accessCache.start()
    closers.push(async () => accessCache.stop())
    // The proxy's audit events wait on disk while auth is away, like a node's.
    const audit = await openAuthAudit(access.authApi, {journalFile: dataDirPaths(options.dataDir).auditJournal('proxy'), log, clock})
    closers.push(() => audit.close())
    const emit = emitNamed(audit, clock, log)
    const caKeys = caKeyCache(access.authApi, {log, clock})
    // This proxy's presence record (announced once it listens), and the other proxies', which tunnel agents are told.
    let sshAddress = {host: options.webListen.host, port: options.webListen.port}
    let webAddress: HostPort = options.webListen
    const presence = new ProxyPresence({
      api: access.authApi,
      self: () => ({name: parseCert(access.identity.certificate).keyId, hostname: options.nodeName, addr: formatHostPort(sshAddress), publicAddr: formatHostPort(publicAddrs[0] ?? webAddress), version: productVersion()}),
      log,
      clock,
    })
    // Nodes behind firewalls dial in here; the SSH server reaches them through it, and pipes their auth API channels.
    const tunnels: ReverseTunnelServer | undefined = options.tunnelListen
      ? new ReverseTunnelServer({identity: access.identity, clusterName, caKeys, pipeToAuth: (ch, addr): Promise<void> => sshServer.pipeToAuth(ch, addr), audit: emit, log, clock, discovery: presence, ...(options.startupLimits ? {startupLimits: options.startupLimits} : {})})
      : undefined
    const dialer = options.nodeDialer ?? (tunnels ? new TunnelNodeDialer(tunnels) : undefined)
    const sshServer: ProxySshServer = new ProxySshServer({
      identity: access.identity,
      clusterName,
      authApi: access.authApi,
      authServers: access.authServers,
      caKeys,
      access: accessCache,
      audit: emit,
      log,
      clock,
      ...(dialer ? {dialer} : {}),
      ...(options.startupLimits ? {startupLimits: options.startupLimits} : {}),
    })
    // The CAs as auth says them, watched: a change refreshes the trust the proxy checks with at
    // once, and once a host CA rotation has servers switch, the proxy presents a new certificate.
    const caFollower = new CAFollower({
      api: access.authApi,
      certificate: () => access.identity.certificate,
      onCAs: (cas) => {
        void caKeys.get({refresh: true}).catch(() => {})
        // The keys the proxy trusts auth by when it reconnects (auth presents a new certificate in update_servers).
        if (!cas.host.length || cas.host.join('\n') === (access.identity.hostCAs ?? []).join('\n')) return
        access.identity.hostCAs = cas.host
        if (access.joined) saveJoinedIdentity(options.dataDir, 'proxy', access.joined)
      },
      onCertificate: (certificate, hostCAs) => {
        Object.assign(access.identity, {certificate, hostCAs})
        if (access.joined) {
          Object.assign(access.joined, {cert: parseCert(certificate)})
          saveJoinedIdentity(options.dataDir, 'proxy', access.joined)
        }
        sshServer.reloadHostKey()
      },
      clock,
      log,
    })
    caFollower.start()
    closers.push(async () => caFollower.stop())
    closers.push(() => sshServer.close())
    // auth_service.session_recording: proxy / proxy-sync: sessions to nodes are terminated and recorded here.
    recordingProxy = await RecordingProxy.start({dataDir: options.dataDir, clusterName, authApi: access.authApi, audit, emit, access: accessCache, caKeys, clock, log, ...(options.startupLimits ? {startupLimits: options.startupLimits} : {})})
    const started = recordingProxy
    closers.push(() => started.close())
    sshServer.router.interceptor = started
    if (!multiplex) {
      sshAddress = {host: options.sshListen.host, port: (await sshServer.listen(options.sshListen.host, options.sshListen.port)).port}
      log.info(`SSH proxy service is starting on ${formatHostPort(sshAddress)}.`)
    }
    // Multiplex: tunnels come in by ALPN on the web port (multiplex.ts), no port of their own.
    let tunnelAddress: HostPort | undefined
    if (tunnels && options.tunnelListen && !multiplex) {
      tunnelAddress = {host: options.tunnelListen.host, port: (await tunnels.listen(options.tunnelListen.host, options.tunnelListen.port)).port}
      closers.push(() => tunnels.close())
      log.info(`Reverse tunnel service is starting on ${formatHostPort(tunnelAddress)}.`)
    }
    const tunnelPort = tunnelAddress?.port

    let webPort = options.webListen.port
    const publicHost = (req: IncomingMessage) => {
      if (publicAddrs.length) return publicAddrs[0].host
      try {
        return parseHostPort(requestHost(req) ?? '', {defaultPort: 443}).host
      } catch {
        return options.nodeName
      }
    }
    // Browsers must keep to HTTPS only where they can verify the certificate (RFC 6797).
    const hsts = !isSelfSigned(keyPairs[0].cert)
    const webSessions = new ProxyWebSessions({
      authApi: access.authApi,
      connector: options.webSessionConnector ?? webSessionConnector({authApi: access.authApi, authServers: access.authServers, caKeys}),
      clock,
      log,
    })
    closers.push(() => webSessions.close())
    // The TLS relay to nodes on the web port (ALPN teleport-ssh-relay): routed like the SSH port's subsystem.
    const closing = new AbortController()
    closers.push(async () => closing.abort())
    const sshRelay = new TlsSshRelay({clusterName, caKeys, access: accessCache, router: sshServer.router, audit: emit, log, clock})
    closers.push(async () => sshRelay.close())
    const refused = ({user, error, remoteAddr}: {user: string; error: string; remoteAddr: string}) =>
      emit(EventName.AuthAttempt, EventCode.AuthAttemptFailure, {user, 'addr.remote': remoteAddr, success: false, error})
    const webServer = createWebServer({
      keyPairs,
      hsts,
      ...(options.webTimeouts ? {timeouts: options.webTimeouts} : {}),
      ...(options.startupLimits ? {startupLimits: options.startupLimits} : {}),
      log,
      api: {
        authApi: access.authApi,
        log,
        sshAddresses: (req) => ({
          listenAddr: formatHostPort(sshAddress),
          publicAddr: formatHostPort({host: publicHost(req), port: sshAddress.port}),
          ...(tunnelAddress && tunnelPort ? {tunnel: {listenAddr: formatHostPort(tunnelAddress), publicAddr: formatHostPort({host: publicHost(req), port: tunnelPort})}} : {}),
        }),
        sshRelayAlpn: sshRelay.alpn,
        tlsRoutingEnabled: multiplex,
      },
      alpnHandlers: {
        [sshRelay.alpn]: (socket, remote) => sshRelay.handle(socket, remote),
        ...(multiplex ? multiplexHandlers({sshServer, ...(tunnels ? {tunnelServer: tunnels} : {}), authServers: access.authServers, log, signal: closing.signal}) : {}),
      },
      ui: {authApi: access.authApi, sessions: webSessions, clusterName, refused},
      sockets: new WebSocketGateway({
        sessions: webSessions,
        clusterName,
        router: sshServer.router,
        hostCAs: async () => (await caKeys.get()).value.hostCAs,
        clock,
        log,
        hsts,
      }),
      staticFiles: new StaticFiles(options.webAssetsDir ?? defaultWebAssetsDir()),
    })
    webPort = (await webServer.listen(options.webListen.host, options.webListen.port)).port
    closers.push(() => webServer.close())
    // Multiplex: the tunnels are web port connections, which the web server waits for; they end first.
    if (tunnels && multiplex) closers.push(() => tunnels.close())
    webAddress = {host: options.webListen.host, port: webPort}
    log.info(`Web proxy service is starting on https://${formatHostPort(webAddress)}${multiplex ? ' (multiplex: SSH, the relay and the auth API by ALPN on this port)' : ''}.`)
    if (multiplex) sshAddress = webAddress
    await presence.start()
    closers.push(() => presence.stop())

    return {webAddress, sshAddress, ...(tunnelAddress ? {tunnelAddress} : {}), ...(tunnels ? {tunnels} : {}), clusterName, flushAudit: () => audit.idle(), flushRecordings: () => started.uploaded(), close}
  } catch (err) {
    await close()
    throw err
  }
}

async function webKeyPairs(options: ProxyServiceOptions, publicAddrs: HostPort[], log: Logger, clock: Clock): Promise<WebKeyPair[]> {
  if (options.httpsKeyPairs?.length) return readConfiguredKeyPairs(options.httpsKeyPairs)
  const names = webCertificateNames(options.nodeName, publicAddrs.map((a) => a.host))
  const made = await loadOrCreateWebCertificate(options.dataDir, names, clock.now())
  if (made.created) log.info(`Generated a self-signed HTTPS certificate for ${names.join(', ')}; configure proxy_service.https_keypairs to use your own.`)
  return [made]
}

async function joinAsProxy(options: ProxyServiceOptions, params: ProxyJoinParameters): Promise<ProxyClusterAccess & {owned: boolean; joined?: JoinedIdentity}> {
  const hostUuid = readOrCreateHostUuid(options.dataDir)
  const identity = await loadOrJoin({
    authServers: params.join.authServers,
    ...(params.join.token ? {token: params.join.token} : {}),
    caPins: params.join.caPins,
    dataDir: options.dataDir,
    role: 'proxy',
    nodeName: options.nodeName,
    hostUuid,
    additionalPrincipals: (options.publicAddrs ?? []).map((a) => a.host),
    log: options.log,
  })
  if (identity.authRoute.kind !== 'auth') {
    throw new UserError('a proxy must reach the auth server directly, not through another proxy', {hint: 'pass the auth server address (port 3025) as --auth-server'})
  }
  // The joined address first, then the others configured; the API client, `proxy:@<cluster>` pipes
  // and web sessions' connections share the list, so they fail over together.
  const authServers = new AuthServers([identity.authRoute.addr, ...params.join.authServers])
  const authApi = connectToAuth(identity, {authServers})
  // The joined identity itself: a renewed certificate reaches the auth client, the SSH server and preambles alike.
  return {identity, joined: identity, authApi, authServers, owned: true}
}

function checkProxyIdentity(certificate: string): void {
  const cert = parseCert(certificate)
  if (cert.type !== 'host' || cert.hostRole !== 'Proxy') {
    throw new UserError(`the proxy needs a host certificate with role Proxy, not a ${cert.type} certificate${cert.hostRole ? ` with role ${cert.hostRole}` : ''}`)
  }
}
