// The cluster's certificate authorities in the backend: /authorities/<user|host|tls>/<clusterName>.
// `tls` is the TLS user CA: its publicKey is its X.509 certificate (PEM), its privateKey PKCS#8.
// activeKeys sign; additionalTrustedKeys are only trusted (the other CA during a rotation).
// Key generation is the caller's (src/sshca): this module stores what it is given.
import type {Backend} from '../backend/backend.js'
import {AlreadyExistsError, BadParameterError, CompareFailedError, NotFoundError} from '../lib/errors.js'
import {assertValidName} from './models/resource.js'

export type CAType = 'user' | 'host' | 'tls'
export const CA_TYPES: readonly CAType[] = ['user', 'host', 'tls']
/** The SSH CAs: what `tctl auth rotate` names (the TLS user CA rotates with the user CA). */
export type SshCAType = 'user' | 'host'
export const SSH_CA_TYPES: readonly SshCAType[] = ['user', 'host']

export interface CAKeyPair {
  /** authorized_keys line, e.g. "ssh-ed25519 AAAA...". */
  publicKey: string
  /** OpenSSH PEM; absent in public views and for keys that are only trusted. */
  privateKey?: string
}

export type RotationPhase = 'standby' | 'init' | 'update_clients' | 'update_servers' | 'rollback'

/** Rotation state, stored with the CA so a phase change and the key change are one write. */
export interface CARotation {
  phase: RotationPhase
  mode?: 'auto' | 'manual'
  /** ISO 8601. */
  started?: string
  gracePeriodMs?: number
  /** ISO 8601. */
  lastRotated?: string
  /** Auto mode: when each next phase begins (ISO 8601), the grace period split evenly. */
  schedule?: {updateClients: string; updateServers: string; standby: string}
}

export interface CertAuthority {
  type: CAType
  clusterName: string
  activeKeys: CAKeyPair[]
  additionalTrustedKeys: CAKeyPair[]
  rotation?: CARotation
}

/** Where the CAs live in the backend (watched by hosts following a rotation). */
export const CA_PREFIX = '/authorities/'
const PREFIX = CA_PREFIX

function key(type: CAType, clusterName: string): string {
  return `${PREFIX}${type}/${clusterName}`
}

/** The CA without any private key: what nodes and clients receive. */
export function withoutSecrets(ca: CertAuthority): CertAuthority {
  return {
    type: ca.type,
    clusterName: ca.clusterName,
    activeKeys: ca.activeKeys.map((k) => ({publicKey: k.publicKey})),
    additionalTrustedKeys: ca.additionalTrustedKeys.map((k) => ({publicKey: k.publicKey})),
    ...(ca.rotation ? {rotation: {...ca.rotation}} : {}),
  }
}

/** Every public key a CA vouches with: active first, then additionally trusted, without duplicates. */
export function caPublicKeys(ca: CertAuthority): string[] {
  return [...new Set([...ca.activeKeys, ...ca.additionalTrustedKeys].map((k) => k.publicKey.trim()))]
}

export class CAService {
  constructor(private readonly backend: Backend) {}

  /** Stores a new CA; AlreadyExistsError rather than overwrite one (that would lock every host and user out). */
  async create(ca: CertAuthority): Promise<CertAuthority> {
    const clean = validateCA(ca)
    try {
      await this.backend.create({key: key(clean.type, clean.clusterName), value: JSON.stringify(clean)})
    } catch (err) {
      if (err instanceof AlreadyExistsError) {
        throw new AlreadyExistsError(`${clean.type} CA for cluster ${JSON.stringify(clean.clusterName)} already exists`)
      }
      throw err
    }
    return clean
  }

  /** The stored CA; private keys included unless withSecrets is false. NotFoundError when absent. */
  async get(type: CAType, clusterName: string, options: {withSecrets?: boolean} = {}): Promise<CertAuthority> {
    const ca = JSON.parse((await this.getItem(type, clusterName)).value) as CertAuthority
    return options.withSecrets === false ? withoutSecrets(ca) : ca
  }

  /**
   * The CA, created on first use from `generate()` (first start of the auth service). Safe when
   * two auth servers race: the loser reads the winner's CA.
   */
  async getOrCreate(
    type: CAType,
    clusterName: string,
    generate: () => {publicKey: string; privateKey: string} | Promise<{publicKey: string; privateKey: string}>,
  ): Promise<CertAuthority> {
    try {
      return await this.get(type, clusterName)
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err
    }
    const pair = await generate()
    try {
      return await this.create({type, clusterName, activeKeys: [{publicKey: pair.publicKey, privateKey: pair.privateKey}], additionalTrustedKeys: []})
    } catch (err) {
      if (err instanceof AlreadyExistsError) return this.get(type, clusterName)
      throw err
    }
  }

  /** Replaces `current` with `next` only if nobody changed it meanwhile (rotation steps). */
  async compareAndSwap(current: CertAuthority, next: CertAuthority): Promise<CertAuthority> {
    const clean = validateCA(next)
    if (clean.type !== current.type || clean.clusterName !== current.clusterName) {
      throw new BadParameterError('compareAndSwap must keep the CA type and cluster name')
    }
    const item = await this.getItem(current.type, current.clusterName)
    if (!sameCA(JSON.parse(item.value) as CertAuthority, current)) {
      throw new CompareFailedError(`${current.type} CA for cluster ${JSON.stringify(current.clusterName)} changed meanwhile; read it again`)
    }
    await this.backend.compareAndSwap(item.value, {key: item.key, value: JSON.stringify(clean)})
    return clean
  }

  /** Every CA (of one type, or both), sorted by type then cluster name. */
  async list(type?: CAType, options: {withSecrets?: boolean} = {}): Promise<CertAuthority[]> {
    const prefix = type ? `${PREFIX}${type}/` : PREFIX
    const cas = (await this.backend.getRange(prefix)).map((item) => JSON.parse(item.value) as CertAuthority)
    return options.withSecrets === false ? cas.map(withoutSecrets) : cas
  }

  async delete(type: CAType, clusterName: string): Promise<void> {
    await this.getItem(type, clusterName)
    await this.backend.delete(key(type, clusterName))
  }

  /** Public keys trusted for `type` certificates: of one cluster, or of every cluster known. */
  async trustedPublicKeys(type: CAType, clusterName?: string): Promise<string[]> {
    const cas = clusterName === undefined ? await this.list(type) : [await this.get(type, clusterName)]
    return [...new Set(cas.flatMap(caPublicKeys))]
  }

  private async getItem(type: CAType, clusterName: string) {
    assertType(type)
    assertValidName('cluster', clusterName)
    try {
      return await this.backend.get(key(type, clusterName))
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundError(`${type} CA for cluster ${JSON.stringify(clusterName)} is not found`)
      throw err
    }
  }
}

function assertType(type: unknown): asserts type is CAType {
  if (!CA_TYPES.includes(type as CAType)) throw new BadParameterError(`unknown CA type ${JSON.stringify(type)}; expected user, host or tls`)
}

function validateCA(ca: CertAuthority): CertAuthority {
  assertType(ca?.type)
  assertValidName('cluster', ca.clusterName)
  const keys = (list: unknown, field: string, needPrivate: boolean): CAKeyPair[] => {
    if (!Array.isArray(list)) throw new BadParameterError(`${ca.type} CA: ${field} must be a list`)
    return list.map((k, i) => {
      if (typeof k?.publicKey !== 'string' || k.publicKey.trim() === '') throw new BadParameterError(`${ca.type} CA: ${field}[${i}].publicKey is missing`)
      if (k.privateKey !== undefined && typeof k.privateKey !== 'string') throw new BadParameterError(`${ca.type} CA: ${field}[${i}].privateKey must be a string`)
      if (needPrivate && !k.privateKey) throw new BadParameterError(`${ca.type} CA: ${field}[${i}].privateKey is missing`)
      return k.privateKey ? {publicKey: k.publicKey.trim(), privateKey: k.privateKey} : {publicKey: k.publicKey.trim()}
    })
  }
  const activeKeys = keys(ca.activeKeys, 'activeKeys', true)
  if (activeKeys.length === 0) throw new BadParameterError(`${ca.type} CA: at least one active key is required`)
  const out: CertAuthority = {type: ca.type, clusterName: ca.clusterName, activeKeys, additionalTrustedKeys: keys(ca.additionalTrustedKeys ?? [], 'additionalTrustedKeys', false)}
  if (ca.rotation !== undefined) {
    const phases: RotationPhase[] = ['standby', 'init', 'update_clients', 'update_servers', 'rollback']
    if (!phases.includes(ca.rotation?.phase)) throw new BadParameterError(`${ca.type} CA: unknown rotation phase ${JSON.stringify(ca.rotation?.phase)}`)
    out.rotation = {...ca.rotation}
  }
  return out
}

function sameCA(a: CertAuthority, b: CertAuthority): boolean {
  return JSON.stringify(validateCA(a)) === JSON.stringify(validateCA(b))
}
