import assert from 'node:assert/strict'
import net from 'node:net'
import {after, before, describe, test} from 'node:test'
import {acceptSocks5, replyBytes, SocksReply, type SocksRequest} from '../../../../src/client/ssh/socks5.js'

// A real TCP socket pair on loopback: the client side writes raw SOCKS5 bytes, the server side
// runs the handshake.

describe('SOCKS5 handshake', () => {
  let server: net.Server
  let port: number
  const waiting: Array<(pair: {socket: net.Socket; request: Promise<SocksRequest>}) => void> = []
  const sockets: net.Socket[] = []

  before(async () => {
    server = net.createServer((socket) => {
      sockets.push(socket)
      const request = acceptSocks5(socket)
      request.catch(() => {})
      waiting.shift()?.({socket, request})
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as net.AddressInfo).port
  })
  after(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })

  /** A client socket and the server side's handshake. */
  async function connect(): Promise<{client: net.Socket; server: net.Socket; request: Promise<SocksRequest>}> {
    const accepted = new Promise<{socket: net.Socket; request: Promise<SocksRequest>}>((resolve) => waiting.push(resolve))
    const client = await new Promise<net.Socket>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(s))
    })
    sockets.push(client)
    const {socket, request} = await accepted
    return {client, server: socket, request}
  }

  function read(s: net.Socket, n: number): Promise<Buffer> {
    return new Promise((resolve) => {
      let buf = Buffer.alloc(0)
      const onData = (c: Buffer) => {
        buf = Buffer.concat([buf, c])
        if (buf.length >= n) {
          s.off('data', onData)
          resolve(buf)
        }
      }
      s.on('data', onData)
    })
  }

  test('domain name CONNECT, then the tunnel carries bytes both ways (bytes sent early are kept)', async () => {
    const {client, server: far, request} = await connect()
    client.write(Buffer.from([5, 2, 0x02, 0x00]))
    assert.deepEqual([...(await read(client, 2))], [5, 0])
    const name = Buffer.from('example.com')
    client.write(Buffer.concat([Buffer.from([5, 1, 0, 3, name.length]), name, Buffer.from([0x01, 0xbb]), Buffer.from('hello')]))
    const req = await request
    assert.equal(req.host, 'example.com')
    assert.equal(req.port, 443)
    req.reply(SocksReply.succeeded)
    assert.deepEqual(await read(client, 10), replyBytes(0))
    const got = read(far, 5)
    far.resume()
    assert.equal((await got).toString(), 'hello')
    far.write('world')
    assert.equal((await read(client, 5)).toString(), 'world')
  })

  test('IPv4 destination split across writes; a failure reply', async () => {
    const {client, request} = await connect()
    client.write(Buffer.from([5, 1]))
    client.write(Buffer.from([0]))
    await read(client, 2)
    client.write(Buffer.from([5, 1, 0, 1, 10, 0, 0]))
    client.write(Buffer.from([7, 0x1f, 0x90]))
    const req = await request
    assert.equal(req.host, '10.0.0.7')
    assert.equal(req.port, 8080)
    req.reply(SocksReply.hostUnreachable)
    assert.deepEqual(await read(client, 10), replyBytes(SocksReply.hostUnreachable))
  })

  test('IPv6 destination', async () => {
    const {client, request} = await connect()
    client.write(Buffer.from([5, 1, 0]))
    await read(client, 2)
    const addr = Buffer.alloc(16)
    addr[15] = 1
    client.write(Buffer.concat([Buffer.from([5, 1, 0, 4]), addr, Buffer.from([0, 22])]))
    const req = await request
    assert.equal(req.host, '0:0:0:0:0:0:0:1')
    assert.equal(req.port, 22)
  })

  test('no acceptable method is refused with 0xff', async () => {
    const {client, request} = await connect()
    client.write(Buffer.from([5, 1, 0x02]))
    assert.deepEqual([...(await read(client, 2))], [5, 0xff])
    await assert.rejects(request, /no method without authentication/)
  })

  test('a SOCKS4 client is refused', async () => {
    const {client, request} = await connect()
    client.write(Buffer.from([4, 1, 0, 80, 127, 0, 0, 1, 0]))
    await assert.rejects(request, /not a SOCKS5 client/)
  })

  test('BIND is refused with "command not supported"', async () => {
    const {client, request} = await connect()
    client.write(Buffer.from([5, 1, 0]))
    await read(client, 2)
    client.write(Buffer.from([5, 2, 0, 1, 127, 0, 0, 1, 0, 80]))
    assert.deepEqual(await read(client, 10), replyBytes(SocksReply.commandNotSupported))
    await assert.rejects(request, /only CONNECT/)
  })

  test('a client hanging up mid-handshake rejects', async () => {
    const {client, request} = await connect()
    client.end(Buffer.from([5]))
    await assert.rejects(request, /closed the connection during the SOCKS handshake/)
  })
})
