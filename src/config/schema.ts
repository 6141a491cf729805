// The teleport.yaml schema: every key the daemon understands, defined once. Validation
// (load.ts), the sample `teleport configure` prints (sample.ts) and the sample's key-coverage
// test all walk this tree. Values are read into their typed form here (addresses as
// {host, port}, durations in ms); defaults that depend on other values (the nodename, the
// cluster name) are left undefined and settled in merge.ts, after the flags.
import {hostname} from 'node:os'
import {SESSION_RECORDING_MODES} from '../services/models/session-recording.js'

/** auth_service.proxy_listener_mode (Teleport's key and words). */
export const PROXY_LISTENER_MODES = ['separate', 'multiplex'] as const
export type ProxyListenerMode = (typeof PROXY_LISTENER_MODES)[number]
import {
  list,
  map,
  object,
  oneOf,
  oneOrMany,
  optional,
  required,
  scalar,
  section,
  string,
  withDefault,
  keyPaths,
  type ObjectSpec,
} from './spec.js'
import {
  checkLabelKey,
  MIN_COMMAND_PERIOD_MS,
  parseBoolWord,
  parseCaPin,
  parseCommandPeriod,
  parseConnectionCount,
  parseHostPort,
  parseLoginGraceTime,
  parseStaticToken,
  parseWebIdleTimeout,
  type HostPort,
} from './values.js'

export const DEFAULT_DATA_DIR = '/var/lib/teleport'
export const DEFAULT_PORTS = {auth: 3025, proxySsh: 3023, proxyWeb: 3080, proxyTunnel: 3024, node: 3022} as const

export const LOG_SEVERITIES = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const
export type LogSeverity = (typeof LOG_SEVERITIES)[number]
export const SECOND_FACTORS = ['off', 'otp', 'on', 'optional'] as const
export type SecondFactor = (typeof SECOND_FACTORS)[number]
/** Where the auth service keeps cluster state: SQLite in the data dir (Teleport's `dir`), or memory (gone at exit; for tests). */
export const STORAGE_TYPES = ['sqlite', 'memory', 'etcd'] as const
export type StorageType = (typeof STORAGE_TYPES)[number]
export {SESSION_RECORDING_MODES, type SessionRecordingMode as SessionRecording} from '../services/models/session-recording.js'

const boolean = () => scalar('a boolean (yes/no or true/false)', parseBoolWord)
const listenAddress = (defaultPort: number) =>
  scalar<HostPort>('a host:port address', (text) => parseHostPort(text, {defaultPort, allowPortZero: true}))
const address = (defaultPort: number) => scalar<HostPort>('a host:port address', (text) => parseHostPort(text, {defaultPort}))

const enabled = (role: string) =>
  withDefault(boolean(), 'yes', {
    doc: `Run the ${role} service in this process; \`teleport start --roles\` overrides this.`,
  })

const teleportSection = object({
  nodename: optional(string(), {
    doc: 'Name this machine is known by in the cluster.',
    defaultText: 'the hostname',
    sample: () => hostname(),
  }),
  data_dir: withDefault(string(), DEFAULT_DATA_DIR, {
    doc: 'Where this process keeps its state: keys, certificates, and for the auth service the cluster database.',
  }),
  auth_token: optional(string(), {
    doc: 'Join token for a process without the auth service, or the absolute path of a file holding it.',
    defaultText: 'none',
    example: '/var/lib/teleport/join-token',
  }),
  ca_pin: withDefault(oneOrMany(scalar('sha256:<hex> CA pin', parseCaPin)), [], {
    doc: 'Hash of the cluster CA a joining process must see (from `tctl status`); one pin or a list.',
    defaultText: 'none (trust the CA on first contact)',
    example: `sha256:${'0'.repeat(64)}`,
  }),
  auth_servers: withDefault(list(address(DEFAULT_PORTS.auth)), [], {
    doc: "Auth servers to join, or a proxy's web address to join through the proxy.",
    defaultText: 'this process\'s own auth service when it runs one',
    example: ['10.0.0.1:3025'],
  }),
  storage: section(
    object({
      type: withDefault(oneOf(STORAGE_TYPES, {dir: 'sqlite'}), 'sqlite', {
        doc: `Backend for the cluster state the auth service keeps: ${STORAGE_TYPES.join(', ')} (memory is lost when the process stops). Teleport's \`dir\` is read as sqlite.`,
      }),
      path: optional(string(), {
        doc: 'The SQLite database file; a relative path is taken under data_dir.',
        defaultText: '<data_dir>/backend.db',
        example: '/var/lib/teleport/backend.db',
      }),
      peers: optional(list(string()), {
        doc: 'etcd only: client URLs of the etcd members (http:// or https://).',
        example: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379'],
      }),
      prefix: optional(string(), {doc: 'etcd only: every key lives under this prefix.', defaultText: '/teleport', example: '/teleport'}),
      tls_cert_file: optional(string(), {doc: 'etcd only: client certificate (PEM) presented to etcd.', example: '/var/lib/teleport/etcd-client.crt'}),
      tls_key_file: optional(string(), {doc: 'etcd only: private key of tls_cert_file.', example: '/var/lib/teleport/etcd-client.key'}),
      tls_ca_file: optional(string(), {doc: "etcd only: CA (PEM) that signed etcd's server certificates.", example: '/var/lib/teleport/etcd-ca.crt'}),
      insecure: withDefault(boolean(), 'no', {doc: "etcd only: skip verifying etcd's certificate. Not supported: give tls_ca_file instead."}),
      username: optional(string(), {doc: 'etcd only: user for etcd password authentication (with password_file).', example: 'teleport'}),
      password_file: optional(string(), {doc: 'etcd only: file holding the password of username.', example: '/var/lib/teleport/etcd-password'}),
      audit_events_uri: withDefault(oneOrMany(string()), [], {
        doc: 'Where the auth service writes audit events: a file:// directory every auth server of the cluster mounts (each appends to its own files, each searches all).',
        defaultText: '<data_dir>/log',
        example: ['file:///mnt/teleport/events'],
      }),
      audit_sessions_uri: optional(string(), {
        doc: 'Where the auth service keeps session recordings: a file:// directory every auth server of the cluster mounts.',
        defaultText: '<data_dir>/log/records',
        example: 'file:///mnt/teleport/records',
      }),
    }),
    {doc: 'Storage of the cluster state (users, roles, tokens, nodes, CAs), as Teleport\'s teleport.storage.'},
  ),
  log: section(
    object({
      output: withDefault(string(), 'stderr', {doc: 'Where log lines go: stderr, stdout, or a file path.'}),
      severity: withDefault(oneOf(LOG_SEVERITIES, {warning: 'WARN', err: 'ERROR'}), 'INFO', {
        doc: `Least severe level written: ${LOG_SEVERITIES.join(', ')}.`,
      }),
    }),
    {doc: 'Logging.'},
  ),
})

const count = (min: number) => scalar(`a whole number, at least ${min}`, (text) => parseConnectionCount(text, min))

/**
 * Caps on connections that have not logged in yet, on every listener of the service (as
 * OpenSSH's LoginGraceTime, MaxStartups and PerSourceMaxStartups): past the handshake caps a
 * connection waits its turn, past the waiting caps it is closed at once.
 */
const connectionLimits = section(
  object({
    login_grace_time: optional(scalar('a duration like 60s or 2m', parseLoginGraceTime), {
      doc: 'Time from accept to login, waiting included; a connection not logged in by then is closed (at least 1s).',
      defaultText: '60s; on the web port, 20s to the first request',
      example: '60s',
    }),
    max_startups: withDefault(count(1), '256', {doc: 'Connections in their handshake at once on a listener; more wait their turn.'}),
    per_source_max_startups: withDefault(count(1), '32', {doc: 'Connections in their handshake at once from one client address; more wait their turn.'}),
    max_waiting: withDefault(count(0), '4096', {doc: 'Connections waiting their turn on a listener; more are closed at once.'}),
    per_source_max_waiting: withDefault(count(0), '1024', {doc: 'Connections waiting their turn from one client address; more are closed at once.'}),
  }),
  {doc: 'Limits on connections that have not logged in yet (each listener of the service counts its own).'},
)

const authService = object({
  enabled: enabled('auth'),
  listen_addr: withDefault(listenAddress(DEFAULT_PORTS.auth), `0.0.0.0:${DEFAULT_PORTS.auth}`, {
    doc: 'Address the auth API listens on.',
  }),
  cluster_name: optional(string(), {
    doc: 'Name of the cluster; part of every certificate, so it cannot change once the cluster exists.',
    defaultText: 'the nodename',
    sample: () => hostname(),
  }),
  tokens: withDefault(list(scalar('a "role[,role]:token" entry', parseStaticToken)), [], {
    doc: 'Static join tokens, "role[,role]:token" (roles: node, proxy, auth, trusted_cluster); they never expire.',
    defaultText: 'none',
    example: ['node:replace-with-a-long-random-secret'],
  }),
  authentication: section(
    object({
      type: withDefault(oneOf(['local'] as const), 'local', {doc: 'How users log in: local users with passwords.'}),
      second_factor: withDefault(oneOf(SECOND_FACTORS), 'otp', {
        doc: `Second factor for local logins: ${SECOND_FACTORS.join(', ')}.`,
      }),
    }),
    {doc: 'How users authenticate.'},
  ),
  session_recording: withDefault(oneOf(SESSION_RECORDING_MODES), 'node', {
    doc: `Where sessions are recorded: ${SESSION_RECORDING_MODES.join(', ')}.`,
  }),
  proxy_checks_host_keys: withDefault(boolean(), 'yes', {
    doc: 'Recording proxy mode: the proxy refuses a node whose host key is not certified by the cluster host CA.',
  }),
  web_idle_timeout: withDefault(scalar('a duration like 30m or 1h', parseWebIdleTimeout), '30m', {
    doc: 'A web UI session unused this long is signed out (at least 1m).',
  }),
  proxy_listener_mode: withDefault(oneOf(PROXY_LISTENER_MODES), 'separate', {
    doc: 'separate: the proxy listens on its web, SSH and tunnel ports; multiplex: everything on the web port, routed by TLS ALPN.',
  }),
  connection_limits: connectionLimits,
})

const proxyService = object({
  enabled: enabled('proxy'),
  listen_addr: withDefault(listenAddress(DEFAULT_PORTS.proxySsh), `0.0.0.0:${DEFAULT_PORTS.proxySsh}`, {
    doc: 'SSH address clients connect to; the proxy routes them on to nodes.',
  }),
  web_listen_addr: withDefault(listenAddress(DEFAULT_PORTS.proxyWeb), `0.0.0.0:${DEFAULT_PORTS.proxyWeb}`, {
    doc: 'HTTPS address of the web API and web UI.',
  }),
  tunnel_listen_addr: withDefault(listenAddress(DEFAULT_PORTS.proxyTunnel), `0.0.0.0:${DEFAULT_PORTS.proxyTunnel}`, {
    doc: 'Reverse tunnel address nodes behind firewalls dial out to.',
  }),
  public_addr: withDefault(oneOrMany(address(DEFAULT_PORTS.proxyWeb)), [], {
    doc: 'Address(es) users reach the web endpoint at, host:port or a list; the first is advertised.',
    defaultText: 'none (the web listen address)',
    example: [`proxy.example.com:${DEFAULT_PORTS.proxyWeb}`],
  }),
  https_keypairs: withDefault(
    list(
      object({
        key_file: required(string(), {doc: 'the PEM private key file'}),
        cert_file: required(string(), {doc: 'the PEM certificate chain file'}),
      }),
    ),
    [],
    {
      doc: 'TLS certificate and key for the HTTPS endpoint.',
      defaultText: 'none (a self-signed pair is made in the data dir)',
      example: [{key_file: '/etc/teleport/webproxy_key.pem', cert_file: '/etc/teleport/webproxy_cert.pem'}],
    },
  ),
  connection_limits: connectionLimits,
})

const sshService = object({
  enabled: enabled('node (SSH)'),
  listen_addr: optional(listenAddress(DEFAULT_PORTS.node), {
    doc: "Address the node SSH server listens on. Unset on a node that joins through a proxy's web address: no listener, the node dials a reverse tunnel to the proxy.",
    defaultText: `0.0.0.0:${DEFAULT_PORTS.node}, or a reverse tunnel when joining through a proxy`,
    sample: () => `0.0.0.0:${DEFAULT_PORTS.node}`,
  }),
  labels: withDefault(map(string(), checkLabelKey), {}, {
    doc: 'Static labels, key: value; roles select nodes by them.',
    defaultText: 'none',
    example: {env: 'staging'},
  }),
  commands: withDefault(
    list(
      object({
        name: required(string(), {doc: "the label's name"}),
        command: required(list(string(), {nonEmpty: true}), {doc: 'the program and its arguments, not run through a shell'}),
        period: withDefault(scalar('a duration like 1h or 30s', parseCommandPeriod), '1h', {
          doc: `how often to re-run it, at least ${MIN_COMMAND_PERIOD_MS / 1000}s`,
        }),
      }),
      {uniqueKey: 'name'},
    ),
    [],
    {
      doc: "Labels whose value is a command's output, re-run every period.",
      defaultText: 'none',
      sample: [{name: 'hostname', command: ['hostname'], period: '1m'}],
    },
  ),
  connection_limits: connectionLimits,
})

/** The whole file. */
export const TELEPORT_CONFIG_SCHEMA = object({
  version: withDefault(oneOf(['v1', 'v2', 'v3'] as const), 'v3', {doc: 'Config format version.'}),
  teleport: section(teleportSection, {doc: 'Settings every service in this process shares.'}),
  auth_service: section(authService, {doc: 'The auth service: the cluster CA and the only stateful service.'}),
  proxy_service: section(proxyService, {doc: 'The proxy: the cluster front door for tsh, browsers and tunnels.'}),
  ssh_service: section(sshService, {doc: 'The node: an SSH server that accepts cluster certificates only.'}),
})

type ValueOf<S> = S extends ObjectSpec<infer T> ? T : never

/** What a config file says once validated: every key present, defaults filled in. */
export type FileConfig = ValueOf<typeof TELEPORT_CONFIG_SCHEMA>

/** Every key the schema knows (`teleport.log.severity`, `ssh_service.commands[].name`, ...). */
export function schemaKeyPaths(): string[] {
  return keyPaths(TELEPORT_CONFIG_SCHEMA)
}

/** The file config of an empty file: every default. */
export function defaultFileConfig(): FileConfig {
  return TELEPORT_CONFIG_SCHEMA.read({}, [])
}
