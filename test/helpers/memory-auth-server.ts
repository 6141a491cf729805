import {MemoryBackend} from '../../src/backend/index.js'
import {AuthServer, type AuthServerOptions} from '../../src/daemon/auth/auth-server.js'
import {MemoryAuditLog} from '../../src/events/index.js'
import {MemoryRecordingStore} from '../../src/events/recording-store/index.js'
import {FakeClock} from '../../src/lib/clock.js'

// The auth server itself on memory parts (backend, audit log, recordings, a FakeClock): the one
// setup unit tests share, whether they call it directly or through the API (memory-auth-api.ts).

export interface MemoryAuthServer {
  auth: AuthServer
  audit: MemoryAuditLog
  clock: FakeClock
  close(): Promise<void>
}

export async function memoryAuthServer(options: {clock?: FakeClock} & Partial<AuthServerOptions> = {}): Promise<MemoryAuthServer> {
  const {clock = new FakeClock(), ...overrides} = options
  const backend = new MemoryBackend(clock, {sweepIntervalMs: 3_600_000})
  const audit = new MemoryAuditLog()
  const auth = await AuthServer.init({
    backend, audit, recordings: new MemoryRecordingStore(), clock, clusterName: 'example.com', secondFactor: 'off', staticTokens: [],
    proxyPublicAddr: 'proxy:3080', bcryptCost: 4, ...overrides,
  })
  return {auth, audit, clock, close: () => backend.close()}
}
