import type {Duplex} from 'node:stream'
import {TcpNodeDialer, type DialTarget, type NodeDialer} from './node-dialer.js'
import type {ReverseTunnelServer} from './tunnel-server.js'

// The proxy's dialer once it serves reverse tunnels: a node that announced itself as tunnelled
// is reached only over its tunnel (it may have no address at all, or one nobody can dial); every
// other target goes to the fallback, TCP by default.

export class TunnelNodeDialer implements NodeDialer {
  constructor(
    private readonly tunnels: Pick<ReverseTunnelServer, 'dial'>,
    private readonly fallback: NodeDialer = new TcpNodeDialer(),
  ) {}

  dial(target: DialTarget, options: {signal?: AbortSignal} = {}): Promise<Duplex> {
    if (target.node?.tunnel) return this.tunnels.dial(target.node.name, {host: '0.0.0.0', port: 0})
    return this.fallback.dial(target, options)
  }
}
