// The resolved configuration a `teleport` process runs with: the file and the flags merged,
// every default applied, values parsed (addresses as {host, port}, durations in ms). Services
// read this and nothing else.
import type {EtcdBackendConfig} from '../backend/index.js'
import type {StartupLimits} from '../lib/net/startup-limiter.js'
import type {LogSeverity, SecondFactor, SessionRecording} from './schema.js'
import type {CommandLabel, HostPort, ServiceRole, StaticToken} from './values.js'

export interface TeleportConfig {
  /** The file this came from, or undefined when running on flags and defaults alone. */
  configFile: string | undefined
  /** Services this process runs, in the order auth, proxy, node; never empty. */
  roles: ServiceRole[]
  nodename: string
  /** Absolute. */
  dataDir: string
  /** Join token (already read from its file when given as a path); undefined when not given. */
  authToken: string | undefined
  /** `sha256:<hex>`, lower case; empty means trust on first use. */
  caPins: string[]
  /**
   * Where to reach the auth API: the configured servers, or, when this process runs the auth
   * service and none are configured, its own listen address (0.0.0.0 read as 127.0.0.1).
   * Never empty.
   */
  authServers: HostPort[]
  /** Where the auth service keeps cluster state (teleport.storage); the SQLite path is absolute. */
  storage: {type: 'sqlite'; path: string} | {type: 'memory'} | EtcdBackendConfig
  log: {
    /** "stderr", "stdout", or a file path. */
    output: string
    severity: LogSeverity
  }
  auth: {
    enabled: boolean
    listenAddr: HostPort
    /** Defaults to the nodename. */
    clusterName: string
    /** From auth_service.tokens; a token given as a file path is one entry per line of the file. */
    staticTokens: StaticToken[]
    authentication: {type: 'local'; secondFactor: SecondFactor}
    sessionRecording: SessionRecording
    /** auth_service.proxy_checks_host_keys: proxies learn it from auth's ping. */
    proxyChecksHostKeys: boolean
    /** auth_service.web_idle_timeout in ms (default 30m). */
    webIdleTimeoutMs: number
    /** auth_service.proxy_listener_mode: proxies learn it from auth's ping. */
    proxyListenerMode: 'separate' | 'multiplex'
    /** teleport.storage.audit_events_uri as a directory several auth servers share; absent: <data_dir>/log. */
    auditEventsDir?: string
    /** teleport.storage.audit_sessions_uri as a directory; absent: <data_dir>/log/records. */
    auditSessionsDir?: string
    /** auth_service.connection_limits; graceMs only when the file sets it. */
    connectionLimits: Partial<StartupLimits>
  }
  proxy: {
    enabled: boolean
    /** proxy_service.listen_addr: the SSH listener. */
    sshListenAddr: HostPort
    webListenAddr: HostPort
    tunnelListenAddr: HostPort
    /** Empty means "advertise the web listen address". */
    publicAddrs: HostPort[]
    httpsKeyPairs: Array<{keyFile: string; certFile: string}>
    /** proxy_service.connection_limits, for each of its listeners; graceMs only when the file sets it (the web port has its own default). */
    connectionLimits: Partial<StartupLimits>
  }
  ssh: {
    enabled: boolean
    listenAddr: HostPort
    /** No listener, reverse tunnels instead: `always` (--no-listen), `auto` (listen_addr unset: when joining through a proxy). */
    reverseTunnel?: 'auto' | 'always'
    labels: Record<string, string>
    commands: CommandLabel[]
    /** ssh_service.connection_limits; graceMs only when the file sets it. */
    connectionLimits: Partial<StartupLimits>
  }
}
