import type {Duplex} from 'node:stream'
import type ssh2 from 'ssh2'
import type {NodeInfo, ProxyAuthApi, SessionRecordingMode} from '../../../api/auth-api.js'
import {dataDirPaths} from '../../../config/data-dir.js'
import {EventCode, EventName, makeEvent, type BufferedEmitter, type EmitNamed} from '../../../events/index.js'
import type {Clock} from '../../../lib/clock.js'
import {duplexPair} from '../../../lib/net/duplex-pair.js'
import type {Logger} from '../../../lib/log.js'
import {splitHostPort} from '../../../lib/net/ip.js'
import {StartupLimiter, type StartupLimits} from '../../../lib/net/startup-limiter.js'
import {connectionSocket, injectGuarded, releaseOnLogin} from '../../../ssh/startup-guard.js'
import type {AccessCache} from '../../common/access-cache.js'
import {RoleCache} from '../../common/role-cache.js'
import {OpenSessions} from '../../node/open-sessions.js'
import {SessionRecorder} from '../../node/recording/session-recorder.js'
import {RecordingUploader} from '../../node/recording/uploader.js'
import {SessionRegistry} from '../../node/session/registry.js'
import {sessionTrackerTap} from '../../node/session/tracker-tap.js'
import {SessionTrackerWriter} from '../../node/session/tracker-writer.js'
import type {CaKeyCache} from '../client-auth.js'
import {handleTerminatedConnection} from './connection.js'
import type {RecordingProxyContext, TerminatedTarget} from './context.js'
import {NodeHostServers} from './node-host-keys.js'

// Recording proxy mode (auth_service.session_recording: proxy or proxy-sync): instead of relaying
// a user's bytes to a node untouched, the proxy ends the user's SSH connection itself, presenting
// a host certificate auth issued for the node's names (node-host-keys.ts), and runs the user's
// sessions over its own connection to the node, made with the user's forwarded agent
// (connection.ts, session-channel.ts). Sessions are audited and recorded by the node's own session
// core, recorder and uploader (under <data_dir>/log/upload/proxy/), so they play and list as a
// node's do and their upload survives an auth outage the same way. `proxy-sync` streams the
// recording live as `node-sync` does. Our nodes, told the mode by auth, record nothing themselves.
//
// The router hands over every routed stream (the `proxy:` subsystem, ProxyJump, the TLS relay):
// `intercept` gives back the end of an in-memory pipe whose other end the node's SSH server here
// reads, so each caller relays to it as it would to the node.

/** How often the proxy asks auth for the recording mode (the node's pace). */
const PING_INTERVAL_MS = 60_000

/** The recording modes in which the proxy records, and how its recorder (the node's) records in each. */
const RECORDER_MODE: Partial<Record<SessionRecordingMode, SessionRecordingMode>> = {proxy: 'node', 'proxy-sync': 'node-sync'}

export function recordsAtProxy(mode: SessionRecordingMode | undefined): boolean {
  return mode !== undefined && RECORDER_MODE[mode] !== undefined
}

export interface RecordingProxyOptions {
  dataDir: string
  authApi: Pick<ProxyAuthApi, 'ping' | 'getRole' | 'signNodeHostCertForProxy' | 'recordingUploaded' | 'appendRecording' | 'completeRecording' | 'upsertSessionTracker' | 'removeSessionTracker'>
  clusterName: string
  audit: BufferedEmitter
  emit: EmitNamed
  access: AccessCache
  caKeys: CaKeyCache
  clock: Clock
  log: Logger
  /** Login deadline and caps on connections not logged in yet (the proxy's SSH port's). */
  startupLimits?: Partial<StartupLimits>
}

export class RecordingProxy {
  private mode: SessionRecordingMode = 'node'
  private checksHostKeys = true
  private readonly targets = new WeakMap<object, TerminatedTarget>()
  private readonly servers: NodeHostServers
  private readonly uploader: RecordingUploader
  private readonly ctx: RecordingProxyContext
  private readonly openSessions: OpenSessions
  private readonly startups: StartupLimiter
  private readonly trackers: SessionTrackerWriter
  private pingTimer: {cancel(): void} | undefined

  private constructor(private readonly options: RecordingProxyOptions) {
    const {authApi, audit, clock, log} = options
    const paths = dataDirPaths(options.dataDir)
    this.openSessions = new OpenSessions(paths.proxyOpenSessions, () => audit.persisted(), log, clock)
    this.uploader = new RecordingUploader({dir: paths.proxyRecordingsToUpload, corruptedDir: paths.corruptedRecordings, api: authApi, delivered: () => audit.idle(), log, clock})
    this.trackers = new SessionTrackerWriter({api: authApi, log, clock})
    const recorder = new SessionRecorder({mode: () => RECORDER_MODE[this.mode] ?? 'off', uploader: this.uploader, api: authApi, delivered: () => audit.idle(), log, clock})
    this.ctx = {
      emit: options.emit,
      openSessions: this.openSessions,
      recorder,
      clock,
      log,
      access: options.access,
      roles: new RoleCache(authApi, {log, clock}),
      userCAs: async () => (await options.caKeys.get()).value.userCAs,
      nodeHostCAs: async () => (this.checksHostKeys ? (await options.caKeys.get()).value.hostCAs : undefined),
      live: new Set(),
      trackSession: (node, session) => sessionTrackerTap(this.trackers, {hostname: node.hostname, address: () => node.addr, clusterName: options.clusterName, serverId: node.name}, session),
      sessions: new SessionRegistry(),
    }
    options.access.onChange(() => this.enforceAccess())
    this.servers = new NodeHostServers(authApi, clock, (client) => this.onConnection(client))
    this.startups = new StartupLimiter('recording proxy', log, options.startupLimits, clock)
  }

  /** Closes what a crash left (session markers, recordings), queues the uploads, and follows auth's mode. */
  static async start(options: RecordingProxyOptions): Promise<RecordingProxy> {
    const proxy = new RecordingProxy(options)
    await proxy.openSessions.recover((fields) => void options.audit.emit(makeEvent(EventName.SessionEnd, EventCode.SessionEnd, fields, options.clock)))
    proxy.openSessions.startRefreshing()
    await proxy.uploader.recover()
    await proxy.refreshMode()
    proxy.trackers.start()
    proxy.pingTimer = options.clock.setRepeating(PING_INTERVAL_MS, () => void proxy.refreshMode(), {unref: true})
    return proxy
  }

  /** Whether sessions are recorded here now (the cluster is in a proxy recording mode). */
  get active(): boolean {
    return recordsAtProxy(this.mode)
  }

  /**
   * In a proxy recording mode, takes the dialled stream to `node` and returns the stream the
   * caller relays the client to instead (the proxy's SSH server for that node); otherwise undefined.
   */
  async intercept(node: NodeInfo, nodeStream: Duplex, clientAddr: string, options: {agent?: ssh2.BaseAgent} = {}): Promise<Duplex | undefined> {
    if (!this.active) return undefined
    const server = await this.servers.server(node.name)
    const [clientSide, serverSide] = duplexPair()
    this.targets.set(serverSide, {node, nodeStream, clientAddr, ...(options.agent ? {agent: options.agent} : {})})
    nodeStream.on('error', () => {})
    // Counted and given a login deadline as on any SSH port: the node's connection waits on it.
    const {host, port} = splitHostPort(clientAddr)
    injectGuarded(server, this.startups, {stream: serverSide, remote: {host, port: Number(port ?? 0)}, local: {host: '', port: 0}})
    serverSide.once('close', () => nodeStream.destroy())
    return clientSide
  }

  /** The users of the connections logged in here (their existence is polled with the locks). */
  activeUsers(): string[] {
    return [...this.ctx.live].map((c) => c.user)
  }

  /** Ends the connections a lock or a user's deletion now refuses. */
  enforceAccess(): void {
    for (const connection of this.ctx.live) {
      const refusal = this.options.access.refusal({user: connection.user, roles: connection.roles, node: connection.node})
      if (refusal) void connection.end(refusal)
    }
  }

  /** Resolves once no recording waits for upload (tests). */
  uploaded(): Promise<void> {
    return this.uploader.idle()
  }

  async close(): Promise<void> {
    this.pingTimer?.cancel()
    this.startups.closeAll()
    for (const connection of [...this.ctx.live]) void connection.end('the proxy is stopping')
    await this.trackers.close()
    this.uploader.close()
    this.openSessions.stopRefreshing()
  }

  private onConnection(client: ssh2.Connection): void {
    const target = this.targets.get(connectionSocket(client))
    if (!target) return void client.end()
    releaseOnLogin(client, this.startups)
    handleTerminatedConnection(this.ctx, client, target)
  }

  private async refreshMode(): Promise<void> {
    try {
      const ping = await this.options.authApi.ping()
      if (ping.sessionRecording && ping.sessionRecording !== this.mode) {
        this.mode = ping.sessionRecording
        if (this.active) this.options.log.info(`Sessions are recorded at this proxy (auth_service.session_recording: ${this.mode}).`)
      }
      this.checksHostKeys = ping.proxyChecksHostKeys ?? true
    } catch {
      // auth away: what it said last stays
    }
  }
}
