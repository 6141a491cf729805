// Key identities shown to people and pinned in configuration.

import {createHash} from 'node:crypto'
import {BadParameterError} from '../lib/errors.js'
import {decodeCertificate} from './cert-format.js'
import {certBaseType, parsePublicKeyLine} from './public-key.js'

/**
 * "SHA256:<base64 without padding>" of the key's wire blob, as `ssh-keygen -l` prints it. For a
 * certificate this is the fingerprint of the certified key, again like ssh-keygen.
 */
export function fingerprint(publicKeyOrCert: string): string {
  const {type, blob} = parsePublicKeyLine(publicKeyOrCert)
  const keyBlob = certBaseType(type) ? decodeCertificate(blob).publicKeyBlob : blob
  return fingerprintOfBlob(keyBlob)
}

export function fingerprintOfBlob(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')
}

/** "sha256:<hex>" over the CA key's wire blob: what `--ca-pin` compares against. */
export function caPin(caPublicKey: string): string {
  const {type, blob} = parsePublicKeyLine(caPublicKey)
  if (certBaseType(type)) throw new BadParameterError('a CA pin is taken over a CA public key, not over a certificate')
  return 'sha256:' + createHash('sha256').update(blob).digest('hex')
}
