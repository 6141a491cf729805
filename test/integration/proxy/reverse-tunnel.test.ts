import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'
import {ReverseTunnelAgent, retryDelay} from '../../../src/daemon/node/tunnel-agent.js'
import {LastGood} from '../../../src/daemon/common/last-good.js'
import {ReverseTunnelServer} from '../../../src/daemon/proxy/tunnel-server.js'
import {FakeClock} from '../../../src/lib/clock.js'
import type {HandedConnection} from '../../../src/lib/net/connection.js'
import {generateKeyPair, signHostCert} from '../../../src/sshca/index.js'
import {eventually} from '../../helpers/eventually.js'
import {memoryLogger} from '../../helpers/memory-logger.js'
import {tunnelRoundTrip} from './helpers.js'

// The reverse tunnel on its own: a node's agent dials the proxy's tunnel server (real sockets,
// host certificates both ways), the proxy opens channels to the node over it, and when the proxy
// goes away the agent comes back by itself after its back-off, which runs on a FakeClock.

const CLUSTER = 'tunnel.test'
const NODE_ID = '3f0e6f52-5b1a-4c61-9a57-1b2b9bb7a001'
const hostCA = generateKeyPair()
const otherCA = generateKeyPair()

function hostIdentity(role: 'Node' | 'Proxy', id: string, ca = hostCA) {
  const key = generateKeyPair()
  return {privateKey: key.privateKey, certificate: signHostCert({caPrivateKey: ca.privateKey, publicKey: key.publicKey, keyId: id, principals: [id], role, authority: CLUSTER})}
}

/** The node's SSH server stand-in: echoes every byte of every connection handed to it. */
const echo = {
  handed: [] as HandedConnection[],
  handle(conn: HandedConnection) {
    this.handed.push(conn)
    conn.stream.pipe(conn.stream)
  },
}

function startServer(port: number, identity = hostIdentity('Proxy', 'proxy-1')) {
  const log = memoryLogger()
  const server = new ReverseTunnelServer({
    identity,
    clusterName: CLUSTER,
    caKeys: new LastGood(async () => ({userCAs: [], hostCAs: [hostCA.publicKey], tlsUserCAs: []}), {what: 'CA keys', freshMs: 60_000}),
    pipeToAuth: async (channel) => void channel.end(),
    audit: () => {},
    log,
  })
  return {server, log, address: server.listen('127.0.0.1', port)}
}

const roundTrip = (server: ReverseTunnelServer, text: string) => tunnelRoundTrip(server, NODE_ID, text)

describe('reverse tunnel: agent and server', {timeout: 60_000}, () => {
  const clock = new FakeClock()
  const nodeLog = memoryLogger()
  let proxy: ReturnType<typeof startServer>
  let port: number
  let agent: ReverseTunnelAgent

  before(async () => {
    proxy = startServer(0)
    port = (await proxy.address).port
    agent = new ReverseTunnelAgent({
      identity: hostIdentity('Node', NODE_ID),
      hostUuid: NODE_ID,
      clusterName: CLUSTER,
      hostCAs: () => [hostCA.publicKey],
      proxies: [{host: 'proxy.example', port: 3080}],
      tunnelAddress: async () => ({addr: {host: '127.0.0.1', port}, tlsRouting: false}),
      handler: echo,
      log: nodeLog,
      clock,
      random: () => 0.5,
    })
    agent.start()
    await eventually(() => proxy.server.has(NODE_ID), 'the tunnel at the proxy')
  })
  after(async () => {
    await agent?.close()
    await proxy?.server.close()
  })

  test('the proxy reaches the node over its tunnel; the node is told the origin the proxy gives', async () => {
    assert.equal(await roundTrip(proxy.server, 'hello node'), 'hello node')
    assert.deepEqual(echo.handed.at(-1)!.remote, {host: '192.0.2.9', port: 4242})
    assert.equal(agent.connected, 1)
  })

  test('a node without a tunnel is answered with a reason, not a hang', async () => {
    await assert.rejects(proxy.server.dial('no-such-node', {host: '0.0.0.0', port: 0}), /no reverse tunnel to this proxy/)
  })

  test('the proxy restarted: the agent backs off on its clock and comes back by itself', async () => {
    await proxy.server.close()
    await eventually(() => agent.connected === 0, 'the agent to see the tunnel drop')
    // Nothing listens now: each attempt fails and the next waits longer, on the FakeClock only.
    for (let i = 0; i < 3; i++) await clock.advanceAsync(retryDelay(i + 1, {}, () => 0.5))
    await eventually(() => nodeLog.lines.some((l) => /cannot open a reverse tunnel to proxy proxy\.example:3080: .*retrying/.test(l)), 'the failed attempt logged')
    proxy = startServer(port)
    await proxy.address
    await eventually(async () => {
      await clock.advanceAsync(30_000)
      return proxy.server.has(NODE_ID)
    }, 'the tunnel back at the restarted proxy')
    assert.equal(await roundTrip(proxy.server, 'again'), 'again')
    assert.equal(nodeLog.lines.filter((l) => /Reverse tunnel to proxy proxy-1 \(127\.0\.0\.1:\d+\) is up/.test(l)).length, 2)
  })

  test('retry delays double up to the cap, with jitter between half and all of it', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelay(n, {}, () => 0.999999)), [1000, 2000, 4000, 8000, 16000, 30000, 30000])
    assert.deepEqual([1, 2, 6].map((n) => retryDelay(n, {}, () => 0)), [500, 1000, 15000])
  })

  test('the node refuses a proxy whose certificate is not from the cluster host CA; the proxy refuses a non-node', async () => {
    const impostor = startServer(0, hostIdentity('Proxy', 'impostor', otherCA))
    const impostorPort = (await impostor.address).port
    const log = memoryLogger()
    const stray = new ReverseTunnelAgent({
      identity: hostIdentity('Node', NODE_ID),
      hostUuid: NODE_ID,
      clusterName: CLUSTER,
      hostCAs: () => [hostCA.publicKey],
      proxies: [{host: 'impostor.example', port: 3080}],
      tunnelAddress: async () => ({addr: {host: '127.0.0.1', port: impostorPort}, tlsRouting: false}),
      handler: echo,
      log,
      clock: new FakeClock(),
    })
    stray.start()
    await eventually(() => log.lines.find((l) => /cannot open a reverse tunnel to proxy impostor\.example:3080/.test(l)), 'the refusal')
    assert.equal(impostor.server.has(NODE_ID), false)
    await stray.close()
    await impostor.server.close()

    const proxyLog = memoryLogger()
    const asProxy = new ReverseTunnelAgent({
      identity: hostIdentity('Proxy', 'not-a-node'),
      hostUuid: 'not-a-node',
      clusterName: CLUSTER,
      hostCAs: () => [hostCA.publicKey],
      proxies: [{host: 'proxy.example', port: 3080}],
      tunnelAddress: async () => ({addr: {host: '127.0.0.1', port}, tlsRouting: false}),
      handler: echo,
      log: proxyLog,
      clock: new FakeClock(),
    })
    asProxy.start()
    await eventually(() => proxyLog.lines.find((l) => /cannot open a reverse tunnel/.test(l)), 'the refusal of a proxy certificate')
    assert.equal(proxy.server.has('not-a-node'), false)
    await asProxy.close()
  })
})
