import {ApiClient} from '../../src/api/client.js'
import type {AuthApi} from '../../src/api/auth-api.js'
import {AuthApiClient} from '../../src/api/auth-api-client.js'
import {readIdentityFile} from '../../src/api/identity-file.js'
import {startAuthService, type AuthServiceConfig, type RunningAuthService} from '../../src/daemon/auth/auth-service.js'
import {dataDirPaths} from '../../src/config/data-dir.js'

// The auth service in-process for integration tests: loopback, a free port, cheap bcrypt; and
// the admin API client tctl would use on that host.

export function testAuthConfig(dataDir: string, overrides: Partial<AuthServiceConfig> = {}): AuthServiceConfig {
  return {
    dataDir,
    nodeName: 'auth-1',
    clusterName: 'example.com',
    listen: {host: '127.0.0.1', port: 0},
    secondFactor: 'otp',
    staticTokens: [],
    proxyPublicAddr: 'proxy.example.com:3080',
    bcryptCost: 4,
    log: () => {},
    ...overrides,
  }
}

/** An AuthApi client with the admin identity the auth service wrote in its data dir. */
export function adminApi(dataDir: string, port: number): AuthApi {
  const identity = readIdentityFile(dataDirPaths(dataDir).adminIdentity)
  return new AuthApiClient(new ApiClient({host: '127.0.0.1', port, credentials: identity, trust: {hostCAs: identity.hostCAs}}))
}

export async function startTestAuth(dataDir: string, overrides: Partial<AuthServiceConfig> = {}): Promise<{auth: RunningAuthService; admin: AuthApi}> {
  const auth = await startAuthService(testAuthConfig(dataDir, overrides))
  return {auth, admin: adminApi(dataDir, auth.address.port)}
}
