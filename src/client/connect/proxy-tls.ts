import {isIP} from 'node:net'
import {X509Certificate} from 'node:crypto'
import tls from 'node:tls'
import {DEFAULT_WEB_PROXY_PORT, parseHostPort} from '../proxy-addr.js'
import type {ConnectIdentity} from './identity.js'

// A TLS connection to the proxy's web port for a protocol other than HTTP, chosen by ALPN: the
// TLS relay (tls-relay.ts) and, in multiplex mode, the SSH proxy (proxy.ts). The proxy is trusted
// by the HTTPS certificate pinned at login (`tsh login --insecure`): exactly that certificate, as
// known_hosts pins a host key; without a pin, by the default trust and the host name.

export class ProxyTlsError extends Error {
  override name = 'ProxyTlsError'
}

export function dialProxyTls(identity: ConnectIdentity, alpn: string, options: {key?: string; cert?: string; ciphers?: string; minVersion?: tls.SecureVersion; timeoutMs?: number} = {}): Promise<tls.TLSSocket> {
  const {host, port} = parseHostPort(identity.profile.webProxyAddr, DEFAULT_WEB_PROXY_PORT)
  return new Promise<tls.TLSSocket>((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      ...(isIP(host) ? {} : {servername: host}),
      ALPNProtocols: [alpn],
      ...(options.minVersion ? {minVersion: options.minVersion} : {}),
      ...(options.ciphers ? {ciphers: options.ciphers} : {}),
      ...(options.key && options.cert ? {key: options.key, cert: options.cert} : {}),
      ...(identity.proxyCertificate ? {rejectUnauthorized: false} : {}),
      timeout: options.timeoutMs ?? 20_000,
    })
    socket.setNoDelay(true)
    const fail = (err: Error) => {
      socket.destroy()
      reject(new ProxyTlsError(`TLS to the proxy at ${host}:${port} (${alpn}): ${err.message}`))
    }
    socket.once('error', fail)
    socket.once('timeout', () => fail(new Error('timed out')))
    socket.once('secureConnect', () => {
      socket.off('error', fail)
      socket.setTimeout(0)
      if (identity.proxyCertificate && !isPinned(socket, identity.proxyCertificate)) return fail(new Error('the proxy presented another certificate than the one pinned at login'))
      if (socket.alpnProtocol !== alpn) return fail(new Error(`the proxy did not agree to ${alpn}`))
      resolve(socket)
    })
  })
}

function isPinned(socket: tls.TLSSocket, pinned: string): boolean {
  try {
    return socket.getPeerX509Certificate()?.fingerprint256 === new X509Certificate(pinned).fingerprint256
  } catch {
    return false
  }
}
