import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'
import type {DiscoveredProxy, ProxyDiscovery} from '../../../src/daemon/common/reverse-tunnel.js'
import {LastGood} from '../../../src/daemon/common/last-good.js'
import {ReverseTunnelAgent, retryDelay} from '../../../src/daemon/node/tunnel-agent.js'
import {ReverseTunnelServer} from '../../../src/daemon/proxy/tunnel-server.js'
import {FakeClock} from '../../../src/lib/clock.js'
import type {HandedConnection} from '../../../src/lib/net/connection.js'
import {generateKeyPair, signHostCert} from '../../../src/sshca/index.js'
import {eventually} from '../../helpers/eventually.js'
import {memoryLogger} from '../../helpers/memory-logger.js'
import {tunnelRoundTrip} from './helpers.js'
import {startTcpBalancer, type TcpBalancer} from '../../helpers/tcp-balancer.js'

// Two proxies' tunnel servers behind one load-balanced address (a real TCP balancer, real SSH):
// the node is given only that address. The proxies tell it there are two of them (discovery on
// the tunnel); it keeps dialling the balancer, closing the tunnels that land on the proxy it
// already has, until it has one to each, and drops the one whose proxy leaves the set.

const CLUSTER = 'discovery.test'
const NODE_ID = '5d3c1f0e-7b2a-4d9e-8c61-2a1b3c4d5e6f'
const hostCA = generateKeyPair()

function hostIdentity(role: 'Node' | 'Proxy', id: string) {
  const key = generateKeyPair()
  return {privateKey: key.privateKey, certificate: signHostCert({caPrivateKey: hostCA.privateKey, publicKey: key.publicKey, keyId: id, principals: [id], role, authority: CLUSTER})}
}

/** What the proxies read from auth, as they would all read it: one set, changed by the test. */
class SharedProxySet implements ProxyDiscovery {
  private readonly listeners = new Set<() => void>()
  constructor(private proxies: DiscoveredProxy[]) {}
  current(): DiscoveredProxy[] {
    return this.proxies
  }
  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
  set(proxies: DiscoveredProxy[]): void {
    this.proxies = proxies
    for (const l of [...this.listeners]) l()
  }
}

const echo = {handle: (conn: HandedConnection) => conn.stream.pipe(conn.stream)}

const roundTrip = (server: ReverseTunnelServer, text: string) => tunnelRoundTrip(server, NODE_ID, text)

describe('reverse tunnel discovery behind a load balancer', {timeout: 60_000}, () => {
  const proxy = (id: string): DiscoveredProxy => ({id, hostname: id, addr: 'proxies.example:3080'})
  const discovery = new SharedProxySet([proxy('proxy-a'), proxy('proxy-b')])
  const clock = new FakeClock()
  const nodeLog = memoryLogger()
  const servers: Record<'a' | 'b', ReverseTunnelServer> = {} as never
  let balancer: TcpBalancer
  let agent: ReverseTunnelAgent

  before(async () => {
    const ports: number[] = []
    for (const name of ['a', 'b'] as const) {
      servers[name] = new ReverseTunnelServer({
        identity: hostIdentity('Proxy', `proxy-${name}`),
        clusterName: CLUSTER,
        caKeys: new LastGood(async () => ({userCAs: [], hostCAs: [hostCA.publicKey], tlsUserCAs: []}), {what: 'CA keys', freshMs: 60_000}),
        pipeToAuth: async (channel) => void channel.end(),
        audit: () => {},
        log: memoryLogger(),
        discovery,
      })
      ports.push((await servers[name].listen('127.0.0.1', 0)).port)
    }
    // A, A, B, ...: the node's second dial lands on the proxy it already has.
    balancer = await startTcpBalancer([ports[0]!, ports[0]!, ports[1]!])
    agent = new ReverseTunnelAgent({
      identity: hostIdentity('Node', NODE_ID),
      hostUuid: NODE_ID,
      clusterName: CLUSTER,
      hostCAs: () => [hostCA.publicKey],
      proxies: [{host: 'proxies.example', port: 3080}],
      tunnelAddress: async () => ({addr: {host: '127.0.0.1', port: balancer.port}, tlsRouting: false}),
      handler: echo,
      log: nodeLog,
      clock,
      random: () => 0.5,
    })
    agent.start()
  })
  after(async () => {
    await agent?.close()
    await servers.a?.close()
    await servers.b?.close()
    await balancer?.close()
  })

  test('the node ends up with one tunnel to each proxy, both reaching it', async () => {
    await eventually(() => servers.a.has(NODE_ID), 'the tunnel at proxy A')
    // Seeking B: the balancer picks A again; that tunnel is closed and the next try waits its back-off.
    await eventually(async () => {
      await clock.advanceAsync(retryDelay(1, {}, () => 0.5))
      return servers.b.has(NODE_ID)
    }, 'the tunnel at proxy B')
    assert.deepEqual(agent.proxies(), ['proxy-a', 'proxy-b'])
    assert.equal(balancer.picks.length, 3, 'A, A again (closed), then B')
    assert.equal(await roundTrip(servers.a, 'via a'), 'via a')
    assert.equal(await roundTrip(servers.b, 'via b'), 'via b')
    assert.equal(nodeLog.lines.filter((l) => /Reverse tunnel to proxy proxy-a \(127\.0\.0\.1:\d+\) is up\./.test(l)).length, 1)
  })

  test('a proxy that leaves the set is dropped; the node stays reachable through the other', async () => {
    discovery.set([proxy('proxy-a')])
    await eventually(() => !servers.b.has(NODE_ID), 'the tunnel at B closed')
    await servers.b.close()
    await clock.advanceAsync(5 * 60_000)
    assert.deepEqual(agent.proxies(), ['proxy-a'])
    assert.equal(balancer.picks.length, 3, 'B is not sought again')
    assert.equal(await roundTrip(servers.a, 'still'), 'still')
  })
})
