// Server side of user authentication: accept a client because it holds a user certificate signed
// by a trusted user CA that allows the requested login, and proves it holds the certified key.
// Nodes accept nothing else: no passwords, no plain public keys (REFERENCE.md "Certificates").
//
//   client.on('authentication', (ctx) => {
//     if (ctx.method !== 'publickey') return ctx.reject(['publickey'])
//     try {
//       const {cert, proven} = verifyUserCertAuth(ctx, {trustedUserCAs, clientAddress: info.ip})
//       if (proven) identity = cert      // authenticated: cert.keyId is the cluster user
//       ctx.accept()                     // query phase: tells the client to go ahead and sign
//     } catch (err) {
//       log(err)                          // CertificateError: err.reason says why
//       ctx.reject(['publickey'])
//     }
//   })

import ssh2 from 'ssh2'
import {CertificateError, verifyCert, type ParsedCert} from '../sshca/index.js'
import {isCertAlgorithm} from './ssh2-types.js'

/** The parts of ssh2's PublicKeyAuthContext this needs (as the patched ssh2 fills them). */
export interface PublicKeyAuthAttempt {
  method: 'publickey'
  /** The login requested. */
  username: string
  /** algo: key type ("ssh-ed25519-cert-v01@openssh.com"); data: the key blob, here the certificate. */
  key: {algo: string; data: Buffer}
  /** Absent in the query phase ("would you accept this key?"). Bare signature, header stripped. */
  signature?: Buffer
  /** The signed data: session id + the request. Present with `signature`. */
  blob?: Buffer
  /** 'sha256' / 'sha512' for rsa-sha2-* signatures; undefined otherwise. */
  hashAlgo?: string
}

export interface UserCertAuthOptions {
  /** User CA public key lines. */
  trustedUserCAs: string[]
  /** Default: now. */
  now?: Date
  /** The client's IP, checked against the certificate's source-address option. */
  clientAddress: string
}

export interface UserCertAuthResult {
  /** The verified certificate: keyId is the cluster user, roles/traits are theirs. */
  cert: ParsedCert
  /**
   * true: the client signed the session with the certified key; authentication succeeded.
   * false: query phase, no signature yet; `ctx.accept()` answers "go ahead" (USERAUTH_PK_OK),
   * it does not log the client in.
   */
  proven: boolean
}

/**
 * Checks a publickey authentication attempt carrying a user certificate: CA, signature of the CA,
 * validity, type, source address; then, when the attempt is signed, the principal (= the requested
 * login) and the signature over `ctx.blob` with the certificate's embedded key. Throws a
 * CertificateError (an AccessDeniedError) whose `reason` says why; plain keys are refused with
 * reason 'wrong-type'. A `force-command` critical option passes verification: enforcing it
 * (cert.criticalOptions['force-command']) is the session code's job.
 */
export function verifyUserCertAuth(ctx: PublicKeyAuthAttempt, options: UserCertAuthOptions): UserCertAuthResult {
  if (!isCertAlgorithm(ctx.key.algo)) {
    throw new CertificateError('wrong-type', `a plain ${ctx.key.algo} key was offered; only user certificates from the cluster are accepted`, {
      hint: 'log in with tsh to get a certificate',
    })
  }
  // The login is checked on the signed attempt only: a query asks whether the key could do, and
  // a certificate refused there for its login would leave the client without the reason.
  const cert = verifyCert(ctx.key.data, {
    trustedCAs: options.trustedUserCAs,
    type: 'user',
    ...(ctx.signature === undefined ? {} : {principal: ctx.username}),
    clientAddress: options.clientAddress,
    ...(options.now ? {now: options.now} : {}),
  })
  // The algorithm named in the request must be the certificate's own type (ssh2 reports rsa-sha2-*
  // certificate requests as "ssh-rsa-cert-v01@openssh.com" with hashAlgo set).
  const certType = ctx.key.data.subarray(4, 4 + ctx.key.data.readUInt32BE(0)).toString('latin1')
  if (ctx.key.algo !== certType) {
    throw new CertificateError('signature', `the request names algorithm ${ctx.key.algo} for a ${certType} certificate`, {cert})
  }
  if (ctx.signature === undefined) return {cert, proven: false}

  if (!ctx.blob) throw new CertificateError('signature', 'the authentication request is signed but carries no signed data', {cert})
  if (certType.startsWith('ssh-rsa') && ctx.hashAlgo === undefined) {
    throw new CertificateError('signature', 'signed with SHA-1 RSA ("ssh-rsa"), which is no longer accepted', {cert})
  }
  const key = ssh2.utils.parseKey(cert.publicKey)
  if (key instanceof Error) throw new CertificateError('malformed', `the certified key could not be read: ${key.message}`, {cert, cause: key})
  const ok = key.verify(ctx.blob, ctx.signature, ctx.hashAlgo)
  if (ok !== true) {
    throw new CertificateError('signature', `the client's signature does not verify with the key in certificate "${cert.keyId}"`, {cert})
  }
  return {cert, proven: true}
}
