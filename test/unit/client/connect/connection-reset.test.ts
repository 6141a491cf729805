import assert from 'node:assert/strict'
import {createServer, type AddressInfo, type Server, type Socket} from 'node:net'
import {after, before, describe, test} from 'node:test'
import {connectToNode, connectToProxy, type ConnectIdentity} from '../../../../src/client/connect/index.js'
import {UserError} from '../../../../src/lib/errors.js'
import {generateKeyPair, signUserCert} from '../../../../src/sshca/index.js'

// A server that resets every connection before the SSH handshake, as a listener over its limit of
// unauthenticated connections does: ssh2 then reports the failure twice (the reset, then
// "Connection lost before handshake"). Each connect must reject once with a user-facing error;
// a second 'error' left unhandled would end the process (and every session of `tsh bench`).

describe('a connection reset before the SSH handshake', () => {
  let server: Server
  let port: number
  let identity: ConnectIdentity

  before(async () => {
    server = createServer((socket: Socket) => socket.resetAndDestroy())
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
    const ca = generateKeyPair()
    const user = generateKeyPair()
    const certificate = signUserCert({caPrivateKey: ca.privateKey, publicKey: user.publicKey, keyId: 'alice', principals: ['root'], ttlMs: 60_000, roles: [], traits: {}, routeToCluster: 'c'})
    identity = {profile: {webProxyAddr: `127.0.0.1:${port}`, sshProxyAddr: `127.0.0.1:${port}`, user: 'alice', cluster: 'c'}, privateKey: user.privateKey, certificate, hostCAs: []}
  })
  after(() => new Promise<void>((resolve) => server.close(() => resolve())))

  test('connectToProxy rejects with a UserError, many at once', async () => {
    const results = await Promise.allSettled(Array.from({length: 20}, () => connectToProxy(identity, {username: 'root'})))
    for (const result of results) {
      assert.equal(result.status, 'rejected')
      assert.ok((result as PromiseRejectedResult).reason instanceof UserError, String((result as PromiseRejectedResult).reason))
    }
  })

  test('connectToNode (SSH subsystem path) rejects, many at once', async () => {
    const results = await Promise.allSettled(Array.from({length: 20}, () => connectToNode(identity, 'node-1', undefined, 'root')))
    for (const result of results) {
      assert.equal(result.status, 'rejected')
      assert.ok((result as PromiseRejectedResult).reason instanceof Error)
    }
  })
})
