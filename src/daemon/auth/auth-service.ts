import {createInterface} from 'node:readline'
import {ApiServer} from '../../api/server.js'
import {AUTH_SERVER_PRINCIPAL} from '../../api/server-trust.js'
import {openBackend, type Backend, type BackendConfig} from '../../backend/index.js'
import {FileAuditLog, type AuditLog} from '../../events/index.js'
import {EventCode, EventName} from '../../events/index.js'
import {FileRecordingStore, MemoryRecordingStore, recordingsDir} from '../../events/recording-store/index.js'
import {systemClock, type Clock} from '../../lib/clock.js'
import {dataDirPaths} from '../../config/data-dir.js'
import type {StartupLimits} from '../../lib/net/startup-limiter.js'
import type {SecondFactor} from '../../services/index.js'
import {ensureHostIdentity} from '../common/host-identity.js'
import {readOrCreateHostUuid} from '../common/host-uuid.js'
import {authApiRoutes} from './api-routes.js'
import type {SessionRecordingMode} from '../../services/models/session-recording.js'
import {AuthServer} from './auth-server.js'
import {RotationScheduler} from './rotation-scheduler.js'
import type {CAKeys} from '../../api/routes.js'
import {hostCertOutdated} from '../../services/rotation.js'
import type {ParsedCert} from '../../sshca/index.js'

// The auth service: opens the store teleport.storage names (SQLite in the data dir by default)
// and the audit log in the data dir (or the directory audit_events_uri names, shared by the
// cluster's auth servers), makes the CAs and identities on first start, and serves the auth API on
// the auth port. Session recordings go to <data_dir>/log/records/ (in memory when the store is;
// audit_sessions_uri's directory when given), uploaded by the nodes through the auth API.

export interface AuthServiceConfig {
  dataDir: string
  /** teleport.storage; SQLite at <data_dir>/backend.db when not given. */
  storage?: BackendConfig
  nodeName: string
  clusterName: string
  listen: {host: string; port: number}
  secondFactor: SecondFactor
  staticTokens: readonly string[]
  proxyPublicAddr: string
  /** auth_service.session_recording, which nodes follow (default `node`). */
  sessionRecording?: SessionRecordingMode
  /** auth_service.proxy_checks_host_keys (default true): what recording proxies are told. */
  proxyChecksHostKeys?: boolean
  /** auth_service.web_idle_timeout (default 30m). */
  webIdleTimeoutMs?: number
  /**
   * teleport.storage.audit_events_uri: a directory the cluster's auth servers share, where this
   * one appends to files named by its host UUID and searches everyone's (default <data_dir>/log).
   */
  auditEventsDir?: string
  /** teleport.storage.audit_sessions_uri: the shared recordings directory (default <data_dir>/log/records). */
  auditSessionsDir?: string
  /** auth_service.proxy_listener_mode (default separate): proxies learn it from the ping. */
  proxyListenerMode?: 'separate' | 'multiplex'
  /** Extra principals for the auth server's certificate (its public addresses). */
  publicAddrs?: string[]
  clock?: Clock
  bcryptCost?: number
  log: (line: string) => void
  /** Login deadline and caps on unauthenticated connections (tests shorten them). */
  startupLimits?: Partial<StartupLimits>
}

export interface RunningAuthService {
  auth: AuthServer
  address: {host: string; port: number}
  hostUuid: string
  close(): Promise<void>
}

export async function startAuthService(config: AuthServiceConfig): Promise<RunningAuthService> {
  const clock = config.clock ?? systemClock
  const paths = dataDirPaths(config.dataDir)
  const backend: Backend = await openBackend(config.storage ?? {type: 'sqlite', path: paths.backend}, clock)
  let audit: AuditLog | undefined
  try {
    const hostUuid = readOrCreateHostUuid(config.dataDir)
    const shared = config.auditEventsDir === undefined ? {} : {dir: config.auditEventsDir, writer: hostUuid}
    audit = await FileAuditLog.open({dataDir: config.dataDir, ...shared, onWarning: (message) => config.log(`audit log: ${message}`)})
    const recordings = config.auditSessionsDir !== undefined ? new FileRecordingStore(config.auditSessionsDir) : config.storage?.type === 'memory' ? new MemoryRecordingStore() : new FileRecordingStore(recordingsDir(config.dataDir))
    const auth = await AuthServer.init({
      backend,
      audit,
      recordings,
      clock,
      clusterName: config.clusterName,
      secondFactor: config.secondFactor,
      staticTokens: config.staticTokens,
      proxyPublicAddr: config.proxyPublicAddr,
      ...(config.sessionRecording ? {sessionRecording: config.sessionRecording} : {}),
      ...(config.proxyListenerMode ? {proxyListenerMode: config.proxyListenerMode} : {}),
      ...(config.proxyChecksHostKeys !== undefined ? {proxyChecksHostKeys: config.proxyChecksHostKeys} : {}),
      ...(config.webIdleTimeoutMs !== undefined ? {webIdleTimeoutMs: config.webIdleTimeoutMs} : {}),
      onWarning: (message) => config.log(message),
      bcryptCost: config.bcryptCost,
    })
    // Auth's own identity and tctl's (an Admin host certificate, readable by root only), each kept
    // while the host CA's current keys vouch for it and, once a rotation has servers switch, while
    // the key that signs now made it.
    const ensureIdentities = async (cas: CAKeys) => {
      const current = (cert: ParsedCert) => !cas.rotation || !hostCertOutdated(cas.rotation.host.phase, cas.rotation.host.signingKey, cert.signatureKey)
      const own = await ensureHostIdentity(paths.hostIdentity('auth'), {
        hostCAs: cas.host,
        now: clock.now(),
        fits: (cert) => cert.hostRole === 'Auth' && cert.principals.includes(AUTH_SERVER_PRINCIPAL) && current(cert),
        issue: (publicKey) => auth.issueHostCert({hostId: hostUuid, nodeName: config.nodeName, role: 'Auth', publicKey, principals: [AUTH_SERVER_PRINCIPAL, ...(config.publicAddrs ?? [])]}),
      })
      await ensureHostIdentity(paths.adminIdentity, {
        hostCAs: cas.host,
        now: clock.now(),
        fits: (cert) => cert.hostRole === 'Admin' && current(cert),
        issue: (publicKey) => auth.issueHostCert({hostId: `admin.${hostUuid}`, nodeName: 'admin', role: 'Admin', publicKey}),
      })
      return own
    }
    let own = await ensureIdentities(await auth.caState())
    // Kept from an earlier start, it may predate host id bindings: no joiner may take this id.
    await auth.hostIds.bind(hostUuid, 'Auth', own.certificate)

    const server = new ApiServer({
      hostKey: {privateKey: own.privateKey, certificate: own.certificate},
      trust: async () => ({userCAs: await auth.caKeys('user'), hostCAs: await auth.caKeys('host')}),
      router: authApiRoutes(auth),
      onAuthFailure: ({remoteAddr, user, login, error}) =>
        void auth.emit(EventName.AuthAttempt, EventCode.AuthAttemptFailure, {user, login, 'addr.remote': remoteAddr, success: false, error}).catch(() => {}),
      onInternalError: (err) => config.log(`auth: internal error: ${(err as Error).stack ?? String(err)}`),
      log: {warn: config.log, debug: () => {}},
      ...(config.startupLimits ? {startupLimits: config.startupLimits} : {}),
    })
    const address = await server.listen(config.listen.host, config.listen.port)
    // Rotations: automatic ones move on by the clock; every change of the CAs (this server's or
    // another's, through the backend's watch) renews the identities above as needed.
    const scheduler = new RotationScheduler(auth, {clock, log: config.log})
    await scheduler.start()
    const caWatch = auth.watchCAState()
    void (async () => {
      for await (const line of createInterface({input: caWatch, crlfDelay: Infinity})) {
        const next = await ensureIdentities(JSON.parse(line) as CAKeys).catch((err: Error) => (config.log(`auth: renewing identities after a CA change: ${err.message}`), own))
        if (next.certificate !== own.certificate) server.setHostKey({privateKey: next.privateKey, certificate: next.certificate})
        own = next
      }
    })().catch((err: Error) => config.log(`auth: watching the CAs: ${err.message}`))
    return {
      auth,
      hostUuid,
      address: {host: config.listen.host, port: address.port},
      async close() {
        scheduler.stop()
        caWatch.destroy()
        await server.close()
        await audit?.close()
        await backend.close()
      },
    }
  } catch (err) {
    await audit?.close().catch(() => {})
    await backend.close().catch(() => {})
    throw err
  }
}
