import type {NodeAuthApi, SessionRecordingMode} from '../../api/auth-api.js'
import type {Identity} from '../../api/identity-file.js'
import type {HandedConnection} from '../../lib/net/connection.js'
import type {StartupLimits} from '../../lib/net/startup-limiter.js'
import {systemClock, type Clock} from '../../lib/clock.js'
import {emitNamed, EventCode, EventName, makeEvent} from '../../events/index.js'
import {dataDirPaths} from '../../config/data-dir.js'
import type {Logger} from '../../lib/log.js'
import {productVersion} from '../../lib/version.js'
import {nodeLabels} from '../../services/nodes.js'
import {parseCert} from '../../sshca/index.js'
import {AccessCache} from '../common/access-cache.js'
import {CAFollower} from '../common/ca-follower.js'
import {connectToAuth} from '../common/auth-connection.js'
import {readOrCreateHostUuid} from '../common/host-uuid.js'
import {loadOrJoin} from '../common/join.js'
import {saveJoinedIdentity, type JoinedIdentity} from '../common/joined-identity.js'
import {formatHostPort, type CommandLabel, type HostPort} from '../../config/index.js'
import {openAuthAudit} from '../common/auth-audit.js'
import {CommandLabels} from './command-labels.js'
import type {NodeContext} from './context.js'
import {DEFAULT_HEARTBEAT_TIMING, Heartbeat, nodePresence, type HeartbeatTiming, type NodeAnnouncement} from '../common/heartbeat.js'
import {OpenSessions} from './open-sessions.js'
import {isRoot, processUser} from './os-login.js'
import {RoleCache} from '../common/role-cache.js'
import {SessionRecorder} from './recording/session-recorder.js'
import {RecordingUploader} from './recording/uploader.js'
import {sessionTrackerTap} from './session/tracker-tap.js'
import {SessionTrackerWriter} from './session/tracker-writer.js'
import {NodeSshServer} from './ssh-server.js'
import {ReverseTunnelAgent, type TunnelBackoff} from './tunnel-agent.js'
import {UserError} from '../../lib/errors.js'
import {webPing} from '../common/proxy-web-join.js'

// The node service (`teleport start --roles=node`): joins the cluster (or reuses its identity, or
// is handed one by a process that runs auth too), serves SSH on its listen address with its host
// certificate (or, behind a firewall, over reverse tunnels it dials to the proxies), announces
// itself to auth and keeps the announcement alive.

/** Where a proxy's reverse tunnels are (its tunnel port, or its web port by ALPN): its web ping says. */
async function proxyTunnelAddress(webAddr: HostPort): Promise<{addr: HostPort; tlsRouting: boolean}> {
  const ping = await webPing(webAddr)
  if (!ping.tunnelAddr) throw new UserError(`the proxy at ${formatHostPort(webAddr)} serves no reverse tunnels (proxy_service.tunnel_listen_addr)`)
  return {addr: ping.tunnelAddr, tlsRouting: ping.tlsRouting}
}

export interface NodeServiceOptions {
  dataDir: string
  nodeName: string
  /** ssh_service.listen_addr (default 0.0.0.0:3022). */
  listen: HostPort
  /**
   * A reverse tunnel instead of a listener: `always` (--no-listen), or `auto` (listen_addr unset):
   * when this node reaches the cluster through a proxy's web address. Absent: listen.
   */
  reverseTunnel?: 'auto' | 'always'
  /** Tests shorten the tunnel's reconnect back-off. */
  tunnelBackoff?: Partial<TunnelBackoff>
  /** Static labels (ssh_service.labels, --labels). */
  labels?: Record<string, string>
  /** Command labels (ssh_service.commands). */
  commands?: CommandLabel[]
  log: Logger
  /**
   * How this node reaches the cluster. Either a ready connection (a process that runs auth too:
   * a Node host identity and a NodeAuthApi authenticated by it), or the join parameters (the
   * identity in the data dir is reused when there is one, so the token is only needed once).
   */
  cluster: {identity: Identity; authApi: NodeAuthApi} | {join: {authServers: HostPort[]; token?: string; caPins: string[]}}
  /** The address announced to auth; default: the listen address (0.0.0.0 is filled in by auth with our IP). */
  advertiseAddr?: HostPort
  /** Tests shorten these. */
  heartbeat?: Partial<HeartbeatTiming>
  /** Login deadline and caps on unauthenticated connections (tests shorten them). */
  startupLimits?: Partial<StartupLimits>
  clock?: Clock
  /** How often locks and deleted users are polled from auth (default 2.5 s). */
  accessPollMs?: number
}

export interface RunningNodeService {
  /** The address listened on; port 0 and no host for a node reached through reverse tunnels. */
  address: HostPort
  /** Reached through reverse tunnels it dials (no listener). */
  tunnelled: boolean
  hostUuid: string
  /** Hands a connection to the node's SSH server, as its listener does with each TCP connection. */
  handle(conn: HandedConnection): void
  /** Delivers queued audit events (tests use it before searching the audit log). */
  flushAudit(): Promise<void>
  /** Resolves when no recording waits for upload (tests; uploads run on their own). */
  flushRecordings(): Promise<void>
  /** Polls locks and deleted users now and ends the sessions they refuse (tests; it also runs every few seconds). */
  refreshAccess(): Promise<void>
  close(): Promise<void>
}

export async function startNodeService(options: NodeServiceOptions): Promise<RunningNodeService> {
  const log = options.log
  let identity: {privateKey: string; certificate: string; hostCAs: string[]}
  let hostUuid: string
  let clusterName: string
  let userCAs: string[]
  let authApi: NodeAuthApi
  let joined: JoinedIdentity | undefined
  const ownsApi = 'join' in options.cluster
  let server: NodeSshServer | undefined
  let tunnels: ReverseTunnelAgent | undefined
  if ('join' in options.cluster) {
    hostUuid = readOrCreateHostUuid(options.dataDir)
    joined = await loadOrJoin({...options.cluster.join, dataDir: options.dataDir, role: 'node', nodeName: options.nodeName, hostUuid, log})
    identity = joined
    clusterName = joined.clusterName
    userCAs = joined.userCAs
    const viaProxy = joined.authRoute.kind === 'proxy'
    if (options.reverseTunnel === 'always' && !viaProxy) {
      throw new UserError('a node without a listener (--no-listen) is reached through a reverse tunnel to the proxy, but it reaches the cluster through the auth server', {
        hint: "pass the proxy's web address (port 3080) as --auth-server",
      })
    }
    if (options.reverseTunnel && viaProxy) {
      const proxies = options.cluster.join.authServers.length ? options.cluster.join.authServers : [(joined.authRoute as {webAddr: HostPort}).webAddr]
      const current = joined
      tunnels = new ReverseTunnelAgent({
        identity: joined,
        hostUuid,
        clusterName,
        hostCAs: () => hostCAs,
        proxies,
        tunnelAddress: proxyTunnelAddress,
        // Channels the proxy opens are the node's connections, as accepted sockets are elsewhere.
        handler: {handle: (conn) => (server ? server.handle(conn) : conn.stream.destroy())},
        log,
        ...(options.clock ? {clock: options.clock} : {}),
        ...(options.tunnelBackoff ? {backoff: options.tunnelBackoff} : {}),
      })
      const agent = tunnels
      // Heartbeats, audit and everything else this node asks auth go over the tunnel too.
      authApi = connectToAuth(current, {dial: () => agent.openAuthChannel()})
    } else {
      authApi = connectToAuth(joined, {authServers: options.cluster.join.authServers})
    }
  } else {
    if (options.reverseTunnel === 'always') throw new UserError('a node without a listener (--no-listen) must join through a proxy', {hint: "pass the proxy's web address as --auth-server"})
    identity = options.cluster.identity
    authApi = options.cluster.authApi
    const cert = parseCert(identity.certificate)
    hostUuid = cert.keyId
    clusterName = cert.authority ?? ''
    const cas = await authApi.getCAKeys()
    clusterName ||= cas.clusterName
    userCAs = cas.user
  }

  // Audit events and open sessions are kept on disk: a restart, even after kill -9, loses neither.
  const clock = options.clock ?? systemClock
  const paths = dataDirPaths(options.dataDir)
  const audit = await openAuthAudit(authApi, {journalFile: paths.auditJournal('node'), log, clock})
  const openSessions = new OpenSessions(paths.openSessions, () => audit.persisted(), log, clock)
  await openSessions.recover((fields) => void audit.emit(makeEvent(EventName.SessionEnd, EventCode.SessionEnd, fields, clock)))
  openSessions.startRefreshing()
  // Recordings: the cluster's mode as auth last said (`node` until it answers); what a crash left
  // is closed and queued for upload before the first session.
  let recordingMode: SessionRecordingMode = 'node'
  const uploader = new RecordingUploader({
    dir: paths.recordingsToUpload,
    corruptedDir: paths.corruptedRecordings,
    api: authApi,
    delivered: () => audit.idle(),
    log,
    clock,
  })
  await uploader.recover()
  const recorder = new SessionRecorder({mode: () => recordingMode, uploader, api: authApi, delivered: () => audit.idle(), log, clock})
  const roles = new RoleCache(authApi, {log, clock})
  const access = new AccessCache(authApi, {
    clock,
    log,
    activeUsers: () => [...(server?.connections ?? [])].map((c) => c.user),
    ...(options.accessPollMs ? {intervalMs: options.accessPollMs} : {}),
  })
  access.onChange(() => server?.enforceAccess())
  let heartbeat: Heartbeat<NodeAnnouncement> | undefined
  const commandLabels = new CommandLabels(options.commands ?? [], () => heartbeat?.changed(), log, clock)
  const staticLabels = {...(options.labels ?? {})}
  let hostCAs: string[] = identity.hostCAs
  let proxyWebAddr = ''
  // Live sessions' trackers on auth, with the address the node advertises (known once it listens).
  const trackers = new SessionTrackerWriter({api: authApi, log, clock})
  let advertisedAddr = ''
  const trackedNode = {hostname: options.nodeName, address: () => advertisedAddr, clusterName}
  const node: NodeContext = {
    hostUuid,
    nodeName: options.nodeName,
    clusterName,
    userCAs: () => userCAs,
    hostCAs: () => hostCAs,
    proxyWebAddr: () => proxyWebAddr,
    labels: () => nodeLabels({labels: staticLabels, cmdLabels: commandLabels.snapshot()}),
    roles,
    access,
    emit: emitNamed(audit, clock, log),
    clock,
    openSessions,
    recorder,
    trackSession: (session) => sessionTrackerTap(trackers, trackedNode, session),
    log,
  }

  if (!isRoot()) {
    log.warn(`Not running as root: sessions can only be started as "${processUser().name}"; other logins are refused.`)
  }
  server = new NodeSshServer({node, hostKey: {privateKey: identity.privateKey, certificate: identity.certificate}, ...(options.startupLimits ? {startupLimits: options.startupLimits} : {})})
  let address: HostPort | undefined
  try {
    // Started here so that a failure below closes it (a live tunnel keeps the process running).
    tunnels?.start()
    await access.start()
    await commandLabels.start()
    if (!tunnels) address = await server.listen(options.listen.host, options.listen.port)
  } catch (err) {
    await tunnels?.close()
    access.stop()
    commandLabels.stop()
    uploader.close()
    openSessions.stopRefreshing()
    await audit.close(0)
    if (ownsApi) await authApi.close().catch(() => {})
    throw err
  }
  if (address) log.info(`Node service is starting on ${formatHostPort(address)}.`)
  else log.info('Node service is starting without a listener: it is reached through reverse tunnels to the proxy.')

  const advertised = options.advertiseAddr ?? address
  advertisedAddr = advertised ? formatHostPort(advertised) : ''
  trackers.start()
  heartbeat = new Heartbeat(
    nodePresence(authApi),
    () => ({
      name: hostUuid,
      hostname: options.nodeName,
      addr: advertisedAddr,
      ...(tunnels ? {tunnel: true} : {}),
      labels: staticLabels,
      cmdLabels: commandLabels.snapshot(),
      version: productVersion(),
    }),
    log,
    {...DEFAULT_HEARTBEAT_TIMING, ...options.heartbeat},
    clock,
  )
  // The CAs as auth says them, watched: trust both keys during a rotation's grace period, and
  // present a new host certificate once servers switch. Kept on disk so a restart trusts them too.
  const caFollower = new CAFollower({
    api: authApi,
    certificate: () => identity.certificate,
    onCAs: (cas) => {
      if (!cas.user.length || !cas.host.length) return
      const changed = cas.user.join('\n') !== userCAs.join('\n') || cas.host.join('\n') !== hostCAs.join('\n')
      userCAs = cas.user
      hostCAs = identity.hostCAs = cas.host
      if (joined && changed) {
        Object.assign(joined, {userCAs: cas.user, hostCAs: cas.host})
        saveJoinedIdentity(options.dataDir, 'node', joined)
      }
    },
    onCertificate: (certificate, renewedHostCAs) => {
      Object.assign(identity, {certificate, hostCAs: renewedHostCAs})
      hostCAs = renewedHostCAs
      if (joined) {
        Object.assign(joined, {certificate, cert: parseCert(certificate), hostCAs: renewedHostCAs})
        saveJoinedIdentity(options.dataDir, 'node', joined)
      }
      server.setHostKey({privateKey: identity.privateKey, certificate})
    },
    clock,
    log,
  })
  // What auth says about the cluster: the proxy's web address (which sessions are told) and the
  // recording mode (best effort: auth may be away; what it said last stays).
  const refreshFromPing = () =>
    authApi.ping().then((ping) => {
      proxyWebAddr = ping.proxyPublicAddr ?? proxyWebAddr
      if (ping.sessionRecording && ping.sessionRecording !== recordingMode) {
        recordingMode = ping.sessionRecording
        log.info(`Sessions are recorded in mode "${recordingMode}" (auth_service.session_recording).`)
      }
    }, () => {})
  await refreshFromPing()
  await heartbeat.start()
  caFollower.start()
  const pingTimer = clock.setRepeating(60_000, () => void refreshFromPing(), {unref: true})

  let closing: Promise<void> | undefined
  return {
    address: address ?? {host: '', port: 0},
    tunnelled: tunnels !== undefined,
    hostUuid,
    handle: (conn) => server.handle(conn),
    flushAudit: () => audit.idle(),
    flushRecordings: () => uploader.idle(),
    refreshAccess: () => access.refresh(),
    close() {
      closing ??= (async () => {
        pingTimer.cancel()
        caFollower.stop()
        access.stop()
        commandLabels.stop()
        await heartbeat?.stop()
        await server.close()
        await tunnels?.close()
        await trackers.close()
        uploader.close()
        openSessions.stopRefreshing()
        await audit.close()
        if (ownsApi) await authApi.close().catch(() => {})
      })()
      return closing
    },
  }
}
