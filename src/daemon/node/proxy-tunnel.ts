import type {Duplex} from 'node:stream'
import ssh2 from 'ssh2'
import type {ClientChannel} from 'ssh2'
import {ALPN_REVERSE_TUNNEL, dialAlpn} from '../../api/alpn.js'
import type {ConnectionHandler} from '../../lib/net/connection.js'
import {formatHostPort, type HostPort} from '../../config/index.js'
import {verifyCert} from '../../sshca/index.js'
import {CERT_HOST_KEY_ALGORITHMS, withHostKeyAlgorithms} from '../../ssh/index.js'
import {decodeDiscovery, DISCOVERY_SUBSYSTEM, MAX_DISCOVERY_LINE, TUNNEL_BIND, TUNNEL_KEEPALIVE_MAX_MISSES, TUNNEL_KEEPALIVE_MS, type DiscoveredProxy} from '../common/reverse-tunnel.js'

// One reverse tunnel connection to a proxy (common/reverse-tunnel.ts has the contract): dialled,
// the proxy's host certificate checked (which also says which proxy it is: behind a load balancer
// the node cannot tell from the address), then, if the agent keeps it, activated: the proxy is
// asked to route this node's connections over it and the discovery channel is read.

const CONNECT_TIMEOUT_MS = 15_000

/** A dialled tunnel as the agent sees it (tunnel-agent.ts); tests stand in for it. */
export interface TunnelLink {
  /** The proxy's host id, from its host certificate. */
  proxyId: string
  /** The address dialled, for logs. */
  addr: string
  /** Has the proxy route connections to this node over the tunnel, and reads the proxies it announces. */
  activate(onDiscovery: (proxies: DiscoveredProxy[]) => void): Promise<void>
  openAuthChannel(): Promise<Duplex>
  close(): void
  /** `listener` runs once when the connection ends. */
  onClose(listener: () => void): void
}

export interface ProxyTunnelContext {
  identity: {privateKey: string; certificate: string}
  hostUuid: string
  clusterName: string
  hostCAs: () => string[]
  tunnelAddress: (webAddr: HostPort) => Promise<{addr: HostPort; tlsRouting: boolean}>
  handler: ConnectionHandler
}

/** Dials the tunnel of the proxy at web address `webAddr`; resolves once the proxy is authenticated. */
export async function dialProxyTunnel(webAddr: HostPort, context: ProxyTunnelContext): Promise<TunnelLink> {
  const {addr, tlsRouting} = await context.tunnelAddress(webAddr)
  const sock = tlsRouting ? await dialAlpn(addr, ALPN_REVERSE_TUNNEL, CONNECT_TIMEOUT_MS) : undefined
  const where = formatHostPort(addr)
  const client = new ssh2.Client()
  let proxyId = ''
  let refusal: Error | undefined
  const closeListeners: Array<() => void> = []
  let ended = false
  client.on('error', () => {}) // the first one before ready fails the dial; any other ends in the close that follows
  client.once('close', () => {
    ended = true
    for (const listener of closeListeners.splice(0)) listener()
  })
  client.on('tcp connection', (details, accept) => {
    const stream = accept()
    stream.on('error', () => {}) // the node's SSH server takes it from here
    context.handler.handle({stream: stream as unknown as Duplex, local: {host: TUNNEL_BIND.host, port: TUNNEL_BIND.port}, remote: {host: details.srcIP, port: details.srcPort}})
  })
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => {
      client.removeListener('ready', ready)
      reject(refusal ?? err)
    }
    const ready = () => {
      client.removeListener('error', fail)
      client.removeListener('close', closed)
      resolve()
    }
    const closed = () => fail(new Error('the proxy closed the connection'))
    client.once('error', fail)
    client.once('close', closed)
    client.once('ready', ready)
    client.connect({
      host: addr.host,
      port: addr.port,
      ...(sock ? {sock} : {}),
      username: context.hostUuid,
      privateKey: context.identity.privateKey,
      certificate: context.identity.certificate,
      readyTimeout: CONNECT_TIMEOUT_MS,
      keepaliveInterval: TUNNEL_KEEPALIVE_MS,
      keepaliveCountMax: TUNNEL_KEEPALIVE_MAX_MISSES,
      algorithms: withHostKeyAlgorithms([...CERT_HOST_KEY_ALGORITHMS]),
      hostVerifier: (key: Buffer) => {
        try {
          const cert = verifyCert(key, {type: 'host', trustedCAs: context.hostCAs()})
          if (cert.hostRole !== 'Proxy') throw new Error(`the server at ${where} is a ${cert.hostRole ?? 'role-less'} host, not a proxy`)
          proxyId = cert.keyId
          return true
        } catch (err) {
          refusal = err as Error
          return false
        }
      },
    } as ssh2.ConnectConfig)
  })

  return {
    proxyId,
    addr: where,
    activate: (onDiscovery) =>
      new Promise((resolve, reject) => {
        client.forwardIn(TUNNEL_BIND.host, TUNNEL_BIND.port, (err) => {
          if (err) return reject(new Error(`the proxy at ${where} refused the tunnel: ${err.message}`))
          readDiscovery(client, context.clusterName, onDiscovery)
          resolve()
        })
      }),
    openAuthChannel: () =>
      new Promise((resolve, reject) => {
        if (ended) return reject(new Error(`the reverse tunnel to ${where} is down`))
        client.subsys(`proxy:@${context.clusterName}`, (err, channel: ClientChannel) => {
          if (err) return reject(new Error(`the proxy at ${where} refused the auth API channel: ${err.message}`))
          resolve(channel as unknown as Duplex)
        })
      }),
    close: () => client.end(),
    onClose: (listener) => (ended ? listener() : closeListeners.push(listener)),
  }
}

/** The proxy's discovery channel, one message per line; a proxy without one is simply not asked again. */
function readDiscovery(client: ssh2.Client, clusterName: string, onDiscovery: (proxies: DiscoveredProxy[]) => void): void {
  client.subsys(DISCOVERY_SUBSYSTEM, (err, channel: ClientChannel) => {
    if (err) return
    let buffered = ''
    channel.on('error', () => {})
    channel.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8')
      let newline
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const proxies = decodeDiscovery(buffered.slice(0, newline), clusterName)
        buffered = buffered.slice(newline + 1)
        if (proxies) onDiscovery(proxies)
      }
      if (buffered.length > MAX_DISCOVERY_LINE) channel.close()
    })
  })
}
