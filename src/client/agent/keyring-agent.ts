import ssh2 from 'ssh2'
import type {Duplex} from 'node:stream'
import {agentStream, type Keyring} from './server.js'

// A keyring in memory as an ssh2 agent object, with no socket: what `tsh ssh -A` forwards when
// no SSH agent runs (tsh's own key and certificate, as Teleport's tsh does). ssh2 asks for a
// stream when the node opens the agent channel; OpenSSHAgent's listing and signing run over the
// same stream, so only where the stream comes from is ours.

export class KeyringAgent extends ssh2.OpenSSHAgent {
  constructor(private readonly keyring: Keyring) {
    super('')
  }

  override getStream(cb: (err: Error | null, stream?: Duplex) => void): void {
    cb(null, agentStream(this.keyring))
  }
}
