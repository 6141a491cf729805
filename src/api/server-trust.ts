import {caPin, parseCert, verifyCert, type ParsedCert} from '../sshca/index.js'
import {CertificateError} from '../sshca/index.js'

// How an API client decides the server it reached is the cluster's auth service.

/** Every auth server's host certificate carries this principal, whatever address it is dialled by. */
export const AUTH_SERVER_PRINCIPAL = 'auth.teleport.cluster.local'

export type ServerTrust =
  /** The usual case: the host CA is known (from the data dir or an identity file). */
  | {hostCAs: string[]}
  /** Joining: the host CA is not known yet; its pin (`sha256:<hex>`, from `tctl status`) is. */
  | {caPins: string[]}
  /** Joining without a pin: trust on first use, with a warning from the caller. */
  | {insecure: true}

export function checkAuthServerCert(blob: Buffer, trust: ServerTrust, now?: Date): ParsedCert {
  const cert = parseCert(blob)
  let trustedCAs: string[]
  if ('hostCAs' in trust) trustedCAs = trust.hostCAs
  else if ('caPins' in trust) {
    const pin = caPin(cert.signatureKey)
    if (!trust.caPins.includes(pin)) {
      throw new CertificateError('untrusted-ca', `the auth server's CA pin is ${pin}, which does not match --ca-pin`, {
        hint: 'check the pin with "tctl status" on the auth server',
      })
    }
    trustedCAs = [cert.signatureKey]
  } else trustedCAs = [cert.signatureKey]
  const verified = verifyCert(cert, {type: 'host', trustedCAs, principal: AUTH_SERVER_PRINCIPAL, ...(now ? {now} : {})})
  if (verified.hostRole !== 'Auth') {
    throw new CertificateError('wrong-type', `the server at this address is a ${verified.hostRole ?? 'unknown'} host, not an auth server`)
  }
  return verified
}
