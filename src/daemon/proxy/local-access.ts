import {existsSync} from 'node:fs'
import {ApiClient} from '../../api/client.js'
import {AuthApi} from '../../client/auth-api.js'
import {readIdentityFile, writeIdentityFile, type Identity} from '../../client/identity-file.js'
import {dataDirPaths} from '../../lib/data-dir.js'
import {generateKeyPair, verifyCert} from '../../sshca/index.js'
import type {RunningAuthService} from '../auth/auth-service.js'
import type {HostPort} from '../config/index.js'
import type {ProxyClusterAccess} from './proxy-service.js'

// The proxy beside the auth service in one process (`--roles=auth,proxy[,node]`): no token, the
// auth server issues the proxy's host identity directly. Kept in <data_dir>/keys/proxy.identity
// and reused while the host CA still vouches for it.

export interface LocalProxyAccess extends ProxyClusterAccess {
  /** Closes the auth API client made here. */
  close(): Promise<void>
}

export async function localProxyAccess(auth: RunningAuthService, options: {dataDir: string; nodeName: string; publicAddrs?: HostPort[]}): Promise<LocalProxyAccess> {
  const file = dataDirPaths(options.dataDir).hostIdentity('proxy')
  const hostCAs = await auth.auth.caKeys('host')
  const principals = (options.publicAddrs ?? []).map((a) => a.host)
  let identity: Identity | undefined
  if (existsSync(file)) {
    try {
      const kept = readIdentityFile(file)
      const cert = verifyCert(kept.cert, {type: 'host', trustedCAs: hostCAs})
      const fits = cert.hostRole === 'Proxy' && cert.keyId === auth.hostUuid && principals.every((p) => cert.principals.includes(p))
      if (fits && sameKeys(kept.hostCAs, hostCAs)) identity = kept
    } catch {
      identity = undefined // unreadable or outdated: issue anew
    }
  }
  if (!identity) {
    const key = generateKeyPair()
    const certificate = await auth.auth.issueHostCert({hostId: auth.hostUuid, nodeName: options.nodeName, role: 'Proxy', publicKey: key.publicKey, principals})
    identity = {privateKey: key.privateKey, certificate, hostCAs}
    writeIdentityFile(file, identity)
  }
  const authAddress = {host: isWildcard(auth.address.host) ? '127.0.0.1' : auth.address.host, port: auth.address.port}
  const authApi = new AuthApi(new ApiClient({host: authAddress.host, port: authAddress.port, credentials: identity, trust: {hostCAs}}))
  return {
    identity: {privateKey: identity.privateKey, certificate: identity.certificate},
    authApi,
    authAddress,
    close: () => authApi.close(),
  }
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === ''
}

/** Key lines compared by type and key (identity files keep no comments). */
function sameKeys(a: string[], b: string[]): boolean {
  const norm = (lines: string[]) => lines.map((l) => l.trim().split(/\s+/).slice(0, 2).join(' ')).sort().join('\n')
  return norm(a) === norm(b)
}
