import ssh2 from 'ssh2'
import {CertificateError, parseCert, publicKeyLine, verifyCert} from '../sshca/index.js'
import {isCertAlgorithm, type PublicKeyAuthAttempt} from '../ssh/index.js'
import {identityFromCert, type ApiIdentity} from './identity.js'

// Who may open the auth API: a user certificate from the user CA, a host certificate from the
// host CA (nodes, proxies, tctl's admin identity), or, only to join, a plain key.

export interface CallerTrust {
  userCAs: string[]
  hostCAs: string[]
}

export interface CallerAuthResult {
  /** Undefined in the query phase (no signature yet). */
  identity?: ApiIdentity
}

/** Throws CertificateError (an AccessDeniedError) saying why the caller is refused. */
export function authenticateCaller(ctx: PublicKeyAuthAttempt, trust: CallerTrust, remoteAddr: string, allowAnonymous: boolean): CallerAuthResult {
  if (!isCertAlgorithm(ctx.key.algo)) {
    if (!allowAnonymous) throw new CertificateError('wrong-type', 'a plain key was offered; the auth API takes cluster certificates')
    if (!ctx.signature) return {}
    proveKeyPossession(ctx, ctx.key.data)
    return {identity: {kind: 'anonymous', remoteAddr, publicKey: publicKeyLine(ctx.key.data)}}
  }
  const type = parseCert(ctx.key.data).type
  const cert = verifyCert(ctx.key.data, {type, trustedCAs: type === 'user' ? trust.userCAs : trust.hostCAs, clientAddress: remoteAddr})
  if (!ctx.signature) return {}
  const embedded = ssh2.utils.parseKey(cert.publicKey)
  if (embedded instanceof Error) throw new CertificateError('malformed', `the certified key could not be read: ${embedded.message}`)
  proveKeyPossession(ctx, embedded.getPublicSSH())
  return {identity: identityFromCert(cert, remoteAddr)}
}

function proveKeyPossession(ctx: PublicKeyAuthAttempt, keyBlob: Buffer): void {
  const key = ssh2.utils.parseKey(keyBlob)
  if (key instanceof Error || !ctx.blob || !ctx.signature || key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) {
    throw new CertificateError('signature', 'the client\'s signature does not verify with its key')
  }
}
