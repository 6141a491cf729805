// Server side of host authentication: a host key plus its host certificate, as an entry of ssh2's
// Server `hostKeys`. ssh2 (patched) then offers the certificate (ssh-ed25519-cert-v01@openssh.com)
// to clients that ask for it and still the plain key (ssh-ed25519) to those that do not.
//
//   new ssh2.Server({hostKeys: [certifiedHostKey({privateKey, certificate})]}, onConnection)

import type {EncryptedPrivateKey} from 'ssh2'
import {BadParameterError} from '../lib/errors.js'
import {parseCert, parsePublicKeyLine, publicKeyFromPrivate, type ParsedCert} from '../sshca/index.js'
import './ssh2-types.js'

export interface CertifiedHostKeyInput {
  /** OpenSSH private key of the host. */
  privateKey: string | Buffer
  passphrase?: string | Buffer
  /** Host certificate line for that key (signHostCert's output). */
  certificate: string | Buffer
}

/** An ssh2 Server `hostKeys` entry: `{key, certificate}`. */
export type CertifiedHostKey = EncryptedPrivateKey & {certificate: string}

/**
 * Builds the `hostKeys` entry, checking up front that the certificate is a host certificate for
 * this key (ssh2 would refuse a mismatch too, with a less helpful message).
 */
export function certifiedHostKey(input: CertifiedHostKeyInput): CertifiedHostKey {
  let cert: ParsedCert
  try {
    cert = parseCert(input.certificate)
  } catch (err) {
    throw new BadParameterError(`cannot read the host certificate: ${(err as Error).message}`, {cause: err})
  }
  if (cert.type !== 'host') throw new BadParameterError(`expected a host certificate, got a ${cert.type} certificate`)
  if (input.passphrase === undefined) {
    const text = Buffer.isBuffer(input.privateKey) ? input.privateKey.toString('utf8') : input.privateKey
    let keyBlob: Buffer | undefined
    try {
      keyBlob = parsePublicKeyLine(publicKeyFromPrivate(text)).blob
    } catch {
      keyBlob = undefined // a format sshca does not read: ssh2 checks the pairing when the server starts
    }
    if (keyBlob && !keyBlob.equals(parsePublicKeyLine(cert.publicKey).blob)) {
      throw new BadParameterError(`the host certificate "${cert.keyId}" is not for this host key`)
    }
  }
  const entry: CertifiedHostKey = {key: input.privateKey, certificate: cert.line}
  if (input.passphrase !== undefined) entry.passphrase = input.passphrase
  return entry
}
