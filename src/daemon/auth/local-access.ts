import {AuthServers} from '../../api/auth-servers.js'
import {ApiClient} from '../../api/client.js'
import type {AuthApi} from '../../api/auth-api.js'
import {AuthApiClient} from '../../api/auth-api-client.js'
import {dataDirPaths} from '../../config/data-dir.js'
import {ensureHostIdentity} from '../common/host-identity.js'
import type {RunningAuthService} from './auth-service.js'

// A proxy or node beside the auth service in one process (`--roles=auth,proxy,node`): no token;
// auth issues the service's host identity directly (kept in <data_dir>/keys/<role>.identity and
// reused while it fits), and the service talks to auth over the same API as a remote one would.

export interface LocalAccess {
  identity: {privateKey: string; certificate: string; hostCAs: string[]}
  authApi: AuthApi
  /** Only this process's auth server. */
  authServers: AuthServers
  /** Closes the auth API client made here. */
  close(): Promise<void>
}

export async function localAccess(auth: RunningAuthService, options: {dataDir: string; nodeName: string; role: 'Proxy' | 'Node'; principals?: string[]}): Promise<LocalAccess> {
  const hostCAs = await auth.auth.caKeys('host')
  const principals = options.principals ?? []
  const identity = await ensureHostIdentity(dataDirPaths(options.dataDir).hostIdentity(options.role === 'Proxy' ? 'proxy' : 'node'), {
    hostCAs,
    fits: (cert) => cert.hostRole === options.role && cert.keyId === auth.hostUuid && [options.nodeName, ...principals].every((p) => cert.principals.includes(p)),
    issue: (publicKey) => auth.auth.issueHostCert({hostId: auth.hostUuid, nodeName: options.nodeName, role: options.role, publicKey, principals}),
  })
  const authServers = new AuthServers([auth.address])
  // The identity object is the service's: a CA rotation renews its certificate and trusted keys in place.
  const trust = {
    get hostCAs() {
      return identity.hostCAs
    },
  }
  const authApi = new AuthApiClient(new ApiClient({servers: authServers, credentials: identity, trust}))
  return {identity, authApi, authServers, close: () => authApi.close()}
}
