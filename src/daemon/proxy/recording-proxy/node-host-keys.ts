import ssh2 from 'ssh2'
import type {ProxyAuthApi} from '../../../api/auth-api.js'
import type {Clock} from '../../../lib/clock.js'
import {generateKeyPair, parseCert} from '../../../sshca/index.js'
import {certifiedHostKey} from '../../../ssh/index.js'

// The host keys the recording proxy presents as each node's: one key made here (it never leaves
// the proxy) and a certificate auth issues for the node's names on it, kept per node until a
// quarter of its life is left. ssh2 fixes a server's host keys when it is made, so what is kept is
// an ssh2 Server per node, made with that certificate.

/** Renew a certificate when less than this share of its life is left. */
const RENEW_AT_REMAINING = 0.25

interface Entry {
  server: ssh2.Server
  renewAt: number
}

export class NodeHostServers {
  private readonly entries = new Map<string, Promise<Entry>>()
  private readonly key = generateKeyPair()

  constructor(
    private readonly api: Pick<ProxyAuthApi, 'signNodeHostCertForProxy'>,
    private readonly clock: Clock,
    private readonly onConnection: (client: ssh2.Connection, nodeName: string) => void,
  ) {}

  /** The SSH server presenting node `name`'s host certificate (issued by auth on first use, then renewed). */
  async server(name: string): Promise<ssh2.Server> {
    const cached = this.entries.get(name)
    if (cached) {
      const entry = await cached.catch(() => undefined)
      if (entry && entry.renewAt > this.clock.now().getTime()) return entry.server
    }
    const made = this.make(name)
    this.entries.set(name, made)
    made.catch(() => this.entries.delete(name)) // auth refused or was away: ask again next time
    return (await made).server
  }

  private async make(name: string): Promise<Entry> {
    const {certificate} = await this.api.signNodeHostCertForProxy(name, this.key.publicKey)
    const cert = parseCert(certificate)
    const from = cert.validAfter.getTime()
    const to = cert.validBefore?.getTime() ?? from + 3600_000
    const server = new ssh2.Server({hostKeys: [certifiedHostKey({privateKey: this.key.privateKey, certificate})], ident: 'Teleport'}, (client) => this.onConnection(client, name))
    server.on('error', () => {})
    return {server, renewAt: to - (to - from) * RENEW_AT_REMAINING}
  }
}
