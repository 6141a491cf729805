import assert from 'node:assert/strict'
import {once} from 'node:events'
import {connect, type Socket} from 'node:net'
import {describe, test} from 'node:test'
import type {HandedConnection} from '../../../../src/lib/net/connection.js'
import {listenTcp} from '../../../../src/lib/net/tcp-listener.js'

// The one TCP listener: binds (port 0 resolved), hands each accepted socket in with its
// endpoints, reports bind errors as node does, and closes once its connections have.

describe('TCP listener', () => {
  test('hands each accepted socket in with both endpoints', async () => {
    let handIn: (conn: HandedConnection) => void = () => {}
    const handed = new Promise<HandedConnection>((resolve) => (handIn = resolve))
    const listener = await listenTcp({host: '127.0.0.1', port: 0}, {handle: (conn) => handIn(conn)})
    assert.equal(listener.address.host, '127.0.0.1')
    assert.ok(listener.address.port > 0)
    const client = connect(listener.address.port, '127.0.0.1')
    await once(client, 'connect')
    const conn = await handed
    assert.deepEqual(conn.local, {host: '127.0.0.1', port: listener.address.port})
    assert.deepEqual(conn.remote, {host: '127.0.0.1', port: client.localPort})
    const closed = listener.close()
    client.destroy()
    ;(conn.stream as Socket).destroy()
    await closed
  })

  test('a port in use rejects with node\'s error', async () => {
    const first = await listenTcp({host: '127.0.0.1', port: 0}, {handle: () => {}})
    await assert.rejects(listenTcp({host: '127.0.0.1', port: first.address.port}, {handle: () => {}}), {code: 'EADDRINUSE'})
    await first.close()
  })
})
