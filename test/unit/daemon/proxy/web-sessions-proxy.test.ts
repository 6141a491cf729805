import assert from 'node:assert/strict'
import type {IncomingMessage} from 'node:http'
import {afterEach, describe, test} from 'node:test'
import ssh2 from 'ssh2'
import {AuthApiClient} from '../../../../src/api/auth-api-client.js'
import type {WebUserAuthApi} from '../../../../src/api/auth-api.js'
import type {ApiIdentity} from '../../../../src/api/identity.js'
import {MemoryTransport} from '../../../../src/api/memory-transport.js'
import {authApiRoutes} from '../../../../src/daemon/auth/api-routes.js'
import {HttpError} from '../../../../src/daemon/proxy/http-util.js'
import {CLOSE_NOT_AUTHENTICATED, ProxyWebSessions, sessionCookie} from '../../../../src/daemon/proxy/web-sessions-proxy.js'
import type {ParsedCert} from '../../../../src/sshca/index.js'
import {memoryAuthServer, type MemoryAuthServer} from '../../../helpers/memory-auth-server.js'
import {memoryLogger} from '../../../helpers/memory-logger.js'

// The proxy's hold on web sessions, against the real auth routes in memory: what it asks auth,
// the one user-API connection per session, and what sign-out, expiry and idleness close.

const PROXY: ApiIdentity = {kind: 'host', hostId: 'proxy-1', role: 'Proxy', remoteAddr: '10.0.0.2', cert: {} as ParsedCert}
const IDLE_MS = 10 * 60_000

const open: MemoryAuthServer[] = []
afterEach(async () => {
  for (const server of open.splice(0)) await server.close()
})

async function setup() {
  const server = await memoryAuthServer({webIdleTimeoutMs: IDLE_MS})
  open.push(server)
  const {auth, clock} = server
  await auth.createUser({name: 'alice', roles: ['access'], traits: {logins: ['alice']}}, {user: 'admin'})
  await auth.users.setPassword('alice', 'alice-password')
  const proxyApi = new AuthApiClient(new MemoryTransport(authApiRoutes(auth), PROXY, (err) => {
    throw err
  }))
  const opened: {user: string; closed: boolean}[] = []
  const sessions = new ProxyWebSessions({
    authApi: proxyApi,
    clock,
    log: memoryLogger(),
    sweepMs: 60_000,
    connector: {
      // Stands in for the SSH connection as the user: counts opens and closes.
      async openUserApi(session) {
        const record = {user: session.user, closed: false}
        opened.push(record)
        return {close: async () => void (record.closed = true)} as unknown as WebUserAuthApi
      },
      agent: () => ({}) as ssh2.BaseAgent,
    },
  })
  const signIn = () => sessions.signIn({username: 'alice', password: 'alice-password', clientAddr: '203.0.113.9'})
  return {server, clock, sessions, opened, signIn}
}

const status = (err: unknown) => (err instanceof HttpError ? err.status : err)

describe('web sessions at the proxy', () => {
  test('a request needs the session id AND its bearer token, as auth has them', async () => {
    const {sessions, signIn} = await setup()
    const session = await signIn()
    assert.equal((await sessions.authenticate(session.id, session.bearerToken)).user, 'alice')
    await assert.rejects(sessions.authenticate(session.id, undefined), (err) => status(err) === 401)
    await assert.rejects(sessions.authenticate(undefined, session.bearerToken), (err) => status(err) === 401)
    await assert.rejects(sessions.authenticate(session.id, 'f'.repeat(session.bearerToken.length)), (err) => status(err) === 401)
    const req = {headers: {cookie: `theme=dark; __Host-session=${session.id}; x=y`, authorization: `Bearer ${session.bearerToken}`}} as unknown as IncomingMessage
    assert.equal(sessionCookie(req), session.id)
    assert.equal((await sessions.authenticateRequest(req)).id, session.id)
    await sessions.close()
  })

  test('one user-API connection per session; sign-out ends the session at auth and closes its sockets and connection', async () => {
    const {sessions, opened, signIn} = await setup()
    const session = await signIn()
    const api = await sessions.userApi(session)
    assert.equal(await sessions.userApi(await sessions.authenticate(session.id, session.bearerToken)), api)
    assert.equal(opened.length, 1)
    const closes: [number, string][] = []
    sessions.attach(session, {close: (code, message) => closes.push([code, message])})
    await sessions.signOut(session)
    assert.deepEqual(closes, [[CLOSE_NOT_AUTHENTICATED, 'signed out']])
    assert.equal(opened[0]!.closed, true)
    await assert.rejects(sessions.authenticate(session.id, session.bearerToken), (err) => status(err) === 401)
    await sessions.close()
  })

  test('an idle session loses its connection unless a socket is open; an expired one closes its sockets', async () => {
    const {sessions, opened, signIn, clock} = await setup()
    const idle = await signIn()
    await sessions.userApi(idle)
    const busy = await signIn()
    await sessions.userApi(busy)
    const closes: number[] = []
    sessions.attach(busy, {close: (code) => closes.push(code)})

    await clock.advanceAsync(IDLE_MS + 60_000)
    assert.deepEqual(opened.map((o) => o.closed), [true, false], 'the idle one is let go, the one with a terminal stays')
    assert.deepEqual(closes, [])

    await clock.advanceAsync(Date.parse(busy.expires) - clock.now().getTime() + 60_000)
    assert.deepEqual(closes, [CLOSE_NOT_AUTHENTICATED])
    assert.equal(opened[1]!.closed, true)
    await sessions.close()
  })
})
