// Minting user and host certificates with Teleport's contents (REFERENCE.md "Certificates").

import {createPublicKey, randomBytes} from 'node:crypto'
import {BadParameterError} from '../lib/errors.js'
import {systemClock} from '../lib/clock.js'
import {FOREVER, encodeCertificateToSign, type CertificateFields} from './cert-format.js'
import {loadPrivateKey} from './private-key.js'
import {blobFromKeyObject, certBaseType, parsePublicKeyLine, publicKeyLine, publicKeyObjectFromBlob} from './public-key.js'
import {signSsh} from './signature.js'
import {SshWriter} from './wire.js'
import {parseSourceAddressList} from './source-address.js'
import {
  EXT_HOST_AUTHORITY,
  EXT_HOST_ROLE,
  EXT_PERMIT_AGENT_FORWARDING,
  EXT_PERMIT_PORT_FORWARDING,
  EXT_PERMIT_PTY,
  EXT_PERMIT_X11_FORWARDING,
  EXT_TELEPORT_ROLES,
  EXT_TELEPORT_ROUTE_TO_CLUSTER,
  EXT_TELEPORT_TRAITS,
  HOST_ROLES,
  OPT_SOURCE_ADDRESS,
  encodeRoles,
  encodeTraits,
  type HostRole,
} from './teleport-extensions.js'

/** sshd refuses a certificate that is valid from "now" on the slightest clock skew. */
export const CLOCK_SKEW_BACKDATE_SECONDS = 60n

export interface UserCertRequest {
  caPrivateKey: string
  publicKey: string
  /** The cluster user name; servers read the user from it. */
  keyId: string
  /** OS logins. */
  principals: string[]
  ttlMs: number
  /** Default: the system clock. */
  now?: Date
  /** Default 0, as ssh-keygen. */
  serial?: bigint
  permitAgentForwarding?: boolean
  permitPortForwarding?: boolean
  permitX11Forwarding?: boolean
  roles: string[]
  traits: Record<string, string[]>
  routeToCluster: string
  /** Written as the source-address critical option when non-empty. */
  sourceAddress?: string[]
}

export interface HostCertRequest {
  caPrivateKey: string
  publicKey: string
  /** The host UUID. */
  keyId: string
  principals: string[]
  role: HostRole
  /** The cluster name. */
  authority: string
  /** Absent: never expires (valid before = 2^64-1, ssh-keygen's "forever"). */
  ttlMs?: number
  now?: Date
}

const MAX_UINT64 = 0xffffffffffffffffn

function secondsOf(ms: number): bigint {
  return BigInt(Math.floor(ms / 1000))
}

function backdated(nowMs: number): bigint {
  const seconds = secondsOf(nowMs) - CLOCK_SKEW_BACKDATE_SECONDS
  return seconds < 0n ? 0n : seconds
}

/** RSA keys shorter than this are breakable: never certified (OpenSSH refuses under 1024, NIST under 2048). */
export const MIN_RSA_BITS = 2048

function requireCertifiableKey(publicKey: string): Buffer {
  const {type, blob} = parsePublicKeyLine(publicKey)
  if (certBaseType(type)) throw new BadParameterError('cannot certify a certificate; pass the plain public key')
  if (type === 'ssh-rsa') {
    const bits = publicKeyObjectFromBlob(blob).asymmetricKeyDetails?.modulusLength ?? 0
    if (bits < MIN_RSA_BITS) {
      throw new BadParameterError(`refusing to certify a ${bits}-bit RSA key: RSA keys must have at least ${MIN_RSA_BITS} bits`, {hint: 'use an Ed25519 key (ssh-keygen -t ed25519), or RSA with -b 3072'})
    }
  }
  return blob
}

function requirePrincipals(principals: string[], kind: string): void {
  // OpenSSH reads an empty principal list as "any principal": never mint one by accident.
  if (!Array.isArray(principals) || principals.length === 0) throw new BadParameterError(`a ${kind} certificate needs at least one principal`)
  if (principals.some((p) => typeof p !== 'string' || p === '')) throw new BadParameterError(`${kind} certificate principals must be non-empty strings`)
}

function requireTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new BadParameterError(`certificate TTL must be a positive number of milliseconds, got ${ttlMs}`)
}

/** Signs the fields with the CA and returns the one-line text form. */
function mint(caPrivateKey: string, fields: Omit<CertificateFields, 'signatureKeyBlob' | 'nonce'>): string {
  const ca = loadPrivateKey(caPrivateKey)
  const toSign = encodeCertificateToSign({
    ...fields,
    // A random nonce makes the signed data unpredictable to the requester (hash-collision defence).
    nonce: randomBytes(32),
    signatureKeyBlob: blobFromKeyObject(createPublicKey(ca)),
  })
  const blob = new SshWriter().raw(toSign).string(signSsh(ca, toSign)).toBuffer()
  return publicKeyLine(blob)
}

export function signUserCert(req: UserCertRequest): string {
  const publicKeyBlob = requireCertifiableKey(req.publicKey)
  if (!req.keyId) throw new BadParameterError('a user certificate needs a key id (the user name)')
  requirePrincipals(req.principals, 'user')
  requireTtl(req.ttlMs)
  const serial = req.serial ?? 0n
  if (serial < 0n || serial > MAX_UINT64) throw new BadParameterError('certificate serial must fit in 64 unsigned bits')
  const nowMs = (req.now ?? systemClock.now()).getTime()

  const extensions: Record<string, string> = {[EXT_PERMIT_PTY]: ''}
  if (req.permitAgentForwarding) extensions[EXT_PERMIT_AGENT_FORWARDING] = ''
  if (req.permitPortForwarding) extensions[EXT_PERMIT_PORT_FORWARDING] = ''
  if (req.permitX11Forwarding) extensions[EXT_PERMIT_X11_FORWARDING] = ''
  extensions[EXT_TELEPORT_ROLES] = encodeRoles(req.roles)
  extensions[EXT_TELEPORT_TRAITS] = encodeTraits(req.traits)
  extensions[EXT_TELEPORT_ROUTE_TO_CLUSTER] = req.routeToCluster

  const criticalOptions: Record<string, string> = {}
  if (req.sourceAddress && req.sourceAddress.length > 0) {
    criticalOptions[OPT_SOURCE_ADDRESS] = parseSourceAddressList(req.sourceAddress).join(',')
  }

  return mint(req.caPrivateKey, {
    publicKeyBlob,
    serial,
    type: 'user',
    keyId: req.keyId,
    principals: req.principals,
    validAfter: backdated(nowMs),
    validBefore: secondsOf(nowMs + req.ttlMs),
    criticalOptions,
    extensions,
  })
}

export function signHostCert(req: HostCertRequest): string {
  const publicKeyBlob = requireCertifiableKey(req.publicKey)
  if (!req.keyId) throw new BadParameterError('a host certificate needs a key id (the host UUID)')
  requirePrincipals(req.principals, 'host')
  if (!HOST_ROLES.includes(req.role)) throw new BadParameterError(`host role must be one of ${HOST_ROLES.join(', ')}, got "${req.role}"`)
  if (!req.authority) throw new BadParameterError('a host certificate needs an authority (the cluster name)')
  if (req.ttlMs !== undefined) requireTtl(req.ttlMs)
  const nowMs = (req.now ?? systemClock.now()).getTime()

  return mint(req.caPrivateKey, {
    publicKeyBlob,
    serial: 0n,
    type: 'host',
    keyId: req.keyId,
    principals: req.principals,
    validAfter: backdated(nowMs),
    validBefore: req.ttlMs === undefined ? FOREVER : secondsOf(nowMs + req.ttlMs),
    criticalOptions: {},
    extensions: {[EXT_HOST_ROLE]: req.role, [EXT_HOST_AUTHORITY]: req.authority},
  })
}
