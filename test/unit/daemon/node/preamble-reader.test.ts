import assert from 'node:assert/strict'
import {connect, createServer, type Server, type Socket} from 'node:net'
import {after, before, describe, test} from 'node:test'
import {MAX_PREAMBLE_BYTES} from '../../../../src/daemon/common/proxy-preamble.js'
import {PreambleError, readPreamble} from '../../../../src/daemon/node/preamble-reader.js'
import {FakeClock} from '../../../../src/lib/clock.js'

// The first bytes of a connection decide: the proxy's preamble line is taken off, SSH bytes are
// left exactly as they came (including bytes that arrived in the same chunk as the line). The
// quiet period runs on a FakeClock.

describe('reading the proxy preamble', () => {
  let server: Server
  let port: number
  let accepted: (socket: Socket) => void = () => {}
  before(async () => {
    server = createServer((socket) => accepted(socket))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as {port: number}).port
  })
  after(() => server.close())

  /**
   * Sends `chunks` from a client, each once the server has read the one before (so they arrive
   * apart), until the preamble is read; reads the preamble on the server side, then everything
   * left. `speakAfterQuiet`: the client says nothing until the quiet period is over (the
   * FakeClock moved past it).
   */
  async function exchange(chunks: (string | Buffer)[], options: {quietMs?: number; speakAfterQuiet?: boolean} = {}): Promise<{line: string | undefined; rest: string} | {error: Error}> {
    const clock = new FakeClock()
    const quietMs = options.quietMs ?? 2000
    let settled!: Promise<unknown>
    let received = 0
    let onReceived = () => {}
    const socketReady = new Promise<Socket>((resolve) => (accepted = resolve))
    const client = connect(port, '127.0.0.1', async () => {
      await socketReady // and so `settled` is set: the server side awaited it first
      if (options.speakAfterQuiet) await settled
      let sent = 0
      for (const chunk of chunks) {
        client.write(chunk)
        sent += Buffer.byteLength(chunk)
        await Promise.race([settled, new Promise<void>((resolve) => (onReceived = () => received >= sent && resolve()))])
      }
      client.end()
    })
    client.on('error', () => {})
    const socket = await socketReady
    const reading = readPreamble(socket, quietMs, clock)
    settled = reading.catch(() => {})
    const count = (d: Buffer) => {
      received += d.length
      onReceived()
    }
    socket.on('data', count)
    if (options.speakAfterQuiet) clock.advance(quietMs)
    try {
      const line = await reading
      socket.off('data', count)
      let rest = ''
      socket.on('data', (d: Buffer) => (rest += d.toString('latin1')))
      socket.resume()
      await new Promise((resolve) => socket.once('end', resolve))
      return {line, rest}
    } catch (err) {
      socket.destroy()
      return {error: err as Error}
    }
  }

  test('plain SSH: nothing taken', async () => {
    assert.deepEqual(await exchange(['SSH-2.0-OpenSSH_9.2\r\n', 'more']), {line: undefined, rest: 'SSH-2.0-OpenSSH_9.2\r\nmore'})
  })
  test('a preamble, in one chunk with SSH bytes after it', async () => {
    assert.deepEqual(await exchange(['TELEPORT-PROXY abc def ghi\r\nSSH-2.0-x\r\n']), {line: 'TELEPORT-PROXY abc def ghi', rest: 'SSH-2.0-x\r\n'})
  })
  test('a preamble split across chunks, even inside the prefix', async () => {
    assert.deepEqual(await exchange(['TELE', 'PORT-PROXY a b', ' c\r', '\nSSH-2.0-y']), {line: 'TELEPORT-PROXY a b c', rest: 'SSH-2.0-y'})
  })
  test('a preamble already sent when the quiet period ran out (a busy event loop) is still read', async () => {
    const clock = new FakeClock()
    const socketReady = new Promise<Socket>((resolve) => (accepted = resolve))
    const client = connect(port, '127.0.0.1')
    client.on('error', () => {})
    await new Promise((resolve) => client.once('connect', resolve))
    const socket = await socketReady
    const reading = readPreamble(socket, 2000, clock)
    // The bytes are in the server's socket buffer, unread, when the timer comes due: a loop that
    // ran late reaches its timers before it polls the socket.
    client.write('TELEPORT-PROXY a b c\r\nSSH-2.0-x\r\n')
    clock.advance(2000)
    try {
      assert.equal(await reading, 'TELEPORT-PROXY a b c')
    } finally {
      client.destroy()
      socket.destroy()
    }
  })
  test('a client that waits for the server first is plain SSH', async () => {
    // The client speaks only after the quiet period: what it says then is left for SSH.
    assert.deepEqual(await exchange(['SSH-2.0-late\r\n'], {quietMs: 50, speakAfterQuiet: true}), {line: undefined, rest: 'SSH-2.0-late\r\n'})
  })
  test('an overlong preamble is refused', async () => {
    const result = await exchange(['TELEPORT-PROXY ' + 'x'.repeat(MAX_PREAMBLE_BYTES + 10)])
    assert.ok('error' in result && result.error instanceof PreambleError, JSON.stringify(result))
  })
  test('a connection closed mid-preamble is refused', async () => {
    const result = await exchange(['TELEPORT-PROXY abc'])
    assert.ok('error' in result && result.error instanceof PreambleError)
  })
})
