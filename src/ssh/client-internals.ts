import type {Client, ClientChannel} from 'ssh2'

// What tsh needs that ssh2 1.17.0's client API does not offer, done with the same internal calls
// ssh2 itself makes (the version is pinned in package.json): a session channel that only asks for
// agent forwarding (auth-agent-req@openssh.com) and runs nothing. ssh2 sends that request only
// as the first step of exec/shell/sftp.

interface ClientInternals {
  _protocol: {
    session(chan: number, initWindow: number, maxPacket: number): void
    openssh_agentForward(chan: number, wantReply: boolean): void
  }
  _chanMgr: {add(handler: unknown): number}
  _agentFwdEnabled: boolean
  _agent?: unknown
}

interface ChannelInternals {
  outgoing: {id: number}
  _callbacks: ((failed: boolean) => void)[]
}

const MAX_WINDOW = 2 * 1024 * 1024
const PACKET_SIZE = 32 * 1024

/**
 * Opens a session channel and asks for agent forwarding on it; resolves with the channel once the
 * server agreed (from then on ssh2 answers the server's auth-agent@openssh.com channels with the
 * client's agent), rejects when it refused. The channel runs nothing; closing it ends it.
 */
export function openAgentOnlySession(client: Client): Promise<ClientChannel> {
  const internals = client as unknown as ClientInternals
  return new Promise((resolve, reject) => {
    if (internals._agent === undefined) return reject(new Error('the connection has no agent to forward'))
    const opened = (err: Error | undefined, channel: ClientChannel) => {
      if (err) return reject(err)
      const c = channel as unknown as ChannelInternals
      // As ssh2's own request: agent channels are accepted while the request is pending.
      internals._agentFwdEnabled = true
      c._callbacks.push((failed) => {
        if (!failed) return resolve(channel)
        internals._agentFwdEnabled = false
        channel.close()
        reject(new Error('the server refused agent forwarding'))
      })
      internals._protocol.openssh_agentForward(c.outgoing.id, true)
    }
    const id = internals._chanMgr.add(Object.assign(opened, {type: 'session'}))
    if (id === -1) return reject(new Error('no free channels available'))
    internals._protocol.session(id, MAX_WINDOW, PACKET_SIZE)
  })
}
