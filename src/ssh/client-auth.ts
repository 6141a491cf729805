// Client side of user authentication with OpenSSH certificates: connect options for ssh2's Client,
// from a certificate plus its private key, or from an ssh-agent holding certificate identities.
//
//   const client = new ssh2.Client()
//   client.connect({host, port, ...certAuthOptions({username: 'root', privateKey, certificate}),
//                   ...hostVerifier.connectOptions()})
//
// The options need our ssh2 patch (patches/ssh2+1.17.0.patch); see ./ssh2-types.ts.

import ssh2 from 'ssh2'
import type {BaseAgent, ConnectConfig, IdentityCallback, ParsedKey, SignCallback, SigningRequestOptions} from 'ssh2'
import {BadParameterError} from '../lib/errors.js'
import {parseCert, publicKeyFromPrivate, parsePublicKeyLine, type ParsedCert} from '../sshca/index.js'
import {CERT_SUFFIX} from './ssh2-types.js'

export interface CertAuthInput {
  /** The login on the server: must be one of the certificate's principals. */
  username: string
  /** OpenSSH private key (PEM text or Buffer). */
  privateKey: string | Buffer
  passphrase?: string | Buffer
  /** The user certificate line ("ssh-ed25519-cert-v01@openssh.com AAAA...") for that key. */
  certificate: string | Buffer
}

/** What certAuthOptions returns: spread it into `client.connect()`. */
export type CertAuthOptions = Pick<ConnectConfig, 'username' | 'privateKey' | 'passphrase' | 'certificate' | 'authHandler'>

/**
 * ssh2 connect options that authenticate with a user certificate and its private key (publickey
 * method, certificate algorithm, plain signature algorithm, as OpenSSH expects). Checks up front,
 * with a readable error, that the certificate is a user certificate for this private key; validity
 * and principals are the server's to judge.
 */
export function certAuthOptions(input: CertAuthInput): CertAuthOptions {
  const cert = readUserCert(input.certificate)
  const privateText = Buffer.isBuffer(input.privateKey) ? input.privateKey.toString('utf8') : input.privateKey
  let keyBlob: Buffer | undefined
  if (input.passphrase === undefined) {
    try {
      keyBlob = parsePublicKeyLine(publicKeyFromPrivate(privateText)).blob
    } catch {
      keyBlob = undefined // a format sshca does not read: let ssh2 (which checks the pairing too) decide
    }
  }
  if (keyBlob && !keyBlob.equals(parsePublicKeyLine(cert.publicKey).blob)) {
    throw new BadParameterError(`the certificate "${cert.keyId}" is not for this private key`, {hint: 'log in again to get a certificate for your current key'})
  }
  const options: CertAuthOptions = {
    username: input.username,
    privateKey: input.privateKey,
    certificate: cert.line,
    authHandler: ['publickey'],
  }
  if (input.passphrase !== undefined) options.passphrase = input.passphrase
  return options
}

function readUserCert(certificate: string | Buffer): ParsedCert {
  let cert: ParsedCert
  try {
    cert = parseCert(certificate)
  } catch (err) {
    throw new BadParameterError(`cannot read the SSH certificate: ${(err as Error).message}`, {cause: err})
  }
  if (cert.type !== 'user') throw new BadParameterError(`expected a user certificate, got a ${cert.type} certificate`)
  return cert
}

export interface AgentAuthInput {
  username: string
  /** Path of the agent's socket (SSH_AUTH_SOCK) or an ssh2 agent object. */
  agent: string | BaseAgent
  /**
   * Offer only the agent's certificate identities (default true). An agent full of plain keys would
   * otherwise spend the server's MaxAuthTries before reaching the certificate.
   */
  certificatesOnly?: boolean
}

export type AgentAuthOptions = Pick<ConnectConfig, 'username' | 'agent' | 'authHandler'>

/**
 * ssh2 connect options that authenticate with the identities held in an ssh-agent, certificates
 * included (an RSA certificate is signed with rsa-sha2-256/512 via the agent's SHA-2 flags).
 */
export function agentAuthOptions(input: AgentAuthInput): AgentAuthOptions {
  const base = typeof input.agent === 'string' ? new ssh2.OpenSSHAgent(input.agent) : input.agent
  const agent = input.certificatesOnly === false ? base : new CertificateOnlyAgent(base)
  return {username: input.username, agent, authHandler: ['agent']}
}

/** Passes an agent through, showing only its certificate identities. */
export class CertificateOnlyAgent extends ssh2.BaseAgent<ParsedKey> {
  constructor(private readonly inner: BaseAgent) {
    super()
    const getStream = inner.getStream
    // Agent forwarding needs the inner agent's stream, when it has one.
    if (getStream) this.getStream = (cb) => getStream.call(inner, cb)
  }

  override getIdentities(cb: IdentityCallback<ParsedKey>): void {
    this.inner.getIdentities((err, keys) => {
      if (err) return cb(err)
      const certs: ParsedKey[] = []
      for (const entry of keys ?? []) {
        const raw = (isKeyEntry(entry) ? entry.pubKey : entry) as ParsedKey | Buffer | string
        const key = ssh2.utils.parseKey(raw)
        if (!(key instanceof Error) && (key.type as string).endsWith(CERT_SUFFIX)) certs.push(key)
      }
      cb(null, certs)
    })
  }

  override sign(pubKey: ParsedKey, data: Buffer, options: SigningRequestOptions | SignCallback, cb?: SignCallback): void {
    // ssh2 passes {hash: 'sha256' | 'sha512'} for RSA keys (the agent's SHA-2 flags): pass it on.
    if (typeof options === 'function') this.inner.sign(pubKey, data, options)
    else this.inner.sign(pubKey, data, options, cb)
  }
}

function isKeyEntry(value: unknown): value is {pubKey: ParsedKey | Buffer | string} {
  return typeof value === 'object' && value !== null && !Buffer.isBuffer(value) && 'pubKey' in value
}
