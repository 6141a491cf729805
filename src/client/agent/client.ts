import type {KeyObject} from 'node:crypto'
import net from 'node:net'
import {
  MessageReader,
  SSH2_AGENTC_REMOVE_ALL_IDENTITIES,
  SSH2_AGENTC_REQUEST_IDENTITIES,
  SSH2_AGENT_IDENTITIES_ANSWER,
  SSH2_AGENT_SIGN_RESPONSE,
  SSH_AGENT_SUCCESS,
  decodeIdentitiesAnswer,
  decodeSignResponse,
  encodeAddIdentity,
  encodeRemoveIdentity,
  encodeSignRequest,
  frame,
  type AgentIdentity,
  type AgentMessage,
  type Constraints,
} from './protocol.js'

// A client for any OpenSSH-compatible agent socket ($SSH_AUTH_SOCK). Written here because
// ssh2's agent client can list and sign but cannot add or remove keys. One connection,
// requests answered in order.

export class AgentError extends Error {
  constructor(message: string, options?: {cause?: unknown}) {
    super(message, options)
    this.name = 'AgentError'
  }
}

const TIMEOUT_MS = 15_000

export class AgentClient {
  private readonly reader = new MessageReader()
  private readonly waiting: {resolve: (m: AgentMessage) => void; reject: (e: Error) => void}[] = []
  private failure: Error | undefined

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      let messages: AgentMessage[]
      try {
        messages = this.reader.push(chunk)
      } catch (err) {
        this.fail(new AgentError(`the agent sent a malformed reply: ${(err as Error).message}`))
        return
      }
      for (const m of messages) this.waiting.shift()?.resolve(m)
    })
    socket.on('error', (err) => this.fail(new AgentError(`SSH agent connection failed: ${err.message}`, {cause: err})))
    socket.on('close', () => this.fail(new AgentError('the SSH agent closed the connection')))
  }

  static connect(socketPath: string): Promise<AgentClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(socketPath)
      const timer = setTimeout(() => socket.destroy(new Error('timed out')), TIMEOUT_MS)
      socket.once('error', (err) => {
        clearTimeout(timer)
        reject(new AgentError(`cannot reach the SSH agent at ${socketPath}: ${err.message}`, {cause: err}))
      })
      socket.once('connect', () => {
        clearTimeout(timer)
        socket.removeAllListeners('error')
        resolve(new AgentClient(socket))
      })
    })
  }

  private fail(err: Error): void {
    this.failure ??= err
    for (const w of this.waiting.splice(0)) w.reject(err)
  }

  private request(message: Buffer): Promise<AgentMessage> {
    if (this.failure) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new AgentError('the SSH agent did not answer')), TIMEOUT_MS)
      this.waiting.push({
        resolve: (m) => {
          clearTimeout(timer)
          resolve(m)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      })
      this.socket.write(message)
    })
  }

  private async expectSuccess(message: Buffer, what: string): Promise<void> {
    const reply = await this.request(message)
    if (reply.type !== SSH_AGENT_SUCCESS) throw new AgentError(`the SSH agent refused to ${what}`)
  }

  async list(): Promise<AgentIdentity[]> {
    const reply = await this.request(frame(SSH2_AGENTC_REQUEST_IDENTITIES))
    if (reply.type !== SSH2_AGENT_IDENTITIES_ANSWER) throw new AgentError('the SSH agent refused to list its keys')
    return decodeIdentitiesAnswer(reply.body)
  }

  /** Adds an Ed25519 key, as a certificate identity when certificateBlob is given. */
  add(opts: {privateKey: KeyObject; certificateBlob?: Buffer; comment: string; constraints?: Constraints}): Promise<void> {
    return this.expectSuccess(encodeAddIdentity(opts), 'add the key')
  }

  remove(blob: Buffer): Promise<void> {
    return this.expectSuccess(encodeRemoveIdentity(blob), 'remove the key')
  }

  removeAll(): Promise<void> {
    return this.expectSuccess(frame(SSH2_AGENTC_REMOVE_ALL_IDENTITIES), 'remove all keys')
  }

  async sign(blob: Buffer, data: Buffer, flags = 0): Promise<Buffer> {
    const reply = await this.request(encodeSignRequest(blob, data, flags))
    if (reply.type !== SSH2_AGENT_SIGN_RESPONSE) throw new AgentError('the SSH agent refused to sign')
    return decodeSignResponse(reply.body)
  }

  close(): void {
    this.failure ??= new AgentError('closed')
    this.socket.destroy()
  }
}

/** Opens a connection, runs `fn`, always closes. */
export async function withAgent<T>(socketPath: string, fn: (agent: AgentClient) => Promise<T>): Promise<T> {
  const agent = await AgentClient.connect(socketPath)
  try {
    return await fn(agent)
  } finally {
    agent.close()
  }
}
