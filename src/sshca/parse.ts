// parseCert: a certificate line or blob -> every field, Teleport's extensions decoded.
// Parsing checks structure only; trust (CA, signature, validity) is verifyCert's job.

import {BadParameterError} from '../lib/errors.js'
import {FOREVER, decodeCertificate, type CertType, type DecodedCertificate} from './cert-format.js'
import {certBaseType, parsePublicKeyLine, publicKeyLine} from './public-key.js'
import {EXT_HOST_AUTHORITY, EXT_HOST_ROLE, EXT_TELEPORT_ROLES, EXT_TELEPORT_ROUTE_TO_CLUSTER, EXT_TELEPORT_TRAITS, decodeRoles, decodeTraits} from './teleport-extensions.js'

export interface ParsedCert {
  type: CertType
  keyId: string
  serial: bigint
  principals: string[]
  validAfter: Date
  /** null = forever. */
  validBefore: Date | null
  criticalOptions: Record<string, string>
  extensions: Record<string, string>
  /** authorized_keys line of the certified key. */
  publicKey: string
  /** authorized_keys line of the CA key that signed the certificate. */
  signatureKey: string
  /** The whole certificate wire blob. */
  blob: Buffer
  /** "ssh-ed25519-cert-v01@openssh.com AAAA..." without a comment. */
  line: string
  /** The comment after the base64 when parsed from a line that had one. */
  comment?: string
  /** From teleport-roles; [] if absent. */
  roles: string[]
  /** From teleport-traits; {} if absent. */
  traits: Record<string, string[]>
  routeToCluster?: string
  /** x-teleport-role of a host certificate. */
  hostRole?: string
  /** x-teleport-authority of a host certificate. */
  authority?: string
}

/** The latest instant a JS Date can hold, in seconds (±8.64e15 ms). */
const MAX_DATE_SECONDS = 8_640_000_000_000n

function dateFromSeconds(seconds: bigint): Date {
  return new Date(Number(seconds > MAX_DATE_SECONDS ? MAX_DATE_SECONDS : seconds) * 1000)
}

/** Blob plus the comment, from any of: a text line, a Buffer holding a text line, a wire blob. */
function certificateBlob(input: string | Buffer): {blob: Buffer; comment?: string} {
  if (Buffer.isBuffer(input) && input.length > 0 && input[0] === 0) return {blob: input} // wire blobs start with a uint32 length
  if (!Buffer.isBuffer(input) && typeof input !== 'string') throw new BadParameterError('a certificate must be a text line or a Buffer')
  const text = Buffer.isBuffer(input) ? input.toString('utf8') : input
  const {type, blob, comment} = parsePublicKeyLine(text)
  if (!certBaseType(type)) throw new BadParameterError(`this is a plain "${type}" public key, not a certificate`)
  return {blob, comment}
}

/** Builds the ParsedCert view of an already decoded certificate. */
export function parsedFromDecoded(cert: DecodedCertificate, comment?: string): ParsedCert {
  const ext = cert.extensions
  const parsed: ParsedCert = {
    type: cert.type,
    keyId: cert.keyId,
    serial: cert.serial,
    principals: cert.principals,
    validAfter: dateFromSeconds(cert.validAfter),
    // Anything past what a Date can hold is forever in practice.
    validBefore: cert.validBefore === FOREVER || cert.validBefore > MAX_DATE_SECONDS ? null : dateFromSeconds(cert.validBefore),
    criticalOptions: cert.criticalOptions,
    extensions: ext,
    publicKey: publicKeyLine(cert.publicKeyBlob),
    signatureKey: publicKeyLine(cert.signatureKeyBlob),
    blob: cert.blob,
    line: publicKeyLine(cert.blob),
    roles: decodeRoles(ext[EXT_TELEPORT_ROLES]),
    traits: decodeTraits(ext[EXT_TELEPORT_TRAITS]),
  }
  if (comment !== undefined) parsed.comment = comment
  if (ext[EXT_TELEPORT_ROUTE_TO_CLUSTER] !== undefined) parsed.routeToCluster = ext[EXT_TELEPORT_ROUTE_TO_CLUSTER]
  if (ext[EXT_HOST_ROLE] !== undefined) parsed.hostRole = ext[EXT_HOST_ROLE]
  if (ext[EXT_HOST_AUTHORITY] !== undefined) parsed.authority = ext[EXT_HOST_AUTHORITY]
  return parsed
}

/** Decodes a certificate and its wire signature data; BadParameterError on anything malformed. */
export function decodeCertificateInput(input: string | Buffer): {decoded: DecodedCertificate; comment?: string} {
  const {blob, comment} = certificateBlob(input)
  return {decoded: decodeCertificate(blob), comment}
}

export function parseCert(certLineOrBlob: string | Buffer): ParsedCert {
  const {decoded, comment} = decodeCertificateInput(certLineOrBlob)
  return parsedFromDecoded(decoded, comment)
}
