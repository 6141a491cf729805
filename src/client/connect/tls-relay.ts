import type tls from 'node:tls'
import {encodeRelayLine, parseRelayAnswer, readRelayLine} from '../../api/ssh-relay.js'
import {UserError} from '../../lib/errors.js'
import {loadPrivateKey} from '../../sshca/index.js'
import {parseCert} from '../../sshca/parse.js'
import {x509CertifiesKey} from '../../sshca/x509.js'
import {ProxyRouteError} from './errors.js'
import type {ConnectIdentity} from './identity.js'
import {dialProxyTls, ProxyTlsError} from './proxy-tls.js'
import {HANDSHAKE_TIMEOUT_MS} from './timeouts.js'

// The fast way to a node: mutual TLS 1.3 to the proxy's web port with the X.509 certificate of
// tsh login (ALPN from the proxy's ping), one dial request, then the connection carries the
// end-to-end SSH bytes to the node (protocol: src/api/ssh-relay.ts). No SSH layer to the proxy:
// the proxy's TLS (OpenSSL, AES-GCM) is the only crypto on top of the node's SSH session.

/** The relay could not be used (proxy without it, TLS failure): the caller takes the SSH subsystem path. */
export class RelayUnavailableError extends Error {
  override name = 'RelayUnavailableError'
}

/** AES-GCM first: the fastest with AES-NI, and what the proxy's OpenSSL picks too. */
const RELAY_CIPHERS = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384'

/** Whether this identity can use the relay now: the proxy offers it, and the X.509 certificate certifies our key and is valid. */
export function canUseRelay(identity: ConnectIdentity, now = new Date()): boolean {
  const relay = identity.relay
  if (!relay || identity.agentOnly || !identity.privateKey) return false
  try {
    return x509CertifiesKey(relay.x509Certificate, parseCert(identity.certificate).publicKey, now)
  } catch {
    return false
  }
}

export interface RelayTarget {
  host: string
  port?: number
  cluster: string
  login?: string
}

/**
 * The relayed stream to `target`'s SSH server. Throws RelayUnavailableError when the relay cannot
 * be used, ProxyRouteError (or a UserError) with the proxy's answer when it refused.
 */
export async function openTlsRelay(identity: ConnectIdentity, target: RelayTarget, options: {log?: (line: string) => void; timeoutMs?: number} = {}): Promise<tls.TLSSocket> {
  const relay = identity.relay
  if (!relay) throw new RelayUnavailableError('the proxy does not offer the TLS relay')
  const key = loadPrivateKey(identity.privateKey).export({format: 'pem', type: 'pkcs8'}).toString()
  options.log?.(`connecting to the proxy's TLS relay at ${identity.profile.webProxyAddr}`)
  let socket: tls.TLSSocket
  try {
    socket = await dialProxyTls(identity, relay.alpn, {key, cert: relay.x509Certificate, minVersion: 'TLSv1.3', ciphers: RELAY_CIPHERS, ...(options.timeoutMs ? {timeoutMs: options.timeoutMs} : {})})
  } catch (err) {
    throw err instanceof ProxyTlsError ? new RelayUnavailableError(err.message) : err
  }
  socket.on('error', (err) => options.log?.(`TLS relay: ${err.message}`))
  socket.write(encodeRelayLine({host: target.host.replace(/^\[(.*)\]$/, '$1'), cluster: target.cluster, ...(target.port ? {port: target.port} : {}), ...(target.login ? {login: target.login} : {})}))
  // The proxy answers once it dialled the node (its own dial deadline is shorter); a proxy that
  // never answers must not hold tsh for ever.
  let silent = false
  const onSilent = () => {
    silent = true
    socket.destroy()
  }
  socket.setTimeout(HANDSHAKE_TIMEOUT_MS)
  socket.once('timeout', onSilent)
  let line: string | undefined
  try {
    line = await readRelayLine(socket)
  } catch (err) {
    socket.destroy()
    throw new UserError(`the proxy's TLS relay answered badly: ${(err as Error).message}`)
  }
  socket.setTimeout(0)
  socket.off('timeout', onSilent)
  if (silent) throw new UserError(`the proxy's TLS relay did not answer within ${HANDSHAKE_TIMEOUT_MS / 1000} s`)
  if (line === undefined) {
    socket.destroy()
    throw new RelayUnavailableError('the proxy closed the TLS relay without an answer')
  }
  const answer = parseRelayAnswer(line)
  if ('error' in answer) {
    socket.destroy()
    throw new ProxyRouteError(answer.error)
  }
  options.log?.(`the proxy's TLS relay reached ${target.host}`)
  return socket
}
