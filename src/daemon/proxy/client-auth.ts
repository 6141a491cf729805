import {authenticateCaller, type CallerTrust} from '../../api/caller-auth.js'
import type {ApiIdentity} from '../../api/identity.js'
import type {ProxyAuthApi} from '../../api/auth-api.js'
import type {Clock} from '../../lib/clock.js'
import type {Logger} from '../../lib/log.js'
import {CertificateError} from '../../sshca/index.js'
import {isCertAlgorithm, type PublicKeyAuthAttempt} from '../../ssh/index.js'
import {LastGood} from '../common/last-good.js'

// Who may use the proxy's SSH port: users with a certificate from the cluster's user CA, and
// hosts with one from its host CA (nodes that joined through the proxy reach auth this way).
// The proxy logs no one in, so the requested login is not checked here: the node checks it,
// with RBAC. CA, signature, validity, type, source-address and possession of the key are checked
// as the auth API checks its callers (src/api/caller-auth.ts).

export type ProxyClient = Extract<ApiIdentity, {kind: 'user' | 'host'}>

/**
 * Checks a publickey attempt; returns the identity once the attempt is signed, undefined in the
 * query phase. Throws a CertificateError saying why the client is refused.
 */
export function authenticateProxyClient(ctx: PublicKeyAuthAttempt, trust: CallerTrust, clientIp: string): ProxyClient | undefined {
  if (!isCertAlgorithm(ctx.key.algo)) {
    throw new CertificateError('wrong-type', `a plain ${ctx.key.algo} key was offered; the proxy takes only certificates from the cluster`, {hint: 'log in with tsh to get a certificate'})
  }
  const certType = ctx.key.data.subarray(4, 4 + ctx.key.data.readUInt32BE(0)).toString('latin1')
  if (ctx.key.algo !== certType) throw new CertificateError('signature', `the request names algorithm ${ctx.key.algo} for a ${certType} certificate`)
  const {identity} = authenticateCaller(ctx, trust, clientIp, false)
  if (identity && identity.kind === 'anonymous') throw new CertificateError('wrong-type', 'a certificate is required')
  return identity
}

/**
 * The cluster's CA keys (and TLS user CA certificates, for the TLS relay), fetched from auth and kept a short while, so a rotation reaches the
 * proxy within 30 s without a call per connection. While auth is unreachable the last keys known
 * stay in use for a bounded time (last-good.ts).
 */
export type CaKeyCache = LastGood<CallerTrust & {tlsUserCAs: string[]}>

export function caKeyCache(authApi: ProxyAuthApi, options: {clock?: Clock; log?: Logger} = {}): CaKeyCache {
  return new LastGood(
    async () => {
      const cas = await authApi.getCAKeys()
      return {userCAs: cas.user, hostCAs: cas.host, tlsUserCAs: cas.tls ?? []}
    },
    {what: 'CA keys', freshMs: 30_000, ...options},
  )
}
