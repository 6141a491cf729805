// The OpenSSH certificate wire format (PROTOCOL.certkeys), independent of what Teleport puts in
// it. Encoding and decoding live side by side so each mirrors the other field for field.

import {BadParameterError} from '../lib/errors.js'
import {certBaseType, certTypeName, isPlainKeyType, publicKeyObjectFromBlob, type PlainKeyType} from './public-key.js'
import {SshReader, SshWriter, readStringList} from './wire.js'

export type CertType = 'user' | 'host'

const SSH_CERT_TYPE_USER = 1
const SSH_CERT_TYPE_HOST = 2

/** valid before = 2^64 - 1 is OpenSSH's "forever" (ssh-keygen -V forever). */
export const FOREVER = 0xffffffffffffffffn

/** Every field of a certificate except its signature, in wire order. */
export interface CertificateFields {
  nonce: Buffer
  /** Plain public key blob of the certified key; its type decides the certificate type name. */
  publicKeyBlob: Buffer
  serial: bigint
  type: CertType
  keyId: string
  principals: string[]
  /** Seconds since the epoch. */
  validAfter: bigint
  /** Seconds since the epoch; FOREVER for no expiry. */
  validBefore: bigint
  criticalOptions: Record<string, string>
  extensions: Record<string, string>
  /** Plain public key blob of the signing CA. */
  signatureKeyBlob: Buffer
}

export interface DecodedCertificate extends CertificateFields {
  /** e.g. "ssh-ed25519-cert-v01@openssh.com". */
  certTypeName: string
  /** The whole certificate blob. */
  blob: Buffer
  /** The bytes the CA signed: the blob up to, not including, the signature field. */
  signedData: Buffer
  /** SSH signature blob: string(algorithm) string(signature). */
  signature: Buffer
}

/** Byte-wise order, as OpenSSH's strcmp: "permit-X11-forwarding" sorts before "permit-agent-forwarding". */
function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/**
 * Options and extensions: sorted by name (OpenSSH requires lexical order and unique names); a
 * flag has empty data, a value is wrapped as an SSH string inside the data string, exactly as
 * ssh-keygen -O writes it (and as Go's x/crypto/ssh does, see golang/go#10569).
 */
function encodeOptions(options: Record<string, string>): Buffer {
  const writer = new SshWriter()
  for (const name of Object.keys(options).sort(compareNames)) {
    const value = options[name]!
    writer.string(name)
    writer.string(value === '' ? Buffer.alloc(0) : new SshWriter().string(value).toBuffer())
  }
  return writer.toBuffer()
}

/**
 * Critical option data must be a wrapped string (sshd refuses anything else); extension data
 * of unknown shape is kept as raw text rather than failing, since extensions are advisory.
 */
function decodeOptions(buf: Buffer, what: 'critical options' | 'extensions'): Record<string, string> {
  const reader = new SshReader(buf, `certificate ${what}`)
  // No prototype while filling, so a name like "__proto__" is stored rather than interpreted.
  const out: Record<string, string> = Object.create(null)
  let previous: string | undefined
  while (reader.remaining > 0) {
    const name = reader.text()
    const data = reader.string()
    if (previous !== undefined && compareNames(previous, name) >= 0) {
      throw new BadParameterError(`certificate ${what} are not in sorted order or repeat "${name}"`)
    }
    previous = name
    if (data.length === 0) {
      out[name] = ''
      continue
    }
    try {
      const inner = new SshReader(data, `certificate option "${name}"`)
      out[name] = inner.text()
      inner.end()
    } catch (err) {
      if (what === 'critical options') throw err
      out[name] = data.toString('utf8')
    }
  }
  return {...out} // a plain object again, so callers and deepEqual see an ordinary record
}

/** The certificate without its signature: the exact bytes the CA signs. */
export function encodeCertificateToSign(fields: CertificateFields): Buffer {
  const keyReader = new SshReader(fields.publicKeyBlob, 'public key')
  const keyType = keyReader.text()
  if (!isPlainKeyType(keyType)) throw new BadParameterError(`cannot certify a "${keyType}" key`)
  const principals = new SshWriter()
  for (const p of fields.principals) principals.string(p)
  return new SshWriter()
    .string(certTypeName(keyType))
    .string(fields.nonce)
    .raw(keyReader.rest()) // the key's own fields, already SSH-encoded, follow the nonce
    .uint64(fields.serial)
    .uint32(fields.type === 'user' ? SSH_CERT_TYPE_USER : SSH_CERT_TYPE_HOST)
    .string(fields.keyId)
    .string(principals.toBuffer())
    .uint64(fields.validAfter)
    .uint64(fields.validBefore)
    .string(encodeOptions(fields.criticalOptions))
    .string(encodeOptions(fields.extensions))
    .string('') // reserved
    .string(fields.signatureKeyBlob)
    .toBuffer()
}

/** How many SSH strings/mpints make up the key itself inside a certificate of each base type. */
const KEY_FIELD_COUNT: Record<PlainKeyType, number> = {
  'ssh-ed25519': 1, // public key
  'ssh-rsa': 2, // e, n
  'ecdsa-sha2-nistp256': 2, // curve name, point
  'ecdsa-sha2-nistp384': 2,
  'ecdsa-sha2-nistp521': 2,
}

export function decodeCertificate(blob: Buffer): DecodedCertificate {
  const reader = new SshReader(blob, 'certificate')
  const name = reader.text()
  const base = certBaseType(name)
  if (!base) throw new BadParameterError(`"${name}" is not a supported certificate type`)
  const nonce = reader.string()
  const key = new SshWriter().string(base)
  for (let i = 0; i < KEY_FIELD_COUNT[base]; i++) key.string(reader.string())
  const publicKeyBlob = key.toBuffer()
  publicKeyObjectFromBlob(publicKeyBlob) // refuse a certificate around a key that cannot exist
  const serial = reader.uint64()
  const typeCode = reader.uint32()
  if (typeCode !== SSH_CERT_TYPE_USER && typeCode !== SSH_CERT_TYPE_HOST) throw new BadParameterError(`certificate has unknown type code ${typeCode}`)
  const keyId = reader.text()
  const principals = readStringList(reader.string(), 'certificate principals')
  const validAfter = reader.uint64()
  const validBefore = reader.uint64()
  const criticalOptions = decodeOptions(reader.string(), 'critical options')
  const extensions = decodeOptions(reader.string(), 'extensions')
  reader.string() // reserved, ignored as PROTOCOL.certkeys says
  const signatureKeyBlob = reader.string()
  const caType = new SshReader(signatureKeyBlob, 'certificate CA key').text()
  if (!isPlainKeyType(caType)) throw new BadParameterError(`certificate is signed by a "${caType}" key, which cannot be a CA`)
  const signedData = blob.subarray(0, reader.position)
  const signature = reader.string()
  reader.end()
  return {
    certTypeName: name,
    blob,
    signedData,
    signature,
    nonce,
    publicKeyBlob,
    serial,
    type: typeCode === SSH_CERT_TYPE_USER ? 'user' : 'host',
    keyId,
    principals,
    validAfter,
    validBefore,
    criticalOptions,
    extensions,
    signatureKeyBlob,
  }
}
