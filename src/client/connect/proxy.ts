import ssh2 from 'ssh2'
import {AccessDeniedError, UserError} from '../../lib/errors.js'
import {safeText} from '../../lib/safe-text.js'
import {failOnCloseBeforeReady, hostCertVerifier} from '../../ssh/index.js'
import {parseCert} from '../../sshca/index.js'
import {userAuthOptions} from './auth-options.js'
import {withHostCARefresh} from './host-ca-refresh.js'
import {describeProxyError} from './errors.js'
import {ALPN_PROXY_SSH} from '../../api/alpn.js'
import {formatAddress, proxySshAddress, type ConnectIdentity} from './identity.js'
import {dialProxyTls} from './proxy-tls.js'
import {HANDSHAKE_TIMEOUT_MS} from './timeouts.js'

// The first hop: an SSH connection to the proxy, authenticated by the user's certificate, the
// proxy authenticated by its host certificate from the cluster's host CA (the name we dial must
// be one of its principals, as OpenSSH checks against an @cert-authority line). In multiplex mode
// (the profile's tls_routing_enabled) the SSH connection runs inside TLS to the web port, ALPN
// teleport-proxy-ssh.

export interface ProxyConnectOptions {
  /** The SSH user name presented to the proxy; a principal of the certificate. Default: the first one. */
  username?: string
  /** Dial this instead of the profile's SSH proxy address. */
  address?: {host: string; port: number}
  /** Debug lines. */
  log?: (line: string) => void
  readyTimeoutMs?: number
}

export function connectToProxy(identity: ConnectIdentity, options: ProxyConnectOptions = {}): Promise<ssh2.Client> {
  return withHostCARefresh(identity, () => connectOnce(identity, options), options.log)
}

async function connectOnce(identity: ConnectIdentity, options: ProxyConnectOptions): Promise<ssh2.Client> {
  const address = options.address ?? proxySshAddress(identity.profile)
  const where = formatAddress(address)
  const verifier = hostCertVerifier({trustedHostCAs: identity.hostCAs, hostname: address.host})
  const username = options.username ?? parseCert(identity.certificate).principals[0] ?? 'teleport'
  const auth = userAuthOptions(identity, username)
  options.log?.(`connecting to the proxy at ${where} as ${username}`)
  let sock: Awaited<ReturnType<typeof dialProxyTls>> | undefined
  if (identity.profile.tlsRoutingEnabled && !options.address) {
    try {
      sock = await dialProxyTls(identity, ALPN_PROXY_SSH)
    } catch (err) {
      throw new UserError(`cannot reach the proxy at ${where}: ${(err as Error).message}`)
    }
  }
  return new Promise<ssh2.Client>((resolve, reject) => {
    const client = new ssh2.Client()
    // The proxy's banner says why a valid certificate was turned away (a lock, a deleted user).
    let banner = ''
    client.on('banner', (text: string) => (banner += text))
    let failed = false
    const fail = (err: Error) => {
      // ssh2 may report one failure twice (a reset, then "Connection lost before handshake").
      if (failed) return
      failed = true
      client.end()
      if (banner.trim() && (err as {level?: string}).level === 'client-authentication') return reject(new AccessDeniedError(safeText(banner.trim())))
      const explained = verifier.explain(err)
      const hint = (explained as {hint?: string}).hint
      reject(explained === err ? describeProxyError(err, where) : new UserError(`the proxy at ${where} is not trusted: ${explained.message}`, {cause: explained, ...(hint ? {hint} : {})}))
    }
    client.on('error', fail)
    failOnCloseBeforeReady(client, fail)
    client.once('ready', () => {
      client.off('error', fail)
      // Later errors surface as failed channels; keep an unhandled 'error' from killing the process.
      client.on('error', (err) => options.log?.(`proxy connection: ${err.message}`))
      options.log?.(`connected to the proxy at ${where}`)
      resolve(client)
    })
    client.connect({
      ...(sock ? {sock} : {host: address.host, port: address.port}),
      ...auth,
      ...verifier.connectOptions(),
      readyTimeout: options.readyTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
      keepaliveInterval: 0,
    })
    // ssh2 writes each SSH packet whole, so Nagle can only hold back the small ones (window
    // adjusts) behind unacknowledged data and stall the stream; Go's Teleport sets TCP_NODELAY on
    // every connection too. (The proxy's side of this connection is the one that matters most.)
    if (!sock) client.setNoDelay(true)
  })
}
