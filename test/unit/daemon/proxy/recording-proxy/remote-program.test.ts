import assert from 'node:assert/strict'
import {after, describe, test} from 'node:test'
import ssh2, {type ClientChannel, type ServerChannel} from 'ssh2'
import type {SessionExit} from '../../../../../src/daemon/node/session/program.js'
import {remoteProgramOnceOpen} from '../../../../../src/daemon/proxy/recording-proxy/remote-program.js'
import {generateKeyPair} from '../../../../../src/sshca/index.js'
import {duplexPair} from '../../../../helpers/duplex-pair.js'
import {eventually} from '../../../../helpers/eventually.js'

// The program of a moderated session the recording proxy holds: the node's channel is opened only
// when the gate opens, so what the session core does before (input, a resize) waits and reaches
// the node once the channel is there. A real ssh2 client and server over an in-memory
// pair stand for the proxy's connection and the node.

interface NodeSide {
  /** What the node's shell channel received, in order: data and window changes. */
  received: string[]
  channel: Promise<ServerChannel>
}

function connectedPair(): {client: Promise<ssh2.Client>; node: NodeSide; close(): void} {
  const [clientEnd, serverEnd] = duplexPair()
  const received: string[] = []
  let gotChannel!: (channel: ServerChannel) => void
  const channel = new Promise<ServerChannel>((resolve) => (gotChannel = resolve))
  const server = new ssh2.Server({hostKeys: [generateKeyPair().privateKey]}, (conn) => {
    conn.on('authentication', (ctx) => ctx.accept())
    conn.on('session', (accept) => {
      const session = accept()
      session.on('pty', (ok) => ok?.())
      session.on('window-change', (ok, _reject, info) => {
        received.push(`resize ${info.cols}x${info.rows}`)
        ok?.()
      })
      session.on('shell', (ok) => {
        const shell = ok()
        shell.on('data', (bytes: Buffer) => received.push(`data ${bytes.toString()}`))
        gotChannel(shell)
      })
    })
  })
  server.injectSocket(serverEnd as never)
  const client = new Promise<ssh2.Client>((resolve, reject) => {
    const c = new ssh2.Client()
    c.once('ready', () => resolve(c))
    c.once('error', reject)
    c.connect({sock: clientEnd as never, username: 'alice', readyTimeout: 20_000})
  })
  return {client, node: {received, channel}, close: () => void client.then((c) => c.end())}
}

function openShell(client: ssh2.Client): Promise<ClientChannel> {
  return new Promise((resolve, reject) => client.shell({cols: 80, rows: 24, term: 'xterm'}, (err, channel) => (err ? reject(err) : resolve(channel))))
}

describe('remoteProgramOnceOpen', () => {
  const opened: {close(): void}[] = []
  after(() => opened.forEach((pair) => pair.close()))

  test('input and a resize before the node\'s channel opens reach it once it does; output and the exit come back', async () => {
    const pair = connectedPair()
    opened.push(pair)
    let open!: (channel: ClientChannel) => void
    const program = remoteProgramOnceOpen(new Promise<ClientChannel>((resolve) => (open = resolve)), true)
    const output: string[] = []
    let exit: SessionExit | undefined
    program.onOutput((bytes) => output.push(bytes.toString()))
    program.onExit((e) => (exit = e))
    assert.equal(program.write(Buffer.from('typed-early')), false, 'the writer waits until the channel is there')
    let writable = false
    program.onceWritable(() => (writable = true))
    program.resize({cols: 100, rows: 30})
    assert.equal(writable, false)

    open(await openShell(await pair.client))
    const nodeChannel = await pair.node.channel
    await eventually(() => pair.node.received.length === 2, 'the early input and resize at the node')
    // (ssh2 emits a channel's data a tick after a request, so the node's view cannot tell their order.)
    assert.deepEqual([...pair.node.received].sort(), ['data typed-early', 'resize 100x30'])
    assert.equal(writable, true)
    nodeChannel.write('hello from the node')
    await eventually(() => output.join('') === 'hello from the node', 'the node\'s output')
    nodeChannel.exit(3)
    nodeChannel.close()
    await eventually(() => exit, 'the exit')
    assert.deepEqual(exit, {code: 3})
  })

  test('a node that refuses the channel ends the session with exit status 255 and its reason', async () => {
    const program = remoteProgramOnceOpen(Promise.reject(new Error('administratively prohibited')), true)
    const exit = await new Promise<SessionExit>((resolve) => program.onExit(resolve))
    assert.deepEqual(exit, {code: 255, startError: 'administratively prohibited'})
  })
})
