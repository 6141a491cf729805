// Public keys in their two SSH forms (the authorized_keys text line and the wire blob) and the
// bridge to node:crypto KeyObjects, which do the actual signature math.

import {createPublicKey, type KeyObject} from 'node:crypto'
import {BadParameterError} from '../lib/errors.js'
import {SshReader, SshWriter} from './wire.js'

/** Plain key types we can verify signatures with (ssh-dss and FIDO "sk-" keys are out of scope). */
export const PLAIN_KEY_TYPES = ['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521'] as const
export type PlainKeyType = (typeof PLAIN_KEY_TYPES)[number]

const CERT_SUFFIX = '-cert-v01@openssh.com'

/** ECDSA curve facts shared by key conversion and signature checking. */
export const ECDSA_CURVES = {
  nistp256: {jwkCurve: 'P-256', coordinateBytes: 32, hash: 'sha256'},
  nistp384: {jwkCurve: 'P-384', coordinateBytes: 48, hash: 'sha384'},
  nistp521: {jwkCurve: 'P-521', coordinateBytes: 66, hash: 'sha512'},
} as const
export type EcdsaCurveName = keyof typeof ECDSA_CURVES

export function isPlainKeyType(name: string): name is PlainKeyType {
  return (PLAIN_KEY_TYPES as readonly string[]).includes(name)
}

/** "ssh-ed25519-cert-v01@openssh.com" -> "ssh-ed25519"; undefined for names that are not certificate types we know. */
export function certBaseType(name: string): PlainKeyType | undefined {
  if (!name.endsWith(CERT_SUFFIX)) return undefined
  const base = name.slice(0, -CERT_SUFFIX.length)
  return isPlainKeyType(base) ? base : undefined
}

export function certTypeName(base: PlainKeyType): string {
  return base + CERT_SUFFIX
}

export interface SshPublicKeyLine {
  /** The type name written in the line, equal to the first string in the blob. */
  type: string
  blob: Buffer
  comment?: string
}

/**
 * Reads "type base64 [comment]". Leading authorized_keys / known_hosts markers
 * ("@cert-authority *.example.com ssh-ed25519 AAAA...", "cert-authority ssh-ed25519 ...") are
 * skipped by looking for the first "type base64" pair whose blob names the same type.
 */
export function parsePublicKeyLine(line: string): SshPublicKeyLine {
  const tokens = line.trim().split(/\s+/)
  for (let i = 0; i + 1 < tokens.length; i++) {
    const type = tokens[i]!
    if (!isPlainKeyType(type) && certBaseType(type) === undefined) continue
    const encoded = tokens[i + 1]!
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) continue
    const blob = Buffer.from(encoded, 'base64')
    let named: string
    try {
      named = new SshReader(blob, 'public key').text()
    } catch {
      continue
    }
    if (named !== type) {
      throw new BadParameterError(`public key line says "${type}" but its data is a "${named}" key`)
    }
    const comment = tokens.slice(i + 2).join(' ')
    return comment ? {type, blob, comment} : {type, blob}
  }
  throw new BadParameterError('not an SSH public key line (expected "ssh-ed25519 AAAA..." or a certificate line)')
}

export function publicKeyLine(blob: Buffer, comment?: string): string {
  const type = new SshReader(blob, 'public key').text()
  const line = `${type} ${blob.toString('base64')}`
  return comment ? `${line} ${comment}` : line
}

/** Type name stored at the front of any SSH key, signature or certificate blob. */
export function blobTypeName(blob: Buffer): string {
  return new SshReader(blob, 'SSH key').text()
}

function base64url(bytes: Buffer): string {
  return bytes.toString('base64url')
}

/** Turns a plain public key blob into a node:crypto KeyObject, checking its shape on the way. */
export function publicKeyObjectFromBlob(blob: Buffer): KeyObject {
  const reader = new SshReader(blob, 'public key')
  const type = reader.text()
  let jwk: Record<string, string>
  if (type === 'ssh-ed25519') {
    const raw = reader.string()
    if (raw.length !== 32) throw new BadParameterError(`ssh-ed25519 public key has ${raw.length} bytes, expected 32`)
    jwk = {kty: 'OKP', crv: 'Ed25519', x: base64url(raw)}
  } else if (type === 'ssh-rsa') {
    const e = reader.mpint()
    const n = reader.mpint()
    jwk = {kty: 'RSA', e: base64url(e), n: base64url(n)}
  } else if (type.startsWith('ecdsa-sha2-')) {
    const curveName = reader.text()
    const curve = ECDSA_CURVES[curveName as EcdsaCurveName]
    if (!curve || type !== `ecdsa-sha2-${curveName}`) throw new BadParameterError(`unsupported ECDSA key "${type}" on curve "${curveName}"`)
    const point = reader.string()
    const size = curve.coordinateBytes
    if (point.length !== 1 + 2 * size || point[0] !== 0x04) throw new BadParameterError(`${type} public key point is not an uncompressed ${curveName} point`)
    jwk = {kty: 'EC', crv: curve.jwkCurve, x: base64url(point.subarray(1, 1 + size)), y: base64url(point.subarray(1 + size))}
  } else {
    throw new BadParameterError(`unsupported public key type "${type}"`)
  }
  reader.end()
  try {
    return createPublicKey({key: jwk, format: 'jwk'})
  } catch (err) {
    throw new BadParameterError(`invalid ${type} public key: ${(err as Error).message}`, {cause: err})
  }
}

function fixedWidth(bytes: Buffer, width: number): Buffer {
  if (bytes.length >= width) return bytes
  return Buffer.concat([Buffer.alloc(width - bytes.length), bytes])
}

/** The SSH wire blob of a node:crypto public (or private) key. */
export function blobFromKeyObject(key: KeyObject): Buffer {
  const jwk = key.export({format: 'jwk'})
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') {
    return new SshWriter().string('ssh-ed25519').string(Buffer.from(jwk.x!, 'base64url')).toBuffer()
  }
  if (jwk.kty === 'RSA') {
    return new SshWriter().string('ssh-rsa').mpint(Buffer.from(jwk.e!, 'base64url')).mpint(Buffer.from(jwk.n!, 'base64url')).toBuffer()
  }
  if (jwk.kty === 'EC') {
    const entry = Object.entries(ECDSA_CURVES).find(([, c]) => c.jwkCurve === jwk.crv)
    if (!entry) throw new BadParameterError(`unsupported ECDSA curve "${jwk.crv}"`)
    const [curveName, curve] = entry
    // JWK drops leading zero bytes of coordinates only in broken encoders, but pad anyway: the SSH point is fixed width.
    const point = Buffer.concat([
      Buffer.from([0x04]),
      fixedWidth(Buffer.from(jwk.x!, 'base64url'), curve.coordinateBytes),
      fixedWidth(Buffer.from(jwk.y!, 'base64url'), curve.coordinateBytes),
    ])
    return new SshWriter().string(`ecdsa-sha2-${curveName}`).string(curveName).string(point).toBuffer()
  }
  throw new BadParameterError(`unsupported key type "${jwk.kty}${jwk.crv ? ' ' + jwk.crv : ''}"`)
}
