import type ssh2 from 'ssh2'
import {UserError} from '../../lib/errors.js'
import {joinHostPort} from '../../lib/net/ip.js'
import {ProxyRouteError} from './errors.js'

// The second hop's transport: the proxy's routing subsystem. `proxy:<host>:<port>@<cluster>`
// asks the proxy to find the node (by ID, name, address or labels) and relay raw bytes to it;
// the SSH session to the node then runs inside this stream, so the proxy sees only ciphertext.
// When the proxy cannot route (ambiguous host, unknown cluster, node unreachable) it writes the
// reason to the subsystem's stderr, exits with status 1 and closes the channel.

export type NodeChannel = ssh2.ClientChannel

/** How long to wait, after the stream ended early, for the proxy's exit status and reason. */
const REASON_GRACE_MS = 2_000

/**
 * `proxy:<host>:<port>@<cluster>`; port 0 means "the node's own port" (its registered address, or
 * 3022 when the proxy dials the host directly). IPv6 literals are bracketed.
 */
export function nodeSubsystem(host: string, port: number | undefined, cluster: string): string {
  return `proxy:${joinHostPort(host.replace(/^\[(.*)\]$/, '$1'), port ?? 0)}@${cluster}`
}

/** `proxy:@<cluster>`: a raw pipe to the cluster's auth API. */
export function authSubsystem(cluster: string): string {
  return `proxy:@${cluster}`
}

export class NodeStream {
  /** The proxy's stderr so far. */
  stderr = ''
  /** The subsystem's exit status, once the proxy sent one. */
  exitCode: number | undefined
  /** The channel has closed. */
  isClosed = false
  readonly closed: Promise<void>

  constructor(readonly channel: NodeChannel) {
    channel.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8')
    })
    channel.on('exit', (code: number | null) => {
      if (typeof code === 'number') this.exitCode = code
    })
    this.closed = new Promise<void>((resolve) =>
      channel.once('close', () => {
        this.isClosed = true
        resolve()
      }),
    )
  }

  /**
   * Why the stream failed, in the proxy's own words, when it did: called after the session over
   * it broke before it was established. Waits briefly for the channel to close.
   */
  async failure(): Promise<ProxyRouteError | undefined> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, REASON_GRACE_MS)))])
    clearTimeout(timer)
    if (this.stderr.trim()) return new ProxyRouteError(this.stderr)
    if (this.exitCode !== undefined && this.exitCode !== 0) return new ProxyRouteError(`error: the proxy could not route the connection (exit status ${this.exitCode})`)
    return undefined
  }
}

/** Opens a routing subsystem on the proxy connection. */
export function openSubsystem(proxyConn: ssh2.Client, name: string): Promise<NodeStream> {
  return new Promise((resolve, reject) => {
    try {
      proxyConn.subsys(name, (err, channel) => {
        if (err) return reject(new UserError(`the proxy refused the request "${name}": ${err.message}`))
        resolve(new NodeStream(channel))
      })
    } catch (err) {
      reject(new UserError(`the connection to the proxy is closed: ${(err as Error).message}`))
    }
  })
}

/** The stream to a node through the proxy (see nodeSubsystem). */
export function openNodeStream(proxyConn: ssh2.Client, host: string, port: number | undefined, cluster: string): Promise<NodeStream> {
  return openSubsystem(proxyConn, nodeSubsystem(host, port, cluster))
}
