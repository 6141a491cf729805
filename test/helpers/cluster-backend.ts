import {SqliteBackend} from '../../src/backend/sqlite.js'
import {FakeClock} from '../../src/lib/clock.js'
import {dataDirPaths} from '../../src/config/data-dir.js'
import {CAService, type CAType} from '../../src/services/cas.js'
import {JoinTokenService} from '../../src/services/join-tokens.js'

// What an attacker who stole the backend, or a test forging credentials, can do beside a running
// auth service: read the CAs' signing keys, write a token as it was some time ago. SQLite is shared
// between processes (WAL), so the daemon sees these writes at once.

async function withBackend<T>(dataDir: string, use: (backend: SqliteBackend) => Promise<T>): Promise<T> {
  const backend = SqliteBackend.open(dataDirPaths(dataDir).backend)
  try {
    return await use(backend)
  } finally {
    await backend.close()
  }
}

/** The active signing key pair of the cluster's user or host CA. */
export function caKeyPair(dataDir: string, clusterName: string, type: CAType): Promise<{privateKey: string; publicKey: string}> {
  return withBackend(dataDir, async (backend) => {
    const key = (await new CAService(backend).get(type, clusterName)).activeKeys[0]
    if (!key?.privateKey) throw new Error(`the ${type} CA of ${clusterName} has no signing key in ${dataDir}`)
    return {privateKey: key.privateKey, publicKey: key.publicKey}
  })
}

/** A dynamic join token created `agoMs` ago with a `ttlMs` TTL (expired when ttlMs < agoMs). */
export function addJoinTokenInThePast(dataDir: string, request: {token: string; type: string; ttlMs: number; agoMs: number}): Promise<void> {
  return withBackend(dataDir, async (backend) => {
    const clock = new FakeClock(Date.now() - request.agoMs)
    await new JoinTokenService(backend, {clock}).add({type: request.type, ttlMs: request.ttlMs, token: request.token})
  })
}
