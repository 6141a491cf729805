import type {ApiIdentity} from '../../src/api/identity.js'
import {AuthApiClient} from '../../src/api/auth-api-client.js'
import {MemoryTransport} from '../../src/api/memory-transport.js'
import type {ApiTransport} from '../../src/api/route.js'
import {authApiRoutes} from '../../src/daemon/auth/api-routes.js'
import type {AuthServer} from '../../src/daemon/auth/auth-server.js'
import type {MemoryAuditLog} from '../../src/events/index.js'
import type {FakeClock} from '../../src/lib/clock.js'
import {UserError} from '../../src/lib/errors.js'
import type {ParsedCert} from '../../src/sshca/index.js'
import {memoryAuthServer} from './memory-auth-server.js'

// The real auth API (its routes, authorization and services) over the memory backend, called
// in process: what unit tests give a node, proxy or tctl in place of a remote auth server.

export interface MemoryAuthApi {
  /** The AuthApi, as the caller `identity` (Admin by default). */
  api: AuthApiClient
  auth: AuthServer
  audit: MemoryAuditLog
  clock: FakeClock
  /** Every call made, as "METHOD /path", in order. */
  calls: string[]
  /** While false, every call fails as a refused connection does (auth down). */
  reachable: boolean
  /** Sees each call and its body before it runs (throw to fail it). */
  onCall?: (call: string, body: unknown) => void
  close(): Promise<void>
}

export const ADMIN: ApiIdentity = {kind: 'host', hostId: 'admin-host', role: 'Admin', remoteAddr: '127.0.0.1', cert: {} as ParsedCert}

export async function memoryAuthApi(options: {identity?: ApiIdentity; clock?: FakeClock} = {}): Promise<MemoryAuthApi> {
  const server = await memoryAuthServer({clock: options.clock})
  const {auth, audit, clock} = server
  const inner = new MemoryTransport(authApiRoutes(auth), options.identity ?? ADMIN, (err) => {
    throw err
  })
  const state = {calls: [] as string[], reachable: true, onCall: undefined as MemoryAuthApi['onCall']}
  const guard = (method: string, path: string, body: unknown) => {
    if (!state.reachable) throw new UserError('cannot reach the auth server at 127.0.0.1:3025: connection refused')
    state.onCall?.(`${method} ${path}`, body)
    state.calls.push(`${method} ${path}`)
  }
  const close = async () => {
    await inner.close()
    await server.close()
  }
  const transport: ApiTransport = {
    request: async (method, path, body) => (guard(method, path, body), inner.request(method, path, body)),
    stream: async (method, path, body) => (guard(method, path, body), inner.stream(method, path, body)),
    close,
  }
  return Object.assign(state, {api: new AuthApiClient(transport), auth, audit, clock, close})
}
