import {readFileSync, statSync} from 'node:fs'
import {networkInterfaces} from 'node:os'
import {isIP} from 'node:net'
import type {AdminAuthApi} from '../api/auth-api.js'
import {AuthServers, dialHost} from '../api/auth-servers.js'
import {parseIdentity, readIdentityFile, type Identity} from '../api/identity-file.js'
import {formatHostPort, parseHostPort, type HostPort} from '../config/values.js'
import {dataDirPaths} from '../config/data-dir.js'
import {UsageError, UserError} from '../lib/errors.js'
import {fileError, fileProblem} from '../lib/file-errors.js'
import {splitList, type AuthFlags} from './flags.js'
import {chooseConfigFile, loadTctlConfig, type TctlConfig} from './config.js'

// How tctl reaches the auth service.
//
// On the auth host (no --identity): read the daemon's config file (-c, $TELEPORT_CONFIG_FILE, or
// /etc/teleport.yaml when it exists; built-in defaults otherwise) for the data dir and the auth
// servers (teleport.auth_servers, else the auth listen address), and use the admin identity the
// auth service keeps in <data_dir>/keys/.
// With --identity: that file's key, certificate and host CAs, dialling --auth-server: auth
// servers, or a proxy's web address (then auth is reached through the proxy's SSH port).
// Several auth servers are tried in turn while one cannot be reached (AuthServers, as hosts do).

export const DEFAULT_AUTH_PORT = 3025

export interface AuthTarget {
  /** What tctl dials: the auth servers of one cluster in the order to try them, or (with --identity) a proxy's web address. */
  dial: HostPort[]
  /** Where new hosts should point --auth-server: the public form of the auth address. */
  advertise: string
  identityFile: string
  identity: Identity
  /** The config file read, if any. */
  configFile?: string
}

export interface ResolveDeps {
  env?: NodeJS.ProcessEnv
  loadConfig?: (file: string | undefined) => TctlConfig
  /** Host addresses, for the public form of a 0.0.0.0 listen address. */
  hostAddresses?: () => string[]
}

/** Decides what to dial and with which identity, reading the identity file. */
export function resolveAuthTarget(flags: AuthFlags, deps: ResolveDeps = {}): AuthTarget {
  const explicitAuth = parseAuthServers(flags['auth-server'])
  if (flags.identity) {
    if (!explicitAuth.length) {
      throw new UsageError('--auth-server is required with --identity', {hint: 'e.g. --auth-server=auth.example.com:3025'})
    }
    const identity = readIdentity(flags.identity, 'identity')
    return {dial: explicitAuth, advertise: formatHostPort(explicitAuth[0]!), identityFile: flags.identity, identity}
  }
  const configFile = chooseConfigFile(flags.config, deps.env ?? process.env)
  const config = (deps.loadConfig ?? loadTctlConfig)(configFile)
  const named = explicitAuth.length ? explicitAuth : config.authServers
  const dial = named.length ? named : [{host: dialHost(config.authListen.host), port: config.authListen.port}]
  const advertise = named.length
    ? formatHostPort(named[0]!)
    : formatHostPort({host: publicHost(config.authListen.host, deps.hostAddresses ?? hostAddresses), port: config.authListen.port})
  const identityFile = dataDirPaths(config.dataDir).adminIdentity
  const identity = readIdentity(identityFile, 'admin', config.dataDir, configFile)
  return {dial, advertise, identityFile, identity, ...(configFile ? {configFile} : {})}
}

/**
 * Runs `fn` with an auth API client; the client is always closed afterwards. Every tctl command
 * that talks to the auth service goes through here.
 */
export async function withAuth<T>(flags: AuthFlags, fn: (api: AdminAuthApi, target: AuthTarget) => Promise<T>): Promise<T> {
  const target = resolveAuthTarget(flags)
  // ssh2 and undici are loaded only when a command really dials.
  const [{ApiClient}, {AuthApiClient}, {pingProxyWeb, dialAuthPipe}] = await Promise.all([import('../api/client.js'), import('../api/auth-api-client.js'), import('../api/auth-via-proxy-web.js')])
  const {privateKey, certificate, hostCAs} = target.identity
  // With an identity, --auth-server may be a proxy's web address: its ping says so, and auth is
  // reached through its SSH port (the proxy fails over between auth servers itself).
  const proxy = flags.identity && target.dial.length === 1 ? await pingProxyWeb(target.dial[0]!) : undefined
  const credentials = {privateKey, certificate}
  const client = proxy
    ? new ApiClient({
        host: proxy.sshAddr.host,
        port: proxy.sshAddr.port,
        credentials,
        trust: {hostCAs},
        dial: () => dialAuthPipe(proxy.sshAddr, proxy.clusterName, {username: 'tctl', privateKey, certificate, hostCAs}, {tlsRouting: proxy.tlsRouting}),
      })
    : new ApiClient({servers: new AuthServers(target.dial), credentials, trust: {hostCAs}})
  const api = new AuthApiClient(client)
  try {
    return await fn(api, target)
  } finally {
    await api.close().catch(() => {})
  }
}

/** --auth-server, repeated and/or comma lists, in order without repeats; [] when not given. */
export function parseAuthServers(values: string | string[] | undefined): HostPort[] {
  const given = Array.isArray(values) ? values : values === undefined ? [] : [values]
  const texts = splitList(given.join(','))
  if (given.length > 0 && texts.length === 0) throw new UsageError('--auth-server: no address given', {hint: 'e.g. --auth-server=auth.example.com:3025'})
  return texts.map((text) => {
    try {
      return parseHostPort(text.replace(/^https?:\/\//, ''), {defaultPort: DEFAULT_AUTH_PORT})
    } catch (err) {
      throw new UsageError(`--auth-server: ${(err as Error).message}`)
    }
  })
}

/** The address other hosts would reach a listener on: for a wildcard, this host's first non-loopback address. */
export function publicHost(listenHost: string, addresses: () => string[] = hostAddresses): string {
  const wildcard = listenHost === '' || listenHost === '0.0.0.0' || listenHost === '::' || listenHost === '[::]'
  if (!wildcard) return listenHost
  const candidates = addresses().filter((a) => (listenHost.includes(':') ? true : isIP(a) === 4))
  return candidates[0] ?? dialHost(listenHost)
}

function hostAddresses(): string[] {
  const out: string[] = []
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) {
      if (!entry.internal && !(entry.family === 'IPv6' && entry.address.startsWith('fe80'))) out.push(entry.address)
    }
  }
  // IPv4 first: the usual way hosts name each other.
  return [...out.filter((a) => isIP(a) === 4), ...out.filter((a) => isIP(a) === 6)]
}

function readIdentity(file: string, kind: 'identity' | 'admin', dataDir?: string, configFile?: string): Identity {
  const identity = kind === 'identity' ? readIdentityFile(file) : readAdminIdentity(file, dataDir, configFile)
  if (identity.hostCAs.length === 0) throw new UserError(`${file} names no host certificate authority to trust (no @cert-authority line)`)
  return {privateKey: identity.privateKey, certificate: identity.certificate, hostCAs: identity.hostCAs}
}

/** The auth service's admin identity in its data dir; a missing one says where tctl looked and why. */
function readAdminIdentity(file: string, dataDir?: string, configFile?: string): Identity {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if (fileProblem(err) !== 'missing') {
      throw fileError(err, file, {
        noun: 'admin identity',
        hints: {denied: 'run tctl as root (the user the auth service runs as), or pass -c with a config whose data_dir you can read'},
      })
    }
    const where = configFile ? `the data dir of ${configFile}` : 'the default data dir; pass -c with the auth service\'s config if it uses another'
    if (dataDir && !isDirectory(dataDir)) {
      throw new UserError(`the data dir ${dataDir} does not exist`, {
        hint: `is the auth service running on this host? tctl reads its admin identity from ${where}`,
      })
    }
    throw new UserError(`no admin identity at ${file}`, {
      hint: 'is the auth service running on this host? it writes the admin identity when it first starts',
    })
  }
  return parseIdentity(text, file)
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory()
  } catch (err) {
    // A parent we may not search: the directory may well exist.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT'
  }
}
