import assert from 'node:assert/strict'
import type {Socket} from 'node:net'
import {after, before, describe, test} from 'node:test'
import {connectToNode, connectToProxy, type ConnectIdentity} from '../../../../src/client/connect/index.js'
import {UserError} from '../../../../src/lib/errors.js'
import {misbehavingProxy, type MisbehavingProxy} from './misbehaving-proxy.js'

// A server that resets every connection before the SSH handshake, as a listener over its limit of
// unauthenticated connections does: ssh2 then reports the failure twice (the reset, then
// "Connection lost before handshake"). Each connect must reject once with a user-facing error;
// a second 'error' left unhandled would end the process (and every session of `tsh bench`).

describe('a connection reset before the SSH handshake', () => {
  let proxy: MisbehavingProxy
  let identity: ConnectIdentity

  before(async () => {
    proxy = await misbehavingProxy((socket: Socket) => socket.resetAndDestroy())
    identity = proxy.identity
  })
  after(() => proxy.close())

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
