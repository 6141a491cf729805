import type {AuthContext, Connection} from 'ssh2'
import type {Logger} from '../lib/log.js'
import {CertificateError, type ParsedCert} from '../sshca/index.js'
import {AuthAttempts, type AuthRefusal} from './auth-attempts.js'
import {sendAuthBanner} from './server-internals.js'
import {verifyUserCertAuth, type PublicKeyAuthAttempt} from './user-cert-auth.js'

// How a node, and a recording proxy standing in for one, let a client log in: user certificates
// only; a key query gets "go ahead and sign" and the login is decided on the signed attempt;
// refusals are audited as AuthAttempts decides; a refused signed attempt is told once, in a banner
// ("access denied to <login> connecting to <host>"), and a client refused MAX_AUTH_TRIES times is
// disconnected, as sshd does.

/** A client gets this many refused attempts before it is disconnected (sshd's MaxAuthTries). */
const MAX_AUTH_TRIES = 6

export type LoginDecision<T> = {allowed: true; grant: T} | {allowed: false; reason: string}

export interface CertLoginOptions<T> {
  /** The host's name as users know it, in the banner. */
  hostName: string
  /** The client's address as "host:port", for the log. */
  remote: string
  /** The client's IP, which a certificate's source-address must allow. */
  clientIp: string
  trustedUserCAs: () => string[] | Promise<string[]>
  /** Whether the proven certificate may log in as `login` now (user, roles, locks, labels). */
  decide: (cert: ParsedCert, login: string) => Promise<LoginDecision<T>>
  /** A refusal to audit (T3007W): AuthAttempts chooses which. */
  audit: (refusal: AuthRefusal) => void
  log: Logger
  /** Put before each log line, naming who logs ("recording proxy: "). */
  logPrefix?: string
}

export interface CertLogin<T> {
  cert: ParsedCert
  login: string
  grant: T
}

/** Runs the client's authentication; the result says who logged in, once the connection is ready. */
export function acceptCertLogins<T>(client: Connection, options: CertLoginOptions<T>): () => CertLogin<T> | undefined {
  const {remote, log} = options
  const prefix = options.logPrefix ?? ''
  const attempts = new AuthAttempts(options.audit)
  let failures = 0
  let bannerSent = false
  let authenticated: CertLogin<T> | undefined

  const reject = (auth: AuthContext) => {
    auth.reject(['publickey'])
    if (++failures >= MAX_AUTH_TRIES) client.end()
  }
  // A refused query is silent (see AuthAttempts); a refused signed attempt is the real failure.
  const refuse = (auth: AuthContext, reason: string, cert?: ParsedCert) => {
    const login = auth.username
    const refusal = {user: cert?.keyId ?? '', login, error: reason, cert: cert !== undefined}
    if (!(auth as unknown as PublicKeyAuthAttempt).signature) {
      attempts.queryRefused(refusal)
      log.debug(`${prefix}Refused a key query from ${remote} as "${login}" on ${options.hostName}: ${reason}`)
      return reject(auth)
    }
    attempts.signedRefused(refusal)
    log.info(`${prefix}Refused ${cert ? `user "${cert.keyId}"` : 'a client'} as "${login}" on ${options.hostName} from ${remote}: ${reason}`)
    if (!bannerSent) {
      bannerSent = true
      sendAuthBanner(client, `access denied to ${login} connecting to ${options.hostName}`)
    }
    reject(auth)
  }

  client.once('close', () => attempts.closed())
  client.on('authentication', (auth) => {
    if (auth.method !== 'publickey') {
      attempts.otherMethodRefused(auth.method, auth.username)
      if (auth.method === 'none') return auth.reject(['publickey'])
      return reject(auth)
    }
    void (async () => {
      let result
      try {
        result = verifyUserCertAuth(auth as unknown as PublicKeyAuthAttempt, {trustedUserCAs: await options.trustedUserCAs(), clientAddress: options.clientIp})
      } catch (err) {
        if (!(err instanceof CertificateError)) log.warn(`${prefix}checking a certificate from ${remote} failed: ${(err as Error).message}`)
        return refuse(auth, (err as Error).message, (err as CertificateError).cert)
      }
      if (!result.proven) return auth.accept() // "go ahead and sign"
      const {cert} = result
      let decision: LoginDecision<T>
      try {
        decision = await options.decide(cert, auth.username)
      } catch (err) {
        return refuse(auth, `internal error: ${(err as Error).message}`, cert)
      }
      if (!decision.allowed) return refuse(auth, decision.reason, cert)
      authenticated = {cert, login: auth.username, grant: decision.grant}
      attempts.succeeded()
      auth.accept()
    })()
  })
  return () => authenticated
}
