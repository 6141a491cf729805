import assert from 'node:assert/strict'
import type {Duplex} from 'node:stream'
import {describe, test} from 'node:test'
import type {DiscoveredProxy} from '../../../../src/daemon/common/reverse-tunnel.js'
import type {TunnelLink} from '../../../../src/daemon/node/proxy-tunnel.js'
import {ReverseTunnelAgent, retryDelay} from '../../../../src/daemon/node/tunnel-agent.js'
import {FakeClock} from '../../../../src/lib/clock.js'
import type {HostPort} from '../../../../src/config/index.js'
import {eventually} from '../../../helpers/eventually.js'
import {memoryLogger} from '../../../helpers/memory-logger.js'

// The agent's decisions, with the tunnels stood in for: which proxy each dial lands on is the
// test's to say (as a load balancer would decide), and time moves on a FakeClock.

const LB = {host: 'proxies.example', port: 3080}

class FakeLink implements TunnelLink {
  closed = false
  announce: ((proxies: DiscoveredProxy[]) => void) | undefined
  private readonly listeners: Array<() => void> = []
  constructor(
    readonly proxyId: string,
    readonly dialled: HostPort,
  ) {}
  get addr(): string {
    return `${this.dialled.host}:${this.dialled.port}`
  }
  async activate(onDiscovery: (proxies: DiscoveredProxy[]) => void): Promise<void> {
    this.announce = onDiscovery
  }
  async openAuthChannel(): Promise<Duplex> {
    throw new Error('not used')
  }
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const l of this.listeners.splice(0)) l()
  }
  onClose(listener: () => void): void {
    if (this.closed) listener()
    else this.listeners.push(listener)
  }
}

/** An agent whose dials land where `landings` says, in order ("down": the dial fails). */
function agentWith(landings: string[], proxies: HostPort[] = [LB]) {
  const clock = new FakeClock()
  const log = memoryLogger()
  const links: FakeLink[] = []
  const dialled: string[] = []
  const agent = new ReverseTunnelAgent({
    identity: {privateKey: '', certificate: ''},
    hostUuid: 'node-1',
    clusterName: 'example',
    hostCAs: () => [],
    tunnelAddress: async () => ({addr: LB, tlsRouting: false}),
    handler: {handle: () => {}},
    proxies,
    log,
    clock,
    random: () => 0.5,
    dial: async (addr) => {
      dialled.push(`${addr.host}:${addr.port}`)
      const to = landings.shift()
      if (!to || to === 'down') throw new Error('connection refused')
      const link = new FakeLink(to, addr)
      links.push(link)
      return link
    },
  })
  const live = (id: string) => links.find((l) => l.proxyId === id && !l.closed)
  return {agent, clock, log, links, dialled, live}
}

const set = (...ids: string[]): DiscoveredProxy[] => ids.map((id) => ({id, hostname: id, addr: 'proxies.example:3080'}))

describe('reverse tunnel agent: one tunnel per proxy', () => {
  test('given one balanced address, it closes the tunnels that land on a proxy it has and tries again until it has every proxy announced', async () => {
    const {agent, clock, links, live, dialled} = agentWith(['a', 'a', 'a', 'b'])
    agent.start()
    await eventually(() => agent.connected === 1, 'the first tunnel')
    assert.deepEqual(agent.proxies(), ['a'])
    live('a')!.announce!(set('a', 'b'))
    // Each landing on "a" again is closed and the next try waits longer: first 500 ms, then 1 s (jitter fixed at half).
    await clock.advanceAsync(retryDelay(0, {}, () => 0.5))
    assert.equal(links.length, 2)
    assert.equal(links[1]!.closed, true, 'the extra tunnel to "a" is closed')
    await clock.advanceAsync(retryDelay(1, {}, () => 0.5) - 1)
    assert.equal(links.length, 2, 'no retry before its back-off')
    await clock.advanceAsync(1)
    assert.equal(links[2]!.closed, true)
    await clock.advanceAsync(retryDelay(2, {}, () => 0.5))
    await eventually(() => agent.connected === 2, 'the tunnel to "b"')
    assert.deepEqual(agent.proxies(), ['a', 'b'])
    assert.deepEqual(dialled, Array(4).fill('proxies.example:3080'))
    // Nothing more to seek: time passing dials nothing.
    await clock.advanceAsync(10 * 60_000)
    assert.equal(links.length, 4)
    await agent.close()
  })

  test("a proxy announced with its own address is dialled there first, then at the node's given addresses", async () => {
    const {agent, clock, dialled, live} = agentWith(['a', 'down', 'b'])
    agent.start()
    await eventually(() => agent.connected === 1, 'the first tunnel')
    live('a')!.announce!([...set('a'), {id: 'b', hostname: 'b', addr: 'proxy-b.example:3080'}])
    await clock.advanceAsync(retryDelay(0, {}, () => 0.5))
    await clock.advanceAsync(retryDelay(1, {}, () => 0.5))
    await eventually(() => agent.connected === 2, 'the tunnel to "b"')
    assert.deepEqual(dialled, ['proxies.example:3080', 'proxy-b.example:3080', 'proxies.example:3080'])
    await agent.close()
  })

  test('a proxy that leaves the set is dropped and not sought again; one that joins it is sought', async () => {
    const {agent, clock, log, links, live} = agentWith(['a', 'b', 'c'])
    agent.start()
    await eventually(() => agent.connected === 1, 'the first tunnel')
    live('a')!.announce!(set('a', 'b'))
    await clock.advanceAsync(retryDelay(0, {}, () => 0.5))
    await eventually(() => agent.connected === 2, 'the tunnel to "b"')
    live('a')!.announce!(set('a'))
    assert.equal(links.find((l) => l.proxyId === 'b')!.closed, true)
    assert.deepEqual(agent.proxies(), ['a'])
    assert.ok(log.lines.some((l) => /Proxy b is no longer in the cluster; closing its reverse tunnel\./.test(l)))
    await clock.advanceAsync(10 * 60_000)
    assert.equal(links.length, 2, 'b is not sought again')
    live('a')!.announce!(set('a', 'c'))
    await clock.advanceAsync(retryDelay(0, {}, () => 0.5))
    await eventually(() => agent.connected === 2, 'the tunnel to "c"')
    assert.deepEqual(agent.proxies(), ['a', 'c'])
    await agent.close()
  })

  test("proxies that have not read each other's records yet do not make the node drop one: the set is what they announce together", async () => {
    const {agent, clock, links, live} = agentWith(['b', 'a'])
    agent.start()
    await eventually(() => agent.connected === 1, 'the first tunnel')
    live('b')!.announce!(set('b', 'a'))
    await clock.advanceAsync(retryDelay(0, {}, () => 0.5))
    await eventually(() => agent.connected === 2, 'the tunnel to "a"')
    // "a" started first and has not seen "b" yet.
    live('a')!.announce!(set('a'))
    assert.deepEqual(agent.proxies(), ['a', 'b'])
    // "b" stops: its own view goes with its tunnel, and once "a" no longer lists it, it is not sought.
    live('a')!.announce!(set('a'))
    live('b')!.close()
    await clock.advanceAsync(10 * 60_000)
    assert.deepEqual(agent.proxies(), ['a'])
    assert.equal(links.length, 2)
    await agent.close()
  })

  test('seeking one proxy and landing on another it lacks, it keeps that tunnel and goes on seeking', async () => {
    const {agent, clock, live} = agentWith(['a', 'c', 'b'])
    agent.start()
    await eventually(() => agent.connected === 1, 'the first tunnel')
    live('a')!.announce!(set('a', 'b'))
    await clock.advanceAsync(retryDelay(0, {}, () => 0.5))
    await eventually(() => agent.connected === 2, 'the tunnel to "c"')
    await clock.advanceAsync(retryDelay(0, {}, () => 0.5))
    await eventually(() => agent.connected === 3, 'the tunnel to "b"')
    assert.deepEqual(agent.proxies(), ['a', 'b', 'c'])
    await agent.close()
  })

  test('a tunnel that drops is sought again: through the set when proxies announce one, else at the address it was dialled at', async () => {
    const announced = agentWith(['a', 'b', 'down', 'b'])
    announced.agent.start()
    await eventually(() => announced.agent.connected === 1, 'the first tunnel')
    announced.live('a')!.announce!(set('a', 'b'))
    await announced.clock.advanceAsync(retryDelay(0, {}, () => 0.5))
    await eventually(() => announced.agent.connected === 2, 'the tunnel to "b"')
    announced.live('b')!.close()
    assert.match(announced.log.lines.join('\n'), /Reverse tunnel to proxy b \(proxies\.example:3080\) closed; reconnecting\./)
    await announced.clock.advanceAsync(retryDelay(0, {}, () => 0.5))
    await eventually(() => announced.log.lines.some((l) => /cannot open a reverse tunnel to proxy b via proxies\.example:3080: connection refused; retrying/.test(l)), 'the failed attempt')
    await announced.clock.advanceAsync(retryDelay(1, {}, () => 0.5))
    await eventually(() => announced.agent.connected === 2, '"b" back')
    await announced.agent.close()

    const silent = agentWith(['a', 'b', 'b'], [{host: 'a.example', port: 3080}, {host: 'b.example', port: 3080}])
    silent.agent.start()
    await eventually(() => silent.agent.connected === 2, 'both tunnels')
    silent.live('b')!.close()
    await silent.clock.advanceAsync(retryDelay(0, {}, () => 0.5))
    await eventually(() => silent.agent.connected === 2, '"b" back')
    assert.deepEqual(silent.dialled, ['a.example:3080', 'b.example:3080', 'b.example:3080'])
    await silent.agent.close()
  })
})
