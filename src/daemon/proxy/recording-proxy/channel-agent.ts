import type {Duplex} from 'node:stream'
import ssh2 from 'ssh2'
import type {Connection} from 'ssh2'
import {openAgentChannel} from '../../../ssh/server-internals.js'

// The user's forwarded agent, as the recording proxy uses it: every agent request (list keys,
// sign) opens an auth-agent@openssh.com channel back to the user's client, whose agent answers,
// and closes it. Nothing is kept: the proxy holds no key of the user's, only the connection the
// user forwarded the agent over, and the agent goes with that connection.

export class ForwardedChannelAgent extends ssh2.OpenSSHAgent {
  constructor(private readonly client: Connection) {
    super('')
  }

  override getStream(cb: (err: Error | undefined, stream?: Duplex) => void): void {
    openAgentChannel(this.client).then(
      (channel) => cb(undefined, channel),
      (err: Error) => cb(new Error(`the client refused to open its agent: ${err.message}`)),
    )
  }
}
