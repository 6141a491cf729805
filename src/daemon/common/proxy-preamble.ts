import {AccessDeniedError, BadParameterError} from '../../lib/errors.js'
import {loadPrivateKey, parseCert, parsePublicKeyLine, signSsh, verifyCert, verifySshSignature} from '../../sshca/index.js'

// How the proxy tells a node of ours the real client address. Before the SSH bytes of a relayed
// connection, the proxy writes one line:
//
//   TELEPORT-PROXY <base64 JSON {src, dst, ts}> <proxy host certificate, base64 blob> <signature, base64>\r\n
//
// signed with the proxy's host key. A node believes the line only when the certificate is a
// Proxy host certificate from its cluster's host CA and the signature and timestamp check out,
// so a client dialling a node directly cannot claim another address. Connections without the
// line are plain SSH (direct clients, tunnels) and use the TCP peer address.

export const PREAMBLE_PREFIX = 'TELEPORT-PROXY '
/** The longest line a node reads before giving up on a preamble. */
export const MAX_PREAMBLE_BYTES = 8192
/** A preamble older (or newer) than this is refused: it may be a replay. */
const MAX_SKEW_MS = 5 * 60_000

export interface ClientAddress {
  /** The client's address as the proxy saw it: "ip:port". */
  src: string
  /** The address the proxy dialled. */
  dst: string
}

export function encodePreamble(address: ClientAddress, proxy: {privateKey: string; certificate: string}, now = new Date()): Buffer {
  const payload = Buffer.from(JSON.stringify({src: address.src, dst: address.dst, ts: now.getTime()}))
  const cert = parseCert(proxy.certificate)
  const signature = signSsh(loadPrivateKey(proxy.privateKey), payload)
  return Buffer.from(`${PREAMBLE_PREFIX}${payload.toString('base64')} ${cert.blob.toString('base64')} ${signature.toString('base64')}\r\n`)
}

/** Checks a preamble line (without its CRLF); returns the client address it vouches for. */
export function verifyPreamble(line: string, trust: {hostCAs: string[]; clusterName: string}, now = new Date()): ClientAddress {
  if (!line.startsWith(PREAMBLE_PREFIX)) throw new BadParameterError('not a proxy preamble')
  const [payloadB64, certB64, signatureB64] = line.slice(PREAMBLE_PREFIX.length).split(' ')
  if (!payloadB64 || !certB64 || !signatureB64) throw new BadParameterError('malformed proxy preamble')
  const payload = Buffer.from(payloadB64, 'base64')
  const cert = verifyCert(Buffer.from(certB64, 'base64'), {type: 'host', trustedCAs: trust.hostCAs, now})
  if (cert.hostRole !== 'Proxy' || cert.authority !== trust.clusterName) {
    throw new AccessDeniedError(`proxy preamble signed by a ${cert.hostRole ?? 'non-proxy'} certificate of ${cert.authority ?? 'an unknown cluster'}`)
  }
  const check = verifySshSignature(parsePublicKeyLine(cert.publicKey).blob, payload, Buffer.from(signatureB64, 'base64'))
  if (!check.ok) throw new AccessDeniedError('proxy preamble signature does not verify')
  let parsed: {src?: unknown; dst?: unknown; ts?: unknown}
  try {
    parsed = JSON.parse(payload.toString('utf8'))
  } catch {
    throw new BadParameterError('malformed proxy preamble payload')
  }
  if (typeof parsed.src !== 'string' || typeof parsed.dst !== 'string' || typeof parsed.ts !== 'number') throw new BadParameterError('malformed proxy preamble payload')
  if (Math.abs(now.getTime() - parsed.ts) > MAX_SKEW_MS) throw new AccessDeniedError('proxy preamble is stale')
  return {src: parsed.src, dst: parsed.dst}
}
