import {CertificateError, parseCert} from '../sshca/index.js'
import {isCertAlgorithm} from './ssh2-types.js'
import type {PublicKeyAuthAttempt} from './user-cert-auth.js'

// Which refused SSH authentication attempts are audited (T3007W), the same on nodes and proxies.
//
// A client tries what it has: OpenSSH sends "none" first, then asks about each key of its agent
// (the unsigned query) until one is accepted. A refused query is routine (an agent's plain key
// offered before its certificate) and is neither audited nor explained on its own. Audited are:
//   - a refused signed attempt (the client proved a key that did not get it in), at once;
//   - the first password or keyboard-interactive attempt of a connection;
//   - a connection that closed without logging in and without either of the above: one event,
//     with the reason given to its last certificate (else to its last attempt).

export interface AuthRefusal {
  /** The cluster user (the certificate's key id); empty when no certificate was read. */
  user: string
  /** The login requested. */
  login: string
  error: string
  /** Whether a certificate was read: its reason says more than one about a plain key or "none". */
  cert: boolean
}

export class AuthAttempts {
  private pending: AuthRefusal | undefined
  private audited = false
  private otherMethodAudited = false
  private loggedIn = false

  constructor(private readonly audit: (refusal: AuthRefusal) => void) {}

  /** A key query was refused: kept in case the connection ends without logging in. */
  queryRefused(refusal: AuthRefusal): void {
    if (!this.pending || refusal.cert || !this.pending.cert) this.pending = refusal
  }

  /** A signed attempt was refused: audited now. */
  signedRefused(refusal: AuthRefusal): void {
    this.record(refusal)
  }

  /** A publickey attempt was refused with `err`: a query is kept, a signed attempt audited. */
  publicKeyRefused(attempt: PublicKeyAuthAttempt & {username: string}, err: unknown): void {
    const refusal = {user: attemptUser(attempt, err), login: attempt.username, error: (err as Error).message, cert: isCertAlgorithm(attempt.key.algo)}
    if (attempt.signature) this.signedRefused(refusal)
    else this.queryRefused(refusal)
  }

  /** A method other than publickey, which is always refused. */
  otherMethodRefused(method: string, login: string): void {
    const refusal = {user: '', login, error: methodRefusal(method), cert: false}
    if (method === 'none') return this.queryRefused(refusal)
    if (this.otherMethodAudited) return
    this.otherMethodAudited = true
    this.record(refusal)
  }

  succeeded(): void {
    this.loggedIn = true
  }

  /** The connection closed. */
  closed(): void {
    if (this.loggedIn || this.audited || !this.pending) return
    this.record(this.pending)
  }

  private record(refusal: AuthRefusal): void {
    this.audited = true
    this.audit(refusal)
  }
}

function methodRefusal(method: string): string {
  if (method === 'none') return 'no key was offered (the "none" method); only certificates from the cluster are accepted'
  return `the ${JSON.stringify(method)} method is not accepted; only certificates from the cluster are accepted`
}

/** The cluster user a refused attempt names (its certificate's key id), or "" without a readable certificate. */
export function attemptUser(ctx: PublicKeyAuthAttempt, err: unknown): string {
  if (err instanceof CertificateError && err.cert) return err.cert.keyId
  if (!isCertAlgorithm(ctx.key.algo)) return ''
  try {
    return parseCert(ctx.key.data).keyId
  } catch {
    return ''
  }
}
