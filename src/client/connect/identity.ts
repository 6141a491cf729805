import {DEFAULT_SSH_PROXY_PORT, DEFAULT_WEB_PROXY_PORT, formatHostPort, parseHostPort, type HostPort} from '../proxy-addr.js'

// What connecting needs from the logged-in identity (src/client/profile.ts loadCurrentIdentity()
// returns a superset): where the proxy is, who we are, our key and certificate, and the cluster's
// host CAs to trust servers by.

export type {HostPort} from '../proxy-addr.js'

export interface ConnectProfile {
  /** host:port of the proxy's web (HTTPS) endpoint; its host names the proxy. */
  webProxyAddr: string
  /** host:port of the proxy's SSH endpoint (3023 by default). */
  sshProxyAddr: string
  /** The Teleport user name. */
  user: string
  /** The cluster the certificate was issued by. */
  cluster: string
  /** proxy_listener_mode multiplex: the SSH proxy is on the web port, by ALPN (proxy.ts). */
  tlsRoutingEnabled?: boolean
  /** Sessions are recorded at the proxy, which needs the user's agent forwarded (tsh scp forwards tsh's own key). */
  recordingProxy?: boolean
}

export interface ConnectIdentity {
  profile: ConnectProfile
  /** OpenSSH private key text; "" when the key lives only in the SSH agent (agentOnly). */
  privateKey: string
  /** The user certificate line for that key. */
  certificate: string
  /** The cluster's host CA public key lines. */
  hostCAs: string[]
  /** Logged in with --add-keys-to-agent=only: authenticate through $SSH_AUTH_SOCK. */
  agentOnly?: boolean
  /** The proxy's TLS relay (tls-relay.ts), when its ping offered it and login gave an X.509 certificate. */
  relay?: RelayIdentity
  /** The proxy's HTTPS certificate as pinned at login (PEM): trusted for TLS to the web port. */
  proxyCertificate?: string
  /**
   * Asks the proxy (over its pinned HTTPS) for the host CA keys now, keeps them in known_hosts and
   * returns them: how tsh follows a host CA rotation when the proxy presents a certificate from a
   * key it does not know yet.
   */
  refreshHostCAs?: () => Promise<string[]>
}

export interface RelayIdentity {
  /** The X.509 client certificate (PEM) on our key. */
  x509Certificate: string
  /** The relay's ALPN name, from the proxy's ping. */
  alpn: string
}

const WILDCARDS = new Set(['', '0.0.0.0', '::'])

/** The proxy's SSH address; a wildcard host (a listen address) means the web proxy's host. */
export function proxySshAddress(profile: Pick<ConnectProfile, 'webProxyAddr' | 'sshProxyAddr'>): HostPort {
  const web = parseHostPort(profile.webProxyAddr, DEFAULT_WEB_PROXY_PORT)
  if (!profile.sshProxyAddr) return {host: web.host, port: DEFAULT_SSH_PROXY_PORT}
  const text = profile.sshProxyAddr.startsWith(':') ? `0.0.0.0${profile.sshProxyAddr}` : profile.sshProxyAddr
  const ssh = parseHostPort(text, DEFAULT_SSH_PROXY_PORT, 'SSH proxy address')
  return WILDCARDS.has(ssh.host) ? {host: web.host, port: ssh.port} : ssh
}

/** The proxy's host name as the user knows it (the web address's host). */
export function proxyHost(profile: Pick<ConnectProfile, 'webProxyAddr'>): string {
  return parseHostPort(profile.webProxyAddr, DEFAULT_WEB_PROXY_PORT).host
}

export const formatAddress = formatHostPort
