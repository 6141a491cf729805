import type {ParsedCert} from '../sshca/index.js'

// Who is calling the auth API, as established by the SSH layer from the caller's certificate.

export type HostRole = 'Node' | 'Proxy' | 'Auth' | 'Admin'

export type ApiIdentity =
  | {kind: 'user'; username: string; roles: string[]; traits: Record<string, string[]>; remoteAddr: string; cert: ParsedCert}
  | {kind: 'host'; hostId: string; role: HostRole; remoteAddr: string; cert: ParsedCert}
  /** A host with no certificate yet: it may only join the cluster (register with a token). */
  | {kind: 'anonymous'; remoteAddr: string; publicKey: string}

export function identityName(identity: ApiIdentity): string {
  if (identity.kind === 'user') return identity.username
  if (identity.kind === 'host') return `${identity.role.toLowerCase()}:${identity.hostId}`
  return 'anonymous'
}

const HOST_ROLES: readonly string[] = ['Node', 'Proxy', 'Auth', 'Admin']

export function identityFromCert(cert: ParsedCert, remoteAddr: string): ApiIdentity {
  if (cert.type === 'user') return {kind: 'user', username: cert.keyId, roles: cert.roles, traits: cert.traits, remoteAddr, cert}
  const role = cert.hostRole ?? ''
  if (!HOST_ROLES.includes(role)) throw new Error(`host certificate "${cert.keyId}" carries no known x-teleport-role`)
  return {kind: 'host', hostId: cert.keyId, role: role as HostRole, remoteAddr, cert}
}
