import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import type {AuthApi} from '../../../../src/api/auth-api.js'
import {EventCode, EventName} from '../../../../src/events/index.js'
import {AuditBuffer} from '../../../../src/daemon/common/audit-buffer.js'
import {CommandLabels, runCommand} from '../../../../src/daemon/node/command-labels.js'
import {Heartbeat} from '../../../../src/daemon/node/heartbeat.js'
import {RoleCache} from '../../../../src/daemon/node/role-cache.js'
import {FakeClock} from '../../../../src/lib/clock.js'
import {NotFoundError, UserError} from '../../../../src/lib/errors.js'
import {memoryLogger} from '../../../helpers/memory-logger.js'
import {eventually} from '../../../helpers/eventually.js'

// The node's conversations with auth, against a scripted stand-in for AuthApi: they keep going
// (and catch up) when auth is down, and never throw at the node.

/** Resolves when `check` holds, polling; fails the test after 10 s. */
const until = (check: () => boolean, what: string) => eventually(check, what, {timeoutMs: 10_000, intervalMs: 5})

const down = () => new UserError('cannot reach the auth server at 127.0.0.1:3025: connection refused')

describe('heartbeat', () => {
  const record = {name: 'uuid-1', hostname: 'n1', addr: '0.0.0.0:3022', labels: {}, cmdLabels: {}, version: '0.1.0'}
  const timing = {announceMs: 60_000, keepAliveMs: 20, minBackoffMs: 10, maxBackoffMs: 40}

  test('announces at start, keeps alive in between, re-announces at once on change', async () => {
    const calls: string[] = []
    const api = {
      upsertNode: async () => void calls.push('upsert'),
      keepAliveNode: async () => void calls.push('keepalive'),
    } as unknown as AuthApi
    const hb = new Heartbeat(api, () => record, memoryLogger(), timing)
    await hb.start()
    assert.deepEqual(calls, ['upsert'])
    await until(() => calls.filter((c) => c === 'keepalive').length >= 2, 'keepalives')
    hb.changed()
    await until(() => calls.lastIndexOf('upsert') > 0, 'the re-announcement')
    await hb.stop()
  })

  test('auth down: retried with backoff, one warning, announced when it is back; an expired record is re-announced', async () => {
    let reachable = false
    let expired = false
    const calls: string[] = []
    const api = {
      upsertNode: async () => {
        if (!reachable) throw down()
        calls.push('upsert')
      },
      keepAliveNode: async () => {
        if (expired) {
          expired = false
          throw new NotFoundError('node "uuid-1" is not found')
        }
        calls.push('keepalive')
      },
    } as unknown as AuthApi
    const log = memoryLogger()
    const hb = new Heartbeat(api, () => record, log, timing)
    await hb.start() // never throws
    await new Promise((r) => setTimeout(r, 100))
    assert.deepEqual(calls, [])
    assert.equal(log.lines.filter((l) => l.startsWith('WARN')).length, 1)
    reachable = true
    await until(() => calls.includes('upsert'), 'the announcement after the outage')
    assert.ok(log.lines.some((l) => /reachable again/.test(l)))
    expired = true
    await until(() => calls.filter((c) => c === 'upsert').length >= 2, 're-announcing an expired record')
    await hb.stop()
  })
})

describe('audit buffer', () => {
  test('events wait while auth is down and go out in order when it is back', async () => {
    let reachable = false
    const delivered: unknown[] = []
    const api = {
      emitEvent: async (event: {login: string}) => {
        if (!reachable) throw down()
        delivered.push(event.login)
      },
    } as unknown as AuthApi
    const buffer = new AuditBuffer(api, memoryLogger())
    buffer.emit(EventName.SessionStart, EventCode.SessionStart, {login: 'a'})
    buffer.emit(EventName.SessionEnd, EventCode.SessionEnd, {login: 'b'})
    await new Promise((r) => setTimeout(r, 50))
    assert.deepEqual(delivered, [])
    reachable = true
    buffer.emit(EventName.Exec, EventCode.Exec, {login: 'c'})
    await until(() => delivered.length === 3, 'delivery')
    assert.deepEqual(delivered, ['a', 'b', 'c'])
    await buffer.close()
  })
})

describe('role cache', () => {
  test('one fetch per role while fresh; unknown roles left out; a stale copy serves while auth is down', async () => {
    const clock = new FakeClock()
    let fetches = 0
    let reachable = true
    const api = {
      getRole: async (name: string) => {
        fetches++
        if (!reachable) throw down()
        if (name === 'ghost') throw new NotFoundError('role "ghost" is not found')
        return {kind: 'role', metadata: {name}}
      },
    } as unknown as AuthApi
    const cache = new RoleCache(api, {clock})
    assert.deepEqual((await cache.getRoles(['ops', 'ghost'])).map((r) => r.metadata.name), ['ops'])
    await cache.getRoles(['ops'])
    assert.equal(fetches, 2)
    clock.advance(60_000)
    reachable = false
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
    const labels = new CommandLabels([{name: 'ns', command: ['date', '+%N'], periodMs: 1000}], () => changes++, memoryLogger())
    await labels.start()
    const first = labels.snapshot().ns!
    assert.deepEqual(first.command, ['date', '+%N'])
    assert.equal(first.period, '1s')
    assert.match(first.result, /^\d+$/)
    await until(() => changes > 0, 'a changed value')
    assert.notEqual(labels.snapshot().ns!.result, first.result)
    labels.stop()
  })
})
