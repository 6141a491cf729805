import {readFileSync} from 'node:fs'
import path from 'node:path'
import {readIdentityFile, writeIdentityFile, type Identity} from '../../api/identity-file.js'
import {writeFileAtomic} from '../../lib/atomic-write.js'
import {dataDirPaths} from '../../config/data-dir.js'
import type {ParsedCert} from '../../sshca/index.js'
import type {HostPort} from '../../config/index.js'

// What a node or proxy keeps in its data dir after joining, so that a restart needs no token:
//   keys/<role>.identity      private key + host certificate + host CAs (an identity file, 0600)
//   keys/<role>.cluster.json  cluster name, user CAs, and how auth is reached (0600)

/** How this host reaches the auth API. */
export type AuthRoute =
  /** Straight to the auth API's SSH port. */
  | {kind: 'auth'; addr: HostPort}
  /** Through a proxy: its SSH port, subsystem `proxy:@<cluster>` piped to auth. */
  | {kind: 'proxy'; webAddr: HostPort; sshAddr: HostPort; /** multiplex: the SSH server by ALPN on the web port. */ tlsRouting?: boolean}

export interface JoinedIdentity extends Identity {
  cert: ParsedCert
  hostUuid: string
  clusterName: string
  /** User CA public key lines: what a node trusts for user certificates. */
  userCAs: string[]
  authRoute: AuthRoute
}

interface ClusterFile {
  clusterName: string
  userCAs: string[]
  authRoute: AuthRoute
}

export type JoinRole = 'node' | 'proxy'

export function clusterFilePath(dataDir: string, role: JoinRole): string {
  const identityFile = dataDirPaths(dataDir).hostIdentity(role)
  return path.join(path.dirname(identityFile), `${role}.cluster.json`)
}

export function saveJoinedIdentity(dataDir: string, role: JoinRole, joined: JoinedIdentity): void {
  const cluster: ClusterFile = {clusterName: joined.clusterName, userCAs: joined.userCAs, authRoute: joined.authRoute}
  // The cluster file first: an identity file without it is treated as "not joined".
  writeFileAtomic(clusterFilePath(dataDir, role), JSON.stringify(cluster, null, 2) + '\n')
  writeIdentityFile(dataDirPaths(dataDir).hostIdentity(role), {privateKey: joined.privateKey, certificate: joined.certificate, hostCAs: joined.hostCAs})
}

/**
 * The identity kept in the data dir, or undefined when this host has not joined yet (or what is
 * there is unreadable or belongs to another host UUID: it joins again).
 */
export function loadJoinedIdentity(dataDir: string, role: JoinRole, hostUuid: string): JoinedIdentity | undefined {
  let identity: Identity & {cert: ParsedCert}
  let cluster: ClusterFile
  try {
    identity = readIdentityFile(dataDirPaths(dataDir).hostIdentity(role))
    cluster = JSON.parse(readFileSync(clusterFilePath(dataDir, role), 'utf8')) as ClusterFile
  } catch {
    return undefined
  }
  if (identity.cert.type !== 'host' || identity.cert.keyId !== hostUuid) return undefined
  if (typeof cluster.clusterName !== 'string' || !Array.isArray(cluster.userCAs) || !isAuthRoute(cluster.authRoute)) return undefined
  return {...identity, hostUuid, clusterName: cluster.clusterName, userCAs: cluster.userCAs, authRoute: cluster.authRoute}
}

function isHostPort(value: unknown): value is HostPort {
  const v = value as HostPort | undefined
  return typeof v?.host === 'string' && typeof v.port === 'number'
}

function isAuthRoute(value: unknown): value is AuthRoute {
  const v = value as Partial<{kind: string; addr: unknown; webAddr: unknown; sshAddr: unknown}> | undefined
  if (v?.kind === 'auth') return isHostPort(v.addr)
  if (v?.kind === 'proxy') return isHostPort(v.webAddr) && isHostPort(v.sshAddr)
  return false
}
