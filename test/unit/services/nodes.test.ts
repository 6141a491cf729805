import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {BadParameterError, NotFoundError} from '../../../src/lib/errors.js'
import {nodeLabels, NodeService, type NodeRecord} from '../../../src/services/nodes.js'
import {MemoryBackend} from '../../../src/backend/index.js'
import {FakeClock} from '../../../src/lib/clock.js'
import {MINUTE, setup} from './helpers.js'
import {eventually} from '../../helpers/eventually.js'

function node(name: string, hostname: string, extra: Partial<NodeRecord> = {}): NodeRecord {
  return {name, hostname, addr: `${hostname}:3022`, labels: {env: 'test'}, cmdLabels: {}, version: '0.1.0', ...extra}
}

function service() {
  const {clock, backend} = setup()
  return {clock, backend, nodes: new NodeService(backend, {clock})}
}

describe('NodeService', () => {
  test('upsert, get, list sorted by hostname', async () => {
    const {nodes, clock} = service()
    const b = await nodes.upsertNode(node('uuid-2', 'beta'))
    assert.equal(b.expires!.getTime() - clock.now().getTime(), 10 * MINUTE)
    await nodes.upsertNode(node('uuid-1', 'alpha', {cmdLabels: {arch: {command: ['uname', '-p'], period: '1h', result: 'x86_64'}}}))
    assert.deepEqual(
      (await nodes.listNodes()).map((n) => n.hostname),
      ['alpha', 'beta'],
    )
    const a = await nodes.getNode('uuid-1')
    assert.deepEqual(a.cmdLabels, {arch: {command: ['uname', '-p'], period: '1h', result: 'x86_64'}})
    assert.deepEqual(nodeLabels(a), {env: 'test', arch: 'x86_64'})
  })

  test('upsert replaces the record and renews it', async () => {
    const {nodes, clock} = service()
    await nodes.upsertNode(node('uuid-1', 'alpha'))
    clock.advance(9 * MINUTE)
    await nodes.upsertNode(node('uuid-1', 'alpha', {labels: {env: 'prod'}}))
    clock.advance(9 * MINUTE)
    assert.deepEqual((await nodes.getNode('uuid-1')).labels, {env: 'prod'})
    assert.equal((await nodes.listNodes()).length, 1)
  })

  test('a node that stops announcing disappears after 10 minutes', async () => {
    const {nodes, clock} = service()
    await nodes.upsertNode(node('uuid-1', 'alpha'))
    clock.advance(10 * MINUTE - 1)
    assert.equal((await nodes.listNodes()).length, 1)
    clock.advance(1)
    assert.deepEqual(await nodes.listNodes(), [])
    await assert.rejects(nodes.getNode('uuid-1'), NotFoundError)
  })

  test('keepAlive extends the expiry; an expired node must announce again', async () => {
    const {nodes, clock} = service()
    await nodes.upsertNode(node('uuid-1', 'alpha'))
    for (let i = 0; i < 5; i++) {
      clock.advance(MINUTE * 8)
      const expires = await nodes.keepAlive('uuid-1')
      assert.equal(expires.getTime() - clock.now().getTime(), 10 * MINUTE)
    }
    assert.equal((await nodes.listNodes()).length, 1)
    clock.advance(10 * MINUTE)
    await assert.rejects(nodes.keepAlive('uuid-1'), NotFoundError)
    await assert.rejects(nodes.keepAlive('never-seen'), NotFoundError)
  })

  test('a shorter TTL may be given', async () => {
    const {nodes, clock} = service()
    await nodes.upsertNode(node('uuid-1', 'alpha'), {ttlMs: MINUTE})
    clock.advance(MINUTE)
    assert.deepEqual(await nodes.listNodes(), [])
  })

  test('delete', async () => {
    const {nodes} = service()
    await nodes.upsertNode(node('uuid-1', 'alpha'))
    await nodes.deleteNode('uuid-1')
    assert.deepEqual(await nodes.listNodes(), [])
    await assert.rejects(nodes.deleteNode('uuid-1'), NotFoundError)
  })

  test('refuses malformed records', async () => {
    const {nodes} = service()
    await assert.rejects(nodes.upsertNode(node('a/b', 'x')), BadParameterError)
    await assert.rejects(nodes.upsertNode(node('u', '')), /hostname must not be empty/)
    await assert.rejects(nodes.upsertNode(node('u', 'x', {labels: {env: 1 as unknown as string}})), /labels.env must be a string/)
    await assert.rejects(nodes.upsertNode(node('u', 'x', {cmdLabels: {arch: {command: 'uname'} as never}})), /cmdLabels.arch/)
  })

  test('refuses hostnames and labels that could drive a terminal or forge a log line', async () => {
    const {nodes} = service()
    const refused = async (record: NodeRecord, message: RegExp) => assert.rejects(nodes.upsertNode(record), (err: unknown) => err instanceof BadParameterError && message.test(err.message))
    await refused(node('u', 'evil\x1b[2J\x1b[H'), /^node "u": invalid hostname "evil\\u001b\[2J\\u001b\[H": use at most 253 letters, digits and - \. _$/)
    await refused(node('u', 'a b'), /invalid hostname/)
    await refused(node('u', 'x'.repeat(10_000)), new RegExp(`^node "u": invalid hostname "${'x'.repeat(80)}\\.\\.\\.": `))
    await refused(node('u', 'n', {labels: {'bad key': 'v'}}), /^node "u": invalid label key "bad key"/)
    await refused(node('u', 'n', {labels: {env: 'prod\n2026-01-01 INFO [AUTH] x'}}), /^node "u": invalid value for label "env": use at most 1024 printable characters, without control characters$/)
    await refused(node('u', 'n', {labels: {env: 'a\u202eb'}}), /invalid value for label "env"/)
    await refused(node('u', 'n', {labels: {env: 'v'.repeat(1025)}}), /invalid value for label "env"/)
    await refused(node('u', 'n', {cmdLabels: {arch: {command: ['uname'], result: '\x9b2J'}}}), /invalid value for label "arch"/)
    await refused(node('u', 'n', {addr: '1.2.3.4:22\x1b'}), /addr must be printable text/)
    await refused(node('u', 'n', {labels: Object.fromEntries(Array.from({length: 129}, (_, i) => [`k${i}`, 'v']))}), /at most 128 labels/)
    assert.equal(await nodes.listNodes().then((l) => l.length), 0)
  })

  test('accepts DNS-like names and Teleport-style label keys with printable values', async () => {
    const {nodes} = service()
    await nodes.upsertNode(node('u', 'Node_1.example-2.com', {labels: {'teleport.dev/origin': 'cloud', 'a:b*': 'any text, é ⟵ = ok'}}))
    assert.equal((await nodes.getNode('u')).labels['a:b*'], 'any text, é ⟵ = ok')
  })

  test('tunnel nodes', async () => {
    const {nodes} = service()
    await nodes.upsertNode(node('uuid-1', 'alpha', {addr: '', tunnel: true}))
    assert.equal((await nodes.getNode('uuid-1')).tunnel, true)
  })

  test('a registered OpenSSH node never expires, is not created twice, and never replaces one of our nodes', async () => {
    const {nodes, clock} = service()
    await nodes.registerOpenSSHNode({name: 'sshd-1', hostname: 'sshd-1', addr: '10.0.0.5:22', labels: {env: 'lab'}}, {create: true})
    clock.advance(365 * 24 * 60 * MINUTE)
    const [listed] = await nodes.listNodes()
    assert.equal(listed!.subKind, 'openssh')
    assert.equal(listed!.expires, undefined)
    await assert.rejects(nodes.registerOpenSSHNode({name: 'sshd-1', hostname: 'sshd-1', addr: '10.0.0.6:22', labels: {}}, {create: true}), /node "sshd-1" already exists/)
    await nodes.registerOpenSSHNode({name: 'sshd-1', hostname: 'sshd-1', addr: '10.0.0.6:22', labels: {}})
    assert.equal((await nodes.getNode('sshd-1')).addr, '10.0.0.6:22')
    await nodes.upsertNode(node('uuid-1', 'alpha'))
    await assert.rejects(nodes.registerOpenSSHNode({name: 'uuid-1', hostname: 'alpha', addr: '10.0.0.7:22', labels: {}}), /is a Teleport node announcing itself/)
    assert.equal((await nodes.getNode('uuid-1')).subKind, undefined)
    await assert.rejects(nodes.upsertNode(node('u', 'n', {subKind: 'other' as 'openssh'})), /sub_kind must be "openssh" or absent/)
  })
})

describe('NodeService: the node list follows the backend', () => {
  const hostnames = async (nodes: NodeService) => (await nodes.listNodes()).map((n) => n.hostname)
  /** Until `nodes` lists exactly these hostnames (the watch delivers asynchronously). */
  const listsSoon = (nodes: NodeService, expected: string[]) =>
    eventually(async () => JSON.stringify(await hostnames(nodes)) === JSON.stringify(expected), `the list to be ${expected.join(', ')}`)

  test('another auth server on the same backend: its writes and deletes show up without a restart', async () => {
    const {backend, clock} = setup()
    const mine = new NodeService(backend, {clock})
    const theirs = new NodeService(backend, {clock})
    await mine.upsertNode(node('uuid-1', 'alpha'))
    assert.deepEqual(await hostnames(mine), ['alpha'])
    await theirs.upsertNode(node('uuid-2', 'beta'))
    await listsSoon(mine, ['alpha', 'beta'])
    await theirs.upsertNode(node('uuid-2', 'beta', {labels: {env: 'prod'}}))
    await eventually(async () => (await mine.listNodes())[1]!.labels.env === 'prod', 'the new labels')
    await theirs.deleteNode('uuid-1')
    await listsSoon(mine, ['beta'])
    mine.close()
    theirs.close()
  })

  test('its own writes and deletes are listed at once, and a node re-created after a delete comes back', async () => {
    const {nodes} = service()
    assert.deepEqual(await hostnames(nodes), [])
    await nodes.upsertNode(node('uuid-1', 'alpha'))
    assert.deepEqual(await hostnames(nodes), ['alpha'])
    await nodes.deleteNode('uuid-1')
    assert.deepEqual(await hostnames(nodes), [])
    await nodes.upsertNode(node('uuid-1', 'alpha-again'))
    assert.deepEqual(await hostnames(nodes), ['alpha-again'])
    nodes.close()
  })

  test('the order holds across heartbeats, new nodes and renamed ones', async () => {
    const {nodes} = service()
    for (const [name, host] of [['uuid-3', 'gamma'], ['uuid-1', 'alpha'], ['uuid-2', 'beta']]) await nodes.upsertNode(node(name!, host!))
    assert.deepEqual(await hostnames(nodes), ['alpha', 'beta', 'gamma'])
    await nodes.keepAlive('uuid-1')
    await nodes.upsertNode(node('uuid-0', 'aardvark'))
    assert.deepEqual(await hostnames(nodes), ['aardvark', 'alpha', 'beta', 'gamma'])
    await nodes.upsertNode(node('uuid-1', 'zeta'))
    assert.deepEqual(await hostnames(nodes), ['aardvark', 'beta', 'gamma', 'zeta'])
    nodes.close()
  })

  test('a node stops being listed when its heartbeats stop, and is listed again when they resume', async () => {
    const {nodes, clock} = service()
    await nodes.upsertNode(node('uuid-1', 'alpha'))
    await nodes.upsertNode(node('uuid-2', 'beta'))
    assert.deepEqual(await hostnames(nodes), ['alpha', 'beta'])
    clock.advance(6 * MINUTE)
    await nodes.keepAlive('uuid-2')
    clock.advance(5 * MINUTE)
    assert.deepEqual(await hostnames(nodes), ['beta'])
    await nodes.upsertNode(node('uuid-1', 'alpha'))
    assert.deepEqual(await hostnames(nodes), ['alpha', 'beta'])
    nodes.close()
  })

  test('a watch whose history was compacted away: the list is read again and misses nothing', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1))
    // A change log of two entries: five writes at once overrun it before the watch reads them.
    const backend = new MemoryBackend(clock, {changeLogMaxEvents: 2, sweepIntervalMs: 3_600_000})
    const warnings: string[] = []
    const mine = new NodeService(backend, {clock, onWatchError: (err) => warnings.push(err.message)})
    const theirs = new NodeService(backend, {clock})
    try {
      await mine.upsertNode(node('uuid-0', 'alpha'))
      assert.deepEqual(await hostnames(mine), ['alpha'])
      await Promise.all([1, 2, 3, 4, 5].map((i) => theirs.upsertNode(node(`uuid-${i}`, `host-${i}`))))
      await eventually(() => warnings.length === 1, 'the watch to fail')
      assert.match(warnings[0]!, /no longer kept/)
      assert.deepEqual(await hostnames(mine), ['alpha', 'host-1', 'host-2', 'host-3', 'host-4', 'host-5'])
    } finally {
      mine.close()
      theirs.close()
      await backend.close()
    }
  })
})
