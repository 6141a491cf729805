import assert from 'node:assert/strict'
import type {Socket} from 'node:net'
import {after, before, describe, test} from 'node:test'
import {connectToProxy, type ConnectIdentity} from '../../../../src/client/connect/index.js'
import {UserError} from '../../../../src/lib/errors.js'
import {misbehavingProxy, type MisbehavingProxy} from './misbehaving-proxy.js'

// A server that sends its SSH version line, then closes before the login is done (a listener
// closing a connection at its login deadline does this). ssh2's client then emits no 'error' and
// clears its own readyTimeout: without failOnCloseBeforeReady, connect waited for ever (the hung
// session of the concurrent bench). The server closes once the client's version line arrived,
// so the close always comes after the header, never by a timer.

describe('a server that closes the connection after its version line', () => {
  let proxy: MisbehavingProxy
  let identity: ConnectIdentity

  before(async () => {
    proxy = await misbehavingProxy((socket: Socket) => {
      socket.on('error', () => {})
      socket.write('SSH-2.0-Test\r\n')
      socket.once('data', () => socket.destroy())
    })
    identity = proxy.identity
  })
  after(() => proxy.close())

  test('connectToProxy rejects with a one-line UserError instead of waiting', {timeout: 20_000}, async () => {
    const error = await connectToProxy(identity, {username: 'root', readyTimeoutMs: 0}).then(
      () => assert.fail('connected'),
      (err: unknown) => err,
    )
    assert.ok(error instanceof UserError, String(error))
    assert.equal(error.message, `cannot connect to the proxy at ${identity.profile.sshProxyAddr}: the server closed the connection during the SSH handshake`)
  })
})
