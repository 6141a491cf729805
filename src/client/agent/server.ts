import {chmodSync, rmSync} from 'node:fs'
import net from 'node:net'
import {Duplex} from 'node:stream'
import {listenOn} from '../../lib/net/listen-on.js'
import {
  MessageReader,
  SSH2_AGENTC_REQUEST_IDENTITIES,
  SSH2_AGENTC_SIGN_REQUEST,
  SSH_AGENT_FAILURE,
  decodeSignRequest,
  encodeIdentitiesAnswer,
  encodeSignResponse,
  frame,
  type AgentIdentity,
} from './protocol.js'

// An ssh-agent socket served from a keyring in memory: lists identities and signs with them.
// Adding, removing, locking and extensions are refused (SSH_AGENT_FAILURE), and no request can
// read a private key back out: the protocol has no such message.

export interface Keyring {
  identities(): AgentIdentity[]
  /** The SSH signature blob, or undefined when the blob is not one of ours. */
  sign(blob: Buffer, data: Buffer, flags: number): Buffer | undefined
}

export interface AgentServer {
  socketPath: string
  close(): Promise<void>
}

export async function serveAgent(socketPath: string, keyring: Keyring): Promise<AgentServer> {
  const connections = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    connections.add(socket)
    socket.on('close', () => connections.delete(socket))
    socket.on('error', () => socket.destroy())
    const agent = agentStream(keyring)
    agent.on('error', () => socket.destroy())
    socket.pipe(agent).pipe(socket)
  })
  await listenOn(server, {path: socketPath})
  // The directory is 0700 already; the socket itself is for its owner only as well.
  chmodSync(socketPath, 0o600)
  return {
    socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.destroy()
        server.close(() => {
          rmSync(socketPath, {force: true})
          resolve()
        })
      }),
  }
}

/**
 * The agent as a stream: requests written to it are answered on its readable side. A socket
 * (serveAgent) or a forwarded agent channel (tsh ssh -A) is piped through it; a malformed frame
 * destroys it with an error.
 */
export function agentStream(keyring: Keyring): Duplex {
  const reader = new MessageReader()
  const stream: Duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      let messages
      try {
        messages = reader.push(chunk)
      } catch (err) {
        return callback(err as Error)
      }
      for (const m of messages) stream.push(answer(keyring, m.type, m.body))
      callback()
    },
    final(callback) {
      stream.push(null)
      callback()
    },
  })
  return stream
}

function answer(keyring: Keyring, type: number, body: Buffer): Buffer {
  try {
    if (type === SSH2_AGENTC_REQUEST_IDENTITIES) return encodeIdentitiesAnswer(keyring.identities())
    if (type === SSH2_AGENTC_SIGN_REQUEST) {
      const {blob, data, flags} = decodeSignRequest(body)
      const signature = keyring.sign(blob, data, flags)
      if (signature) return encodeSignResponse(signature)
    }
  } catch {
    // a malformed request gets a failure, like any other refusal
  }
  return frame(SSH_AGENT_FAILURE)
}
