import {chmodSync, mkdirSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {writeFileAtomic} from '../lib/atomic-write.js'
import {UserError} from '../lib/errors.js'
import {hostCAsOf, mergeKnownHosts} from './known-hosts.js'
import {profileFromYaml, profileToYaml, type Profile} from './profile-file.js'
import {proxyHostOf} from './proxy-addr.js'

// The client's key store: profiles, keys, certificates and trusted host CAs, in the ~/.tsh
// layout Teleport uses (so OpenSSH can be pointed at the same files by `tsh config`):
//
//   current-profile                               name (proxy host) of the active profile
//   <proxy-host>.yaml                             the profile
//   known_hosts                                   @cert-authority lines per cluster
//   keys/<proxy-host>/<user>                      private key (OpenSSH PEM)
//   keys/<proxy-host>/<user>.pub                  its public key
//   keys/<proxy-host>/<user>-ssh/<cluster>-cert.pub   the user certificate
//   keys/<proxy-host>/<user>-x509.pem             the same identity as an X.509 client certificate
//   keys/<proxy-host>/cas/<cluster>.pem           the cluster's TLS user CA (PEM) that signs it
//
// FileKeyStore keeps them on disk (dirs 0700, files 0600, every write atomic); MemoryKeyStore
// is its twin for unit tests. Both compute the same paths.

export interface StoredKey {
  /** Absent when the key lives only in the SSH agent (--add-keys-to-agent=only). */
  privateKey?: string
  publicKey: string
  certificate?: string
  /** The X.509 client certificate (PEM) on the same key, for the proxy's TLS relay. */
  x509Certificate?: string
}

export interface KeyPaths {
  /** keys/<proxy-host> */
  proxyKeysDir: string
  keyPath: string
  publicKeyPath: string
  certDir: string
  certPath: string
  x509Path: string
  knownHostsPath: string
  profilePath: string
}

export interface KeyStore {
  /** The tsh home (~/.tsh or $TELEPORT_HOME). */
  readonly home: string
  /** Keychain entries the delete* methods could not remove (a keychain that did not answer). */
  readonly leftInKeychain?: readonly string[]
  paths(proxyHost: string, user: string, cluster: string): KeyPaths

  currentProfile(): string | undefined
  setCurrentProfile(name: string | undefined): void
  /** Proxy hosts that have a profile, sorted. */
  profileNames(): string[]
  readProfile(name: string): Profile | undefined
  /** Saved under the proxy host of profile.webProxyAddr. */
  writeProfile(profile: Profile): void
  deleteProfile(name: string): void

  /** Users with keys under a proxy, sorted. */
  users(proxyHost: string): string[]
  readKey(proxyHost: string, user: string, cluster: string): StoredKey | undefined
  writeKey(proxyHost: string, user: string, cluster: string, key: StoredKey & {certificate: string}): void
  /** Removes one user's key, public key and certificates. */
  deleteKey(proxyHost: string, user: string): void
  /** Removes every key under the proxy. */
  deleteProxyKeys(proxyHost: string): void
  /** Removes the whole keys directory. */
  deleteAllKeys(): void

  /** The proxy's HTTPS certificate as pinned at the first login (PEM), if any. */
  readProxyCertificate(proxyHost: string): string | undefined
  writeProxyCertificate(proxyHost: string, pem: string): void

  /** The cluster's TLS user CA certificates (PEM), as stored at login. */
  readTlsCAs(proxyHost: string, cluster: string): string | undefined
  writeTlsCAs(proxyHost: string, cluster: string, pem: string): void

  readKnownHosts(): string
  /** Replaces the cluster's @cert-authority lines with these CA keys. */
  trustHostCAs(proxyHost: string, cluster: string, caKeys: string[]): void
  hostCAs(cluster: string): string[]
}

/** Names become path segments: refuse anything that could climb out of the store. */
function segment(name: string, what: string): string {
  if (!name || name === '.' || name === '..' || /[/\\\0]/.test(name)) throw new UserError(`invalid ${what} "${name}"`)
  return name
}

/** keys/<proxy-host>/proxy-cert.pem: the proxy's HTTPS certificate, pinned at the first login. */
const PROXY_CERT_FILE = 'proxy-cert.pem'

export function keyPathsIn(home: string, proxyHost: string, user: string, cluster: string): KeyPaths {
  const proxyKeysDir = path.join(home, 'keys', segment(proxyHost, 'proxy host'))
  const keyPath = path.join(proxyKeysDir, segment(user, 'user name'))
  const certDir = `${keyPath}-ssh`
  return {
    proxyKeysDir,
    keyPath,
    publicKeyPath: `${keyPath}.pub`,
    certDir,
    certPath: path.join(certDir, `${segment(cluster || proxyHost, 'cluster name')}-cert.pub`),
    x509Path: `${keyPath}-x509.pem`,
    knownHostsPath: path.join(home, 'known_hosts'),
    profilePath: path.join(home, `${proxyHost}.yaml`),
  }
}

function tlsCAsPath(home: string, proxyHost: string, cluster: string): string {
  return path.join(home, 'keys', segment(proxyHost, 'proxy host'), 'cas', `${segment(cluster || proxyHost, 'cluster name')}.pem`)
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined
    throw err
  }
}

function badProfile(file: string, err: unknown): UserError {
  return new UserError(`${file} is not a valid tsh profile: ${(err as Error).message}`, {hint: 'remove it, or run "tsh logout" and log in again'})
}

export class FileKeyStore implements KeyStore {
  constructor(readonly home: string) {}

  paths(proxyHost: string, user: string, cluster: string): KeyPaths {
    return keyPathsIn(this.home, proxyHost, user, cluster)
  }

  /** mkdir -p, and 0700 on every directory from `dir` up to the home (a pre-existing 0755 ~/.tsh is tightened). */
  private ensureDir(dir: string): void {
    mkdirSync(dir, {recursive: true, mode: 0o700})
    for (let d = dir; d === this.home || d.startsWith(this.home + path.sep); d = path.dirname(d)) {
      chmodSync(d, 0o700)
      if (d === this.home) break
    }
  }

  private write(file: string, data: string): void {
    this.ensureDir(path.dirname(file))
    writeFileAtomic(file, data, 0o600)
  }

  currentProfile(): string | undefined {
    const name = readText(path.join(this.home, 'current-profile'))?.trim()
    return name || undefined
  }

  setCurrentProfile(name: string | undefined): void {
    const file = path.join(this.home, 'current-profile')
    if (name === undefined) rmSync(file, {force: true})
    else this.write(file, `${segment(name, 'profile name')}\n`)
  }

  profileNames(): string[] {
    let entries: string[]
    try {
      entries = readdirSync(this.home)
    } catch {
      return []
    }
    return entries.filter((f) => f.endsWith('.yaml') && !f.startsWith('.')).map((f) => f.slice(0, -'.yaml'.length)).sort()
  }

  readProfile(name: string): Profile | undefined {
    const file = path.join(this.home, `${segment(name, 'profile name')}.yaml`)
    const text = readText(file)
    if (text === undefined) return undefined
    try {
      return profileFromYaml(text)
    } catch (err) {
      throw badProfile(file, err)
    }
  }

  writeProfile(profile: Profile): void {
    const name = segment(proxyHostOf(profile.webProxyAddr), 'proxy host')
    this.write(path.join(this.home, `${name}.yaml`), profileToYaml(profile))
  }

  deleteProfile(name: string): void {
    rmSync(path.join(this.home, `${segment(name, 'profile name')}.yaml`), {force: true})
  }

  users(proxyHost: string): string[] {
    let entries: string[]
    try {
      entries = readdirSync(path.join(this.home, 'keys', segment(proxyHost, 'proxy host')))
    } catch {
      return []
    }
    return entries.filter((f) => f.endsWith('.pub') && !f.startsWith('.')).map((f) => f.slice(0, -'.pub'.length)).sort()
  }

  readKey(proxyHost: string, user: string, cluster: string): StoredKey | undefined {
    const p = this.paths(proxyHost, user, cluster)
    const publicKey = readText(p.publicKeyPath)
    if (publicKey === undefined) return undefined
    const key: StoredKey = {publicKey: publicKey.trim()}
    const privateKey = readText(p.keyPath)
    if (privateKey !== undefined) key.privateKey = privateKey
    const certificate = readText(p.certPath)
    if (certificate !== undefined) key.certificate = certificate.trim()
    const x509 = readText(p.x509Path)
    if (x509 !== undefined) key.x509Certificate = x509
    return key
  }

  writeKey(proxyHost: string, user: string, cluster: string, key: StoredKey & {certificate: string}): void {
    const p = this.paths(proxyHost, user, cluster)
    // Private key first, certificate last: a reader that finds the new certificate finds its key.
    if (key.privateKey !== undefined) this.write(p.keyPath, key.privateKey.endsWith('\n') ? key.privateKey : `${key.privateKey}\n`)
    else rmSync(p.keyPath, {force: true})
    this.write(p.publicKeyPath, `${key.publicKey.trim()}\n`)
    this.write(p.certPath, `${key.certificate.trim()}\n`)
    // A certificate from an earlier key must not stay beside the new one.
    if (key.x509Certificate !== undefined) this.write(p.x509Path, key.x509Certificate)
    else rmSync(p.x509Path, {force: true})
  }

  deleteKey(proxyHost: string, user: string): void {
    const p = this.paths(proxyHost, user, proxyHost)
    rmSync(p.keyPath, {force: true})
    rmSync(p.publicKeyPath, {force: true})
    rmSync(p.certDir, {recursive: true, force: true})
    rmSync(p.x509Path, {force: true})
    try {
      if (readdirSync(p.proxyKeysDir).length === 0) rmSync(p.proxyKeysDir, {recursive: true, force: true})
    } catch {
      // already gone
    }
  }

  deleteProxyKeys(proxyHost: string): void {
    rmSync(path.join(this.home, 'keys', segment(proxyHost, 'proxy host')), {recursive: true, force: true})
  }

  deleteAllKeys(): void {
    rmSync(path.join(this.home, 'keys'), {recursive: true, force: true})
  }

  readProxyCertificate(proxyHost: string): string | undefined {
    return readText(path.join(this.home, 'keys', segment(proxyHost, 'proxy host'), PROXY_CERT_FILE))
  }

  writeProxyCertificate(proxyHost: string, pem: string): void {
    this.write(path.join(this.home, 'keys', segment(proxyHost, 'proxy host'), PROXY_CERT_FILE), pem)
  }

  readTlsCAs(proxyHost: string, cluster: string): string | undefined {
    return readText(tlsCAsPath(this.home, proxyHost, cluster))
  }

  writeTlsCAs(proxyHost: string, cluster: string, pem: string): void {
    this.write(tlsCAsPath(this.home, proxyHost, cluster), pem)
  }

  readKnownHosts(): string {
    return readText(path.join(this.home, 'known_hosts')) ?? ''
  }

  trustHostCAs(proxyHost: string, cluster: string, caKeys: string[]): void {
    this.write(path.join(this.home, 'known_hosts'), mergeKnownHosts(this.readKnownHosts(), proxyHost, cluster, caKeys))
  }

  hostCAs(cluster: string): string[] {
    return hostCAsOf(this.readKnownHosts(), cluster)
  }
}

/** The in-memory twin of FileKeyStore, for tests only. */
export class MemoryKeyStore implements KeyStore {
  private current: string | undefined
  private readonly profiles = new Map<string, Profile>()
  /** "<proxyHost>/<user>" -> key without certificates; certificates by cluster. */
  private readonly keys = new Map<string, {privateKey?: string; publicKey: string; certs: Map<string, string>; x509?: string}>()
  private readonly tlsCAs = new Map<string, string>()
  private knownHosts = ''
  private readonly proxyCerts = new Map<string, string>()

  constructor(readonly home = '/memory/.tsh') {}

  paths(proxyHost: string, user: string, cluster: string): KeyPaths {
    return keyPathsIn(this.home, proxyHost, user, cluster)
  }
  currentProfile(): string | undefined {
    return this.current
  }
  setCurrentProfile(name: string | undefined): void {
    this.current = name === undefined ? undefined : segment(name, 'profile name')
  }
  profileNames(): string[] {
    return [...this.profiles.keys()].sort()
  }
  readProfile(name: string): Profile | undefined {
    const p = this.profiles.get(name)
    return p && structuredClone(p)
  }
  writeProfile(profile: Profile): void {
    this.profiles.set(segment(proxyHostOf(profile.webProxyAddr), 'proxy host'), structuredClone(profile))
  }
  deleteProfile(name: string): void {
    this.profiles.delete(name)
  }
  users(proxyHost: string): string[] {
    return [...this.keys.keys()].filter((k) => k.startsWith(`${proxyHost}/`)).map((k) => k.slice(proxyHost.length + 1)).sort()
  }
  readKey(proxyHost: string, user: string, cluster: string): StoredKey | undefined {
    this.paths(proxyHost, user, cluster) // the same name checks as the file store
    const entry = this.keys.get(`${proxyHost}/${user}`)
    if (!entry) return undefined
    const key: StoredKey = {publicKey: entry.publicKey}
    if (entry.privateKey !== undefined) key.privateKey = entry.privateKey
    const cert = entry.certs.get(cluster || proxyHost)
    if (cert !== undefined) key.certificate = cert
    if (entry.x509 !== undefined) key.x509Certificate = entry.x509
    return key
  }
  writeKey(proxyHost: string, user: string, cluster: string, key: StoredKey & {certificate: string}): void {
    this.paths(proxyHost, user, cluster)
    const id = `${proxyHost}/${user}`
    const certs = this.keys.get(id)?.certs ?? new Map<string, string>()
    certs.set(cluster || proxyHost, key.certificate.trim())
    this.keys.set(id, {...(key.privateKey !== undefined ? {privateKey: key.privateKey} : {}), publicKey: key.publicKey.trim(), certs, ...(key.x509Certificate !== undefined ? {x509: key.x509Certificate} : {})})
  }
  deleteKey(proxyHost: string, user: string): void {
    this.keys.delete(`${proxyHost}/${user}`)
  }
  deleteProxyKeys(proxyHost: string): void {
    for (const id of [...this.keys.keys()]) if (id.startsWith(`${proxyHost}/`)) this.keys.delete(id)
    for (const id of [...this.tlsCAs.keys()]) if (id.startsWith(`${proxyHost}/`)) this.tlsCAs.delete(id)
    this.proxyCerts.delete(proxyHost)
  }
  deleteAllKeys(): void {
    this.keys.clear()
    this.tlsCAs.clear()
    this.proxyCerts.clear()
  }
  readProxyCertificate(proxyHost: string): string | undefined {
    return this.proxyCerts.get(proxyHost)
  }
  writeProxyCertificate(proxyHost: string, pem: string): void {
    this.proxyCerts.set(proxyHost, pem)
  }
  readTlsCAs(proxyHost: string, cluster: string): string | undefined {
    return this.tlsCAs.get(`${proxyHost}/${cluster}`)
  }
  writeTlsCAs(proxyHost: string, cluster: string, pem: string): void {
    tlsCAsPath(this.home, proxyHost, cluster)
    this.tlsCAs.set(`${proxyHost}/${cluster}`, pem)
  }
  readKnownHosts(): string {
    return this.knownHosts
  }
  trustHostCAs(proxyHost: string, cluster: string, caKeys: string[]): void {
    this.knownHosts = mergeKnownHosts(this.knownHosts, proxyHost, cluster, caKeys)
  }
  hostCAs(cluster: string): string[] {
    return hostCAsOf(this.knownHosts, cluster)
  }
}
