import {UserError} from '../lib/errors.js'
import {parseCert, type ParsedCert} from '../sshca/parse.js'
import {FileKeyStore, type KeyStore} from './key-store.js'
import type {Profile} from './profile-file.js'
import {openKeyStore} from './open-key-store.js'
import {tshHome} from './tsh-home.js'
import {DEFAULT_WEB_PROXY_PORT, normalizeWebProxyAddr, parseHostPort, proxyHostOf} from './proxy-addr.js'

// The client's view of "who am I logged in as": the current profile and the identity (key,
// certificate, trusted host CAs) behind it. Everything tsh does after login starts here.
// Kept light (no sshpk, no ssh2): `tsh status` loads this on every start.

export type {Profile} from './profile-file.js'

export interface ClientIdentity {
  profile: Profile
  /** OpenSSH PEM; "" when the key lives only in the SSH agent (agentOnly). */
  privateKey: string
  /** "ssh-ed25519 AAAA..." */
  publicKey: string
  /** The certificate line "ssh-ed25519-cert-v01@openssh.com AAAA...". */
  certificate: string
  cert: ParsedCert
  /** Host CA public keys ("ssh-ed25519 AAAA...") of the profile's cluster. */
  hostCAs: string[]
  keyPath: string
  certPath: string
  knownHostsPath: string
  /** Logged in with --add-keys-to-agent=only: authenticate through $SSH_AUTH_SOCK. */
  agentOnly?: boolean
  /** The proxy's TLS relay: its ALPN name and our X.509 certificate. */
  relay?: {x509Certificate: string; alpn: string}
  /** The proxy's HTTPS certificate as pinned at login (PEM). */
  proxyCertificate?: string
  /** The host CA keys as the proxy says them now, kept in known_hosts (a host CA rotation). */
  refreshHostCAs?: () => Promise<string[]>
}

export {tshHome} from './tsh-home.js'

export function currentProfileName(home: string = tshHome()): string | undefined {
  return new FileKeyStore(home).currentProfile()
}

/**
 * No usable login: none, none for this proxy or user, or an expired certificate. Commands that
 * can log in on demand (login-on-demand.ts) catch it; it names the proxy and user when known.
 */
export class LoginRequiredError extends UserError {
  override name = 'LoginRequiredError'
  constructor(
    message: string,
    readonly login: {webProxyAddr?: string; user?: string},
    hint: string,
  ) {
    super(message, {hint})
  }
}

export function notLoggedIn(proxy?: string): LoginRequiredError {
  return new LoginRequiredError(proxy ? `Not logged in to ${proxy}.` : 'Not logged in.', proxy ? {webProxyAddr: proxy} : {}, `log in first: tsh login --proxy=${proxy ?? '<proxy host:port>'}`)
}

/** The named profile (a proxy host, or host:port), else the current one. */
export function loadProfile(name?: string, home: string = tshHome()): Profile {
  return profileFromStore(new FileKeyStore(home), name)
}

export function profileFromStore(store: KeyStore, name?: string): Profile {
  const profileName = name ? proxyHostOf(name) : store.currentProfile()
  if (!profileName) throw notLoggedIn()
  const profile = store.readProfile(profileName)
  if (!profile) throw notLoggedIn(name ? profileName : undefined)
  // Profiles are named by host: a port given with it must be the one we logged in to, or the
  // command would silently talk to another proxy than the one asked for.
  if (name && !portMatches(name, profile.webProxyAddr)) throw notLoggedIn(normalizeWebProxyAddr(name))
  return profile
}

function portMatches(asked: string, loggedIn: string): boolean {
  const port = parseHostPort(asked, 0).port
  return port === 0 || port === parseHostPort(loggedIn, DEFAULT_WEB_PROXY_PORT).port
}

/** "2026-11-21 17:00:00 +0000 UTC", the way Go prints a UTC time. */
export function formatUtc(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`
}

export function isExpired(cert: ParsedCert, now: Date = new Date()): boolean {
  return cert.validBefore !== null && cert.validBefore.getTime() <= now.getTime()
}

export interface IdentityOptions {
  /** Proxy (host or host:port) whose profile to use; default the current profile. */
  proxy?: string
  /** User whose key to use; default the profile's user. */
  user?: string
  /** tsh home; default tshHome(). */
  home?: string
  store?: KeyStore
  now?: Date
  /** Return an expired identity instead of refusing it (tsh status, tsh logout). */
  allowExpired?: boolean
}

/**
 * The identity to connect with: profile, key, certificate and host CAs. UserError when not
 * logged in, or when the certificate has expired (unless allowExpired).
 */
export function loadCurrentIdentity(opts: IdentityOptions = {}): ClientIdentity {
  const store = opts.store ?? openKeyStore({home: opts.home ?? tshHome()})
  const base = profileFromStore(store, opts.proxy)
  const proxyHost = proxyHostOf(base.webProxyAddr)
  const user = opts.user ?? base.user
  const profile: Profile = {...base, user}
  const key = store.readKey(proxyHost, user, profile.cluster)
  if (!key?.certificate) {
    throw new LoginRequiredError(`Not logged in as ${user} to ${proxyHost}.`, {webProxyAddr: profile.webProxyAddr, user}, `log in first: tsh login --proxy=${profile.webProxyAddr} --user=${user}`)
  }
  let cert: ParsedCert
  try {
    cert = parseCert(key.certificate)
  } catch (err) {
    throw new UserError(`the stored certificate for ${user}@${proxyHost} is unreadable: ${(err as Error).message}`, {hint: `log in again: tsh login --proxy=${profile.webProxyAddr}`})
  }
  if (!opts.allowExpired && isExpired(cert, opts.now)) {
    throw new LoginRequiredError(`the certificate for ${user}@${proxyHost} expired at ${formatUtc(cert.validBefore!)}`, {webProxyAddr: profile.webProxyAddr, user}, `log in again: tsh login --proxy=${profile.webProxyAddr} --user=${user}`)
  }
  const paths = store.paths(proxyHost, user, profile.cluster)
  const identity: ClientIdentity = {
    profile,
    privateKey: key.privateKey ?? '',
    publicKey: key.publicKey,
    certificate: key.certificate,
    cert,
    hostCAs: store.hostCAs(profile.cluster),
    keyPath: paths.keyPath,
    certPath: paths.certPath,
    knownHostsPath: paths.knownHostsPath,
    refreshHostCAs: async () => {
      // Only over the HTTPS the login trusted: the pinned certificate (or none, for --insecure logins).
      const {WebClient, systemTrust} = await import('./web-client.js')
      const pinned = store.readProxyCertificate(proxyHost)
      const web = new WebClient({proxyAddr: profile.webProxyAddr, ...(profile.insecure ? {insecure: true} : pinned ? {ca: [...systemTrust(), pinned]} : {})})
      const keys = await web.hostCAs()
      store.trustHostCAs(proxyHost, profile.cluster, keys)
      return keys
    },
  }
  if (key.privateKey === undefined) identity.agentOnly = true
  if (profile.sshRelayAlpn && key.x509Certificate) identity.relay = {x509Certificate: key.x509Certificate, alpn: profile.sshRelayAlpn}
  const pinned = store.readProxyCertificate(proxyHost)
  if (pinned) identity.proxyCertificate = pinned
  return identity
}

/** Everything a successful login leaves behind, written key first and current-profile last. */
export interface LoginResult {
  profile: Profile
  /** Omitted with --add-keys-to-agent=only. */
  privateKey?: string
  publicKey: string
  certificate: string
  hostCAs: string[]
  /** The X.509 client certificate on the same key and the TLS user CA (PEM), when the proxy gave them. */
  x509?: {certificate: string; cas: string}
}

export function saveLogin(store: KeyStore, login: LoginResult): void {
  const proxyHost = proxyHostOf(login.profile.webProxyAddr)
  const {profile} = login
  store.writeKey(proxyHost, profile.user, profile.cluster, {
    ...(login.privateKey !== undefined ? {privateKey: login.privateKey} : {}),
    publicKey: login.publicKey,
    certificate: login.certificate,
    ...(login.x509 ? {x509Certificate: login.x509.certificate} : {}),
  })
  if (login.x509) store.writeTlsCAs(proxyHost, profile.cluster, login.x509.cas)
  store.trustHostCAs(proxyHost, profile.cluster, login.hostCAs)
  store.writeProfile(profile)
  store.setCurrentProfile(proxyHost)
}
