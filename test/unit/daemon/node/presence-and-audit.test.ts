import assert from 'node:assert/strict'
import {after, describe, test} from 'node:test'
import {authApiEmitter} from '../../../../src/daemon/common/auth-audit.js'
import {CommandLabels, runCommand} from '../../../../src/daemon/node/command-labels.js'
import {Heartbeat, nodePresence} from '../../../../src/daemon/common/heartbeat.js'
import {RoleCache} from '../../../../src/daemon/common/role-cache.js'
import {BufferedEmitter, EventCode, EventName, makeEvent} from '../../../../src/events/index.js'
import {FakeClock} from '../../../../src/lib/clock.js'
import {memoryAuthApi, type MemoryAuthApi} from '../../../helpers/memory-auth-api.js'
import {eventually} from '../../../helpers/eventually.js'
import {memoryLogger} from '../../../helpers/memory-logger.js'

// The node's conversations with auth, against the auth API in memory that goes down on cue: they
// keep going (and catch up) when auth is down, and never throw at the node. Their timers run on a
// FakeClock.

const clusters: MemoryAuthApi[] = []
after(async () => {
  for (const cluster of clusters) await cluster.close()
})

async function authInMemory(options: Parameters<typeof memoryAuthApi>[0] = {}): Promise<MemoryAuthApi> {
  const cluster = await memoryAuthApi(options)
  clusters.push(cluster)
  return cluster
}

/** The node's presence calls so far, as 'upsert' and 'keepalive'. */
const presenceCalls = (cluster: MemoryAuthApi) => cluster.calls.flatMap((c) => (/^PUT \/v1\/nodes\//.test(c) ? ['upsert'] : /^POST \/v1\/nodes\/.*\/keepalive$/.test(c) ? ['keepalive'] : []))

describe('heartbeat', () => {
  const record = {name: 'uuid-1', hostname: 'n1', addr: '0.0.0.0:3022', labels: {}, cmdLabels: {}, version: '0.1.0'}
  const timing = {announceMs: 60_000, keepAliveMs: 20, minBackoffMs: 10, maxBackoffMs: 40}

  test('announces at start, keeps alive in between, re-announces at once on change', async () => {
    const auth = await authInMemory()
    const calls = () => presenceCalls(auth)
    const clock = new FakeClock()
    const hb = new Heartbeat(nodePresence(auth.api), () => record, memoryLogger(), timing, clock)
    await hb.start()
    assert.deepEqual(calls(), ['upsert'])
    await clock.advanceAsync(2 * timing.keepAliveMs)
    assert.ok(calls().filter((c) => c === 'keepalive').length >= 2, 'keepalives')
    hb.changed()
    await clock.advanceAsync(0)
    assert.ok(calls().lastIndexOf('upsert') > 0, 'the re-announcement')
    await hb.stop()
  })

  test('auth down: retried with backoff, one warning, announced when it is back; an expired record is re-announced', async () => {
    const auth = await authInMemory()
    auth.reachable = false
    const calls = () => presenceCalls(auth)
    const log = memoryLogger()
    const clock = new FakeClock()
    const hb = new Heartbeat(nodePresence(auth.api), () => record, log, timing, clock)
    await hb.start() // never throws
    await clock.advanceAsync(100) // several retries, backing off
    assert.deepEqual(calls(), [])
    assert.equal(log.lines.filter((l) => l.startsWith('WARN')).length, 1)
    auth.reachable = true
    await clock.advanceAsync(timing.maxBackoffMs)
    assert.ok(calls().includes('upsert'), 'the announcement after the outage')
    assert.ok(log.lines.some((l) => /reachable again/.test(l)))
    await auth.auth.nodes.deleteNode(record.name) // the record expired: the next keepalive is NotFound
    await clock.advanceAsync(timing.keepAliveMs)
    assert.ok(calls().filter((c) => c === 'upsert').length >= 2, 're-announcing an expired record')
    await hb.stop()
  })
})

describe('buffered audit emitter', () => {
  test('events wait while auth is down and go out in order when it is back', async () => {
    const auth = await authInMemory()
    auth.reachable = false
    const delivered = () => auth.audit.all().map((e) => e.login)
    const clock = new FakeClock()
    const buffer = new BufferedEmitter(authApiEmitter(auth.api), {log: memoryLogger(), clock})
    void buffer.emit(makeEvent(EventName.SessionStart, EventCode.SessionStart, {login: 'a'}))
    void buffer.emit(makeEvent(EventName.SessionEnd, EventCode.SessionEnd, {login: 'b'}))
    await clock.advanceAsync(0)
    assert.equal(clock.pendingTimers, 1, 'a retry is scheduled')
    assert.deepEqual(delivered(), [])
    auth.reachable = true
    void buffer.emit(makeEvent(EventName.Exec, EventCode.Exec, {login: 'c'}))
    await clock.advanceAsync(30_000)
    assert.deepEqual(delivered(), ['a', 'b', 'c'])
    await buffer.close()
  })
})

describe('role cache', () => {
  test('one fetch per role while fresh; unknown roles left out; a stale copy serves while auth is down', async () => {
    const clock = new FakeClock()
    const auth = await authInMemory({clock})
    await auth.auth.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'ops'}, spec: {}}, true, {user: 'admin'}) // no "ghost"
    const fetches = () => auth.calls.filter((c) => c.startsWith('GET /v1/roles/')).length
    const cache = new RoleCache(auth.api, {clock})
    assert.deepEqual((await cache.getRoles(['ops', 'ghost'])).map((r) => r.metadata.name), ['ops'])
    await cache.getRoles(['ops'])
    assert.equal(fetches(), 2)
    clock.advance(60_000)
    auth.reachable = false
    assert.deepEqual((await cache.getRoles(['ops'])).map((r) => r.metadata.name), ['ops'])
    clock.advance(3600_000)
    await assert.rejects(cache.getRoles(['ops']), /cannot reach/)
  })
})

describe('command labels', () => {
  test('the trimmed output, or an error value; never a throw', async () => {
    assert.equal(await runCommand(['echo', '  hello  '], 5000), 'hello')
    assert.equal(await runCommand(['false'], 5000), 'error: exit status 1')
    assert.equal(await runCommand(['/no/such/command'], 5000), 'error: command not found: /no/such/command')
    assert.equal(await runCommand(['sleep', '5'], 100), 'error: timed out after 100ms')
    assert.equal(await runCommand([], 100), 'error: empty command')
  })
  test('control characters in the output are escaped: the value stays one that auth accepts', async () => {
    assert.equal(await runCommand(['printf', 'a\\033[2J\\nb'], 5000), 'a\\x1b[2J\\nb')
  })

  test('re-run on their period; a changed value is reported', async () => {
    let changes = 0
    const clock = new FakeClock()
    const labels = new CommandLabels([{name: 'ns', command: ['date', '+%N'], periodMs: 1000}], () => changes++, memoryLogger(), clock)
    await labels.start()
    const first = labels.snapshot().ns!
    assert.deepEqual(first.command, ['date', '+%N'])
    assert.equal(first.period, '1s')
    assert.match(first.result, /^\d+$/)
    clock.advance(1000) // the command runs again (a real process: its result is polled for)
    await eventually(() => changes > 0, 'a changed value', {timeoutMs: 10_000, intervalMs: 5})
    assert.notEqual(labels.snapshot().ns!.result, first.result)
    labels.stop()
  })
})
