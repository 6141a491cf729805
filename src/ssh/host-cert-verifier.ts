// Client side of host authentication: trust a server because its host certificate is signed by
// a trusted host CA and names the host we meant to reach (the `@cert-authority` line of OpenSSH's
// known_hosts, for ssh2).
//
//   const verifier = hostCertVerifier({trustedHostCAs, hostname: 'node1'})
//   client.on('error', (err) => report(verifier.explain(err)))
//   client.connect({host, port, ...verifier.connectOptions(), ...certAuthOptions(...)})
//
// ssh2 (patched) does the protocol part: it asks for certificate algorithms only when we list them,
// parses the certificate as K_S, checks the server's signature with the certified key, and hands
// the whole certificate blob to `hostVerifier`. Everything about trusting that certificate is here.

import type {ConnectConfig} from 'ssh2'
import {AccessDeniedError} from '../lib/errors.js'
import {CertificateError, fingerprintOfBlob, parsePublicKeyLine, verifyCert, type ParsedCert} from '../sshca/index.js'
import {CERT_HOST_KEY_ALGORITHMS, PLAIN_HOST_KEY_ALGORITHMS, isCertAlgorithm, withHostKeyAlgorithms} from './ssh2-types.js'

export interface HostCertVerifierOptions {
  /** Host CA public key lines ("ssh-ed25519 AAAA..."; "@cert-authority * ..." lines also work). */
  trustedHostCAs: string[]
  /** The name we dialled: must be one of the host certificate's principals. */
  hostname: string
  /** The time to check validity against; a function is called at each check. Default: now. */
  now?: Date | (() => Date)
  /**
   * Plain host keys (public key lines) trusted without a certificate. Default none: a host that
   * presents a plain key is refused.
   */
  knownHostKeys?: string[]
}

/** The host presented a plain key that is not among the known ones. */
export class UnknownHostKeyError extends AccessDeniedError {
  readonly reason = 'unknown-host-key' as const
  constructor(message: string, options: {hint?: string} = {}) {
    super(message, options)
    this.name = 'UnknownHostKeyError'
  }
}

export type HostKeyRefusal = CertificateError | UnknownHostKeyError

/** ssh2's error when `hostVerifier` says no; it carries no reason. */
const SSH2_HOST_DENIED = 'Host denied (verification failed)'

export class HostCertVerifier {
  /** Host key algorithms to ask for: certificates first, then plain keys (for a clear refusal). */
  readonly serverHostKey: string[] = [...CERT_HOST_KEY_ALGORITHMS, ...PLAIN_HOST_KEY_ALGORITHMS]
  /** Why the last host key was refused; undefined if none was. */
  refusal: HostKeyRefusal | undefined
  /** The host certificate accepted by the last successful check. */
  hostCert: ParsedCert | undefined

  private readonly trustedHostCAs: string[]
  private readonly knownHostKeys: Buffer[]

  constructor(private readonly options: HostCertVerifierOptions) {
    this.trustedHostCAs = [...options.trustedHostCAs]
    this.knownHostKeys = (options.knownHostKeys ?? []).map((line) => parsePublicKeyLine(line).blob)
  }

  /**
   * ssh2's `hostVerifier` (without `hostHash`, ssh2 passes the raw K_S blob). Never throws:
   * returns false and records `refusal`.
   */
  readonly hostVerifier = (key: Buffer): boolean => {
    try {
      this.hostCert = this.check(key)
      this.refusal = undefined
      return true
    } catch (err) {
      this.hostCert = undefined
      this.refusal =
        err instanceof CertificateError || err instanceof UnknownHostKeyError
          ? err
          : new CertificateError('malformed', `host key could not be read: ${(err as Error).message}`, {cause: err})
      return false
    }
  }

  /** Options to spread into `client.connect()`: `hostVerifier` and `algorithms.serverHostKey`. */
  connectOptions(algorithms: ConnectConfig['algorithms'] = {}): Pick<ConnectConfig, 'hostVerifier' | 'algorithms'> {
    return {hostVerifier: this.hostVerifier, algorithms: withHostKeyAlgorithms(this.serverHostKey, algorithms)}
  }

  /** Replaces ssh2's reasonless "Host denied" error by the recorded refusal; other errors pass. */
  explain(err: Error): Error {
    return this.refusal && err.message === SSH2_HOST_DENIED ? this.refusal : err
  }

  /** Throws the refusal; returns the certificate, or undefined for a known plain key. */
  private check(key: Buffer): ParsedCert | undefined {
    const type = key.subarray(4, 4 + key.readUInt32BE(0)).toString('latin1')
    if (!isCertAlgorithm(type)) {
      if (this.knownHostKeys.some((known) => known.equals(key))) return undefined
      throw new UnknownHostKeyError(
        `host "${this.options.hostname}" presented a plain ${type} key (${fingerprintOfBlob(key)}) without a certificate from a trusted host CA`,
        {hint: 'the host needs a host certificate from the cluster'},
      )
    }
    const now = typeof this.options.now === 'function' ? this.options.now() : this.options.now
    return verifyCert(key, {trustedCAs: this.trustedHostCAs, type: 'host', principal: this.options.hostname, ...(now ? {now} : {})})
  }
}

export function hostCertVerifier(options: HostCertVerifierOptions): HostCertVerifier {
  return new HostCertVerifier(options)
}
