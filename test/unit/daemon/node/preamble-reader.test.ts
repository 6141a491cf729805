import assert from 'node:assert/strict'
import {connect, createServer, type Server, type Socket} from 'node:net'
import {after, before, describe, test} from 'node:test'
import {MAX_PREAMBLE_BYTES} from '../../../../src/daemon/common/proxy-preamble.js'
import {PreambleError, readPreamble} from '../../../../src/daemon/node/preamble-reader.js'

// The first bytes of a connection decide: the proxy's preamble line is taken off, SSH bytes are
// left exactly as they came (including bytes that arrived in the same chunk as the line).

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

  /** Sends `chunks` from a client; reads the preamble on the server side, then everything left. */
  async function exchange(chunks: (string | Buffer)[], quietMs?: number, firstDelayMs = 0): Promise<{line: string | undefined; rest: string} | {error: Error}> {
    const socket = await new Promise<Socket>((resolve) => {
      accepted = resolve
      const client = connect(port, '127.0.0.1', async () => {
        await new Promise((r) => setTimeout(r, firstDelayMs))
        for (const chunk of chunks) {
          client.write(chunk)
          await new Promise((r) => setTimeout(r, 20))
        }
        client.end()
      })
      client.on('error', () => {})
    })
    try {
      const line = await readPreamble(socket, quietMs)
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
  test('a client that waits for the server first is plain SSH', async () => {
    // The client speaks only after the quiet period: what it says then is left for SSH.
    assert.deepEqual(await exchange(['SSH-2.0-late\r\n'], 50, 300), {line: undefined, rest: 'SSH-2.0-late\r\n'})
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
