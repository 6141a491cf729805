// `teleport start`: choose the config file, read it, lay the flags over it, and settle every
// default, giving the one TeleportConfig the services run with. Precedence: flag, then file,
// then default.
import {existsSync, statSync} from 'node:fs'
import {isIP} from 'node:net'
import {hostname} from 'node:os'
import {resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {EtcdBackendConfig} from '../backend/index.js'
import {BadParameterError} from '../lib/errors.js'
import type {StartupLimits} from '../lib/net/startup-limiter.js'
import {checkLabel, checkNodeHostname} from '../services/models/node.js'
import {dataDirPaths} from './data-dir.js'
import {loadConfigFile} from './load.js'
import {DEFAULT_PORTS, defaultFileConfig, type FileConfig} from './schema.js'
import type {TeleportConfig} from './teleport-config.js'
import {
  parseCaPin,
  parseHostPort,
  parseLabelSpec,
  parseRoles,
  readValueOrFile,
  SERVICE_ROLES,
  type CommandLabel,
  type HostPort,
  type ServiceRole,
  type StaticToken,
} from './values.js'

/** `teleport start` flags, as the command parsed them (repeatable flags as arrays). */
export interface StartFlags {
  /** --config; when absent, defaultConfigPath() decides. */
  config?: string
  /** --roles=auth,proxy,node: which services run, over the file's `enabled` keys. */
  roles?: string
  dataDir?: string
  nodename?: string
  /** --token: a join token, or the absolute path of a file holding it. */
  token?: string
  /** --ca-pin, repeatable; each may also be a comma list. */
  caPin?: string | string[]
  /** --auth-server, repeatable; each may also be a comma list. */
  authServer?: string | string[]
  /** --labels=env=staging,team=db (and command labels, arch=[1h:uname -p]). */
  labels?: string
  /** --listen-ip: bind every listener to this IP, keeping each one's port. */
  listenIp?: string
  /** --no-listen: the node opens no port and is reached through reverse tunnels to the proxy. */
  noListen?: boolean
  /** --debug: log at DEBUG. */
  debug?: boolean
}

export const SYSTEM_CONFIG_PATH = '/etc/teleport.yaml'

/**
 * The config file to read when --config is not given: /etc/teleport.yaml if it exists, else
 * none. TELEPORT_CONFIG_FILE replaces that location (tests point it at a fixture, or at a
 * missing path to ignore the machine's own file); empty means none.
 */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidate = env.TELEPORT_CONFIG_FILE ?? SYSTEM_CONFIG_PATH
  if (candidate === '') return undefined
  return existsSync(candidate) && statSync(candidate).isFile() ? candidate : undefined
}

/** Picks the file (flag, else default), reads it, and merges the flags over it. */
export function loadTeleportConfig(flags: StartFlags, env: NodeJS.ProcessEnv = process.env): TeleportConfig {
  const configFile = flags.config ?? defaultConfigPath(env)
  const file = configFile === undefined ? undefined : loadConfigFile(configFile)
  return mergeConfig(file, flags, {configFile})
}

export interface MergeOptions {
  /** Named in messages and kept in the result. */
  configFile?: string
  /** Stands in for os.hostname() (tests). */
  hostname?: string
  /** Relative --data-dir values resolve against this; process.cwd() by default. */
  cwd?: string
}

/** Lays flags over a validated file config (or over the defaults when there is no file). */
export function mergeConfig(file: FileConfig | undefined, flags: StartFlags, options: MergeOptions = {}): TeleportConfig {
  const fc = file ?? defaultFileConfig()
  const where = options.configFile ?? 'the config file'

  const roles = flags.roles !== undefined ? fromFlag('roles', () => parseRoles(flags.roles!)) : rolesFromFile(fc)
  if (roles.length === 0) {
    throw new BadParameterError(`no services enabled: ${where} sets enabled: no for auth_service, proxy_service and ssh_service`, {
      hint: `enable one, or pass --roles=${SERVICE_ROLES.join(',')}`,
    })
  }

  const nodename =
    flags.nodename !== undefined
      ? fromFlag('nodename', () => validNodename(nonEmpty(flags.nodename!)))
      : fc.teleport.nodename !== undefined
        ? fromKey('teleport.nodename', where, () => validNodename(fc.teleport.nodename!))
        : nodenameFromHost(options.hostname ?? hostname())
  const listenIp = flags.listenIp === undefined ? undefined : fromFlag('listen-ip', () => checkIp(flags.listenIp!))
  const rebind = (address: HostPort): HostPort => (listenIp === undefined ? address : {host: listenIp, port: address.port})

  const authEnabled = roles.includes('auth')
  const authListenAddr = rebind(fc.auth_service.listen_addr)
  let authServers =
    flags.authServer !== undefined ? fromFlag('auth-server', () => parseAuthServers(flags.authServer!)) : fc.teleport.auth_servers
  if (authServers.length === 0) {
    if (!authEnabled) {
      throw new BadParameterError('no auth server to join: this process does not run the auth service', {
        hint: `set teleport.auth_servers in ${where}, or pass --auth-server`,
      })
    }
    authServers = [loopbackFor(authListenAddr)]
  }

  const authToken = resolveAuthToken(flags.token, fc.teleport.auth_token, where)

  const caPins =
    flags.caPin !== undefined ? fromFlag('ca-pin', () => splitRepeatable(flags.caPin!).map(parseCaPin)) : fc.teleport.ca_pin

  const flagLabels = flags.labels === undefined ? undefined : fromFlag('labels', () => parseLabelSpec(flags.labels!))
  fromKey('ssh_service.labels', where, () => Object.entries(fc.ssh_service.labels).forEach(([key, value]) => checkLabel(key, value)))

  const dataDir = resolve(options.cwd ?? process.cwd(), flags.dataDir !== undefined ? fromFlag('data-dir', () => nonEmpty(flags.dataDir!)) : fc.teleport.data_dir)

  return {
    configFile: options.configFile,
    roles,
    nodename,
    dataDir,
    authToken,
    caPins,
    authServers,
    storage: fromKey('teleport.storage', where, () => storageOf(fc.teleport.storage, dataDir)),
    log: {output: fc.teleport.log.output, severity: flags.debug ? 'DEBUG' : fc.teleport.log.severity},
    auth: {
      enabled: authEnabled,
      listenAddr: authListenAddr,
      clusterName: fc.auth_service.cluster_name ?? nodename,
      staticTokens: fromKey('auth_service.tokens', where, () => expandStaticTokens(fc.auth_service.tokens)),
      authentication: {type: fc.auth_service.authentication.type, secondFactor: fc.auth_service.authentication.second_factor},
      sessionRecording: fc.auth_service.session_recording,
      proxyChecksHostKeys: fc.auth_service.proxy_checks_host_keys,
      webIdleTimeoutMs: fc.auth_service.web_idle_timeout,
      proxyListenerMode: fc.auth_service.proxy_listener_mode,
      ...fromKey('teleport.storage', where, () => auditStorageOf(fc.teleport.storage)),
      connectionLimits: connectionLimitsOf(fc.auth_service.connection_limits),
    },
    proxy: {
      enabled: roles.includes('proxy'),
      sshListenAddr: rebind(fc.proxy_service.listen_addr),
      webListenAddr: rebind(fc.proxy_service.web_listen_addr),
      tunnelListenAddr: rebind(fc.proxy_service.tunnel_listen_addr),
      publicAddrs: fc.proxy_service.public_addr,
      httpsKeyPairs: fc.proxy_service.https_keypairs.map((pair) => ({keyFile: pair.key_file, certFile: pair.cert_file})),
      connectionLimits: connectionLimitsOf(fc.proxy_service.connection_limits),
    },
    ssh: {
      enabled: roles.includes('node'),
      listenAddr: rebind(fc.ssh_service.listen_addr ?? {host: '0.0.0.0', port: DEFAULT_PORTS.node}),
      // No listen_addr: the node decides once it knows how it reaches the cluster (through a proxy: a tunnel).
      ...(flags.noListen ? {reverseTunnel: 'always' as const} : fc.ssh_service.listen_addr === undefined ? {reverseTunnel: 'auto' as const} : {}),
      // --labels adds to the file's labels; a key given in both takes the flag's value.
      labels: {...withoutKeys(fc.ssh_service.labels, flagLabels?.commands), ...flagLabels?.labels},
      commands: mergeCommands(fileCommands(fc), flagLabels),
      connectionLimits: connectionLimitsOf(fc.ssh_service.connection_limits),
    },
  }
}

/** A service's connection_limits as its listeners' StartupLimits (the grace time only when set). */
function connectionLimitsOf(limits: FileConfig['proxy_service']['connection_limits']): Partial<StartupLimits> {
  return {
    ...(limits.login_grace_time !== undefined ? {graceMs: limits.login_grace_time} : {}),
    maxTotal: limits.max_startups,
    maxPerSource: limits.per_source_max_startups,
    maxWaiting: limits.max_waiting,
    maxWaitingPerSource: limits.per_source_max_waiting,
  }
}

/** teleport.storage's audit_events_uri and audit_sessions_uri: directories given as file:// URIs. */
function auditStorageOf(storage: FileConfig['teleport']['storage']): {auditEventsDir?: string; auditSessionsDir?: string} {
  if (storage.audit_events_uri.length > 1) throw new BadParameterError('audit_events_uri: give one file:// URI; several audit destinations are not supported')
  const events = storage.audit_events_uri[0]
  return {
    ...(events === undefined ? {} : {auditEventsDir: fileUriDir('audit_events_uri', events)}),
    ...(storage.audit_sessions_uri === undefined ? {} : {auditSessionsDir: fileUriDir('audit_sessions_uri', storage.audit_sessions_uri)}),
  }
}

/** file:///mnt/teleport/events → /mnt/teleport/events; any other form is refused naming the key. */
function fileUriDir(key: string, text: string): string {
  let url: URL | undefined
  try {
    url = new URL(text)
  } catch {
    // not a URI: refused below
  }
  if (url?.protocol !== 'file:' || (url.host !== '' && url.host !== 'localhost') || url.search || url.hash || url.pathname === '/') {
    throw new BadParameterError(`${key}: ${JSON.stringify(text)} is not a file:// URI of a directory; only file:// is supported here, e.g. file:///mnt/teleport/${key === 'audit_events_uri' ? 'events' : 'records'}`)
  }
  return fileURLToPath(url).replace(/\/+$/, '')
}

/** teleport.storage: SQLite at <data_dir>/backend.db unless told otherwise. */
function storageOf(storage: FileConfig['teleport']['storage'], dataDir: string): TeleportConfig['storage'] {
  const etcdKeys = (['peers', 'prefix', 'tls_cert_file', 'tls_key_file', 'tls_ca_file', 'username', 'password_file'] as const).filter((key) => storage[key] !== undefined && storage[key]?.length !== 0)
  if (storage.type !== 'etcd' && etcdKeys.length > 0) {
    throw new BadParameterError(`${etcdKeys[0]} is for etcd; remove it or use type etcd`)
  }
  if (storage.type === 'memory') {
    if (storage.path !== undefined) throw new BadParameterError('a memory store has no path; remove storage.path or use type sqlite')
    return {type: 'memory'}
  }
  if (storage.type === 'etcd') return etcdStorageOf(storage, dataDir)
  return {type: 'sqlite', path: storage.path === undefined ? dataDirPaths(dataDir).backend : resolve(dataDir, storage.path)}
}

function etcdStorageOf(storage: FileConfig['teleport']['storage'], dataDir: string): EtcdBackendConfig {
  if (storage.path !== undefined) throw new BadParameterError('an etcd store has no path; remove storage.path')
  if (!storage.peers || storage.peers.length === 0) throw new BadParameterError('type etcd needs peers: the client URLs of the etcd members')
  for (const peer of storage.peers) {
    if (!/^https?:\/\/[^/]+$/.test(peer)) throw new BadParameterError(`peers: ${JSON.stringify(peer)} is not an etcd client URL like https://10.0.0.1:2379`)
  }
  const prefix = storage.prefix ?? '/teleport'
  if (!prefix.startsWith('/') || prefix.length < 2) throw new BadParameterError(`prefix: ${JSON.stringify(prefix)} must start with "/" and name something, like /teleport`)
  if (storage.insecure) throw new BadParameterError("insecure: yes is not supported; give tls_ca_file, the CA of etcd's certificates")
  if (storage.tls_cert_file !== undefined && storage.tls_key_file === undefined) throw new BadParameterError('tls_cert_file needs tls_key_file')
  if (storage.tls_key_file !== undefined && storage.tls_cert_file === undefined) throw new BadParameterError('tls_key_file needs tls_cert_file')
  if (storage.tls_cert_file !== undefined && storage.tls_ca_file === undefined) throw new BadParameterError('tls_cert_file needs tls_ca_file, the CA of etcd\'s certificates')
  if (storage.username !== undefined && storage.password_file === undefined) throw new BadParameterError('username needs password_file')
  if (storage.password_file !== undefined && storage.username === undefined) throw new BadParameterError('password_file needs username')
  const file = (path: string | undefined) => (path === undefined ? undefined : resolve(dataDir, path))
  const config: EtcdBackendConfig = {type: 'etcd', peers: storage.peers, prefix: prefix.replace(/\/+$/, '')}
  const optionalKeys = {
    tlsCertFile: file(storage.tls_cert_file),
    tlsKeyFile: file(storage.tls_key_file),
    tlsCaFile: file(storage.tls_ca_file),
    username: storage.username,
    passwordFile: file(storage.password_file),
  }
  for (const [key, value] of Object.entries(optionalKeys)) if (value !== undefined) Object.assign(config, {[key]: value})
  return config
}

/** --token, else teleport.auth_token; either may name a file holding the token. */
function resolveAuthToken(flag: string | undefined, fromFile: string | undefined, where: string): string | undefined {
  if (flag !== undefined) return fromFlag('token', () => readValueOrFile(nonEmpty(flag)))
  if (fromFile !== undefined) return fromKey('teleport.auth_token', where, () => readValueOrFile(fromFile))
  return undefined
}

function rolesFromFile(fc: FileConfig): ServiceRole[] {
  const enabled: Record<ServiceRole, boolean> = {
    auth: fc.auth_service.enabled,
    proxy: fc.proxy_service.enabled,
    node: fc.ssh_service.enabled,
  }
  return SERVICE_ROLES.filter((role) => enabled[role])
}

/** Runs a parser for a flag's value, naming the flag in its error. */
function fromFlag<T>(flag: string, parse: () => T): T {
  try {
    return parse()
  } catch (err) {
    if (err instanceof BadParameterError) throw new BadParameterError(`--${flag}: ${err.message}`, {hint: err.hint, cause: err})
    throw err
  }
}

/** Same for a file key whose value needs the file system (token files), after validation. */
function fromKey<T>(key: string, where: string, parse: () => T): T {
  try {
    return parse()
  } catch (err) {
    if (err instanceof BadParameterError) throw new BadParameterError(`${where}: ${key}: ${err.message}`, {hint: err.hint, cause: err})
    throw err
  }
}

/** The name auth would refuse at registration is refused at start, with the same words. */
function validNodename(name: string): string {
  checkNodeHostname(name)
  return name
}

function nodenameFromHost(name: string): string {
  try {
    return validNodename(name)
  } catch (err) {
    if (err instanceof BadParameterError) throw new BadParameterError(`this host's name cannot be the node name: ${err.message}`, {hint: 'set teleport.nodename or pass --nodename'})
    throw err
  }
}

function nonEmpty(text: string): string {
  const trimmed = text.trim()
  if (trimmed === '') throw new BadParameterError('must not be empty')
  return trimmed
}

function checkIp(text: string): string {
  const ip = text.trim()
  if (isIP(ip) === 0) throw new BadParameterError(`invalid IP address ${JSON.stringify(text)}`)
  return ip
}

/** Repeated flags and comma lists alike: `--ca-pin a --ca-pin b` = `--ca-pin a,b`. */
function splitRepeatable(values: string | string[]): string[] {
  const all = (Array.isArray(values) ? values : [values]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '')
  if (all.length === 0) throw new BadParameterError('no value given')
  return all
}

function parseAuthServers(values: string | string[]): HostPort[] {
  return splitRepeatable(values).map((v) => parseHostPort(v, {defaultPort: DEFAULT_PORTS.auth}))
}

/** A wildcard listen address is dialled on loopback. */
function loopbackFor(address: HostPort): HostPort {
  if (address.host === '0.0.0.0') return {host: '127.0.0.1', port: address.port}
  if (address.host === '::') return {host: '::1', port: address.port}
  return address
}

/** A static token written as a file path is every non-empty line of that file (Teleport's rule). */
function expandStaticTokens(tokens: StaticToken[]): StaticToken[] {
  return tokens.flatMap((entry) =>
    readValueOrFile(entry.token)
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .map((token) => ({roles: entry.roles, token})),
  )
}

function fileCommands(fc: FileConfig): CommandLabel[] {
  return fc.ssh_service.commands.map((c) => ({name: c.name, command: c.command, periodMs: c.period}))
}

/** Flag command labels replace file ones of the same name; a flag's static label removes a file command label of its name. */
function mergeCommands(fromFile: CommandLabel[], flags: ReturnType<typeof parseLabelSpec> | undefined): CommandLabel[] {
  if (!flags) return fromFile
  const replaced = new Set([...flags.commands.map((c) => c.name), ...Object.keys(flags.labels)])
  return [...fromFile.filter((c) => !replaced.has(c.name)), ...flags.commands]
}

function withoutKeys(labels: Record<string, string>, commands: CommandLabel[] | undefined): Record<string, string> {
  if (!commands?.length) return labels
  const names = new Set(commands.map((c) => c.name))
  return Object.fromEntries(Object.entries(labels).filter(([key]) => !names.has(key)))
}
