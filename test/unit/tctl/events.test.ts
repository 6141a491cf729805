import assert from 'node:assert/strict'
import {afterEach, describe, test} from 'node:test'
import {EventCode, EventName, makeEvent} from '../../../src/events/index.js'
import {FakeClock} from '../../../src/lib/clock.js'
import {UsageError} from '../../../src/lib/errors.js'
import {eventsJsonLines, eventsQuery, eventsTable, findEvents, parseEventTime} from '../../../src/tctl/events.js'
import {memoryAuthApi, type MemoryAuthApi} from '../../helpers/memory-auth-api.js'

const now = new Date('2026-11-21T12:00:00.000Z')

describe('tctl events ls: flags to a query', () => {
  test('times: RFC 3339 with a zone, or a UTC day (its whole day for --to)', () => {
    assert.equal(parseEventTime('2026-11-21T09:30:00Z', 'from').toISOString(), '2026-11-21T09:30:00.000Z')
    assert.equal(parseEventTime('2026-11-21T10:30:00.5+01:00', 'to').toISOString(), '2026-11-21T09:30:00.500Z')
    assert.equal(parseEventTime('2026-11-21', 'from').toISOString(), '2026-11-21T00:00:00.000Z')
    assert.equal(parseEventTime('2026-11-21', 'to').toISOString(), '2026-11-21T23:59:59.999Z')
    for (const bad of ['yesterday', '2026-02-30', '2026-11-21T09:30:00', '1700000000']) {
      assert.throws(() => parseEventTime(bad, 'from'), (err: Error) => err instanceof UsageError && err.message.startsWith('--from: '))
    }
  })

  test('defaults: the last 24 hours, newest first; --type repeated or comma-separated', () => {
    assert.deepEqual(eventsQuery({limit: 50}, now), {from: new Date('2026-11-20T12:00:00.000Z'), to: now, order: 'desc'})
    assert.deepEqual(eventsQuery({limit: 50, type: ['user.login,session.start', 'exec', 'exec'], user: 'alice', sid: 's-1', to: '2026-11-01'}, now), {
      from: new Date('2026-10-31T23:59:59.999Z'),
      to: new Date('2026-11-01T23:59:59.999Z'),
      order: 'desc',
      types: ['user.login', 'session.start', 'exec'],
      user: 'alice',
      sid: 's-1',
    })
  })

  test('an empty range or a limit out of bounds is a usage error', () => {
    assert.throws(() => eventsQuery({limit: 50, from: '2026-11-22', to: '2026-11-21'}, now), /--from .* is after --to/)
    assert.throws(() => eventsQuery({limit: 0}, now), UsageError)
    assert.throws(() => eventsQuery({limit: 10_001}, now), UsageError)
  })
})

describe('tctl events ls: fetching and printing', () => {
  const open: MemoryAuthApi[] = []
  afterEach(async () => {
    for (const memory of open.splice(0)) await memory.close()
  })

  async function withLogins(count: number) {
    const memory = await memoryAuthApi({clock: new FakeClock(now)})
    open.push(memory)
    for (let i = 0; i < count; i++) {
      await memory.auth.emit(EventName.UserLogin, EventCode.UserLogin, {user: `u${i}`})
      memory.clock.advance(1000)
    }
    return {memory, query: {from: now, to: memory.clock.now(), types: [EventName.UserLogin], order: 'desc' as const}}
  }

  test('follows pages up to the limit and says whether more match', async () => {
    const {memory, query} = await withLogins(503)
    const some = await findEvents(memory.api, query, 502)
    assert.equal(some.events.length, 502)
    assert.equal(some.events[0]!.user, 'u502')
    assert.equal(new Set(some.events.map((e) => e.uid)).size, 502)
    assert.equal(some.more, true)
    const all = await findEvents(memory.api, query, 503)
    assert.deepEqual(all.events.map((e) => e.user), Array.from({length: 503}, (_, i) => `u${502 - i}`))
    assert.equal(all.more, false)
  })

  test('the table: Time, Type, Code, User, Summary; failures through the red pen', () => {
    const clock = new FakeClock(now)
    const ok = makeEvent(EventName.UserLogin, EventCode.UserLogin, {user: 'alice', method: 'local'}, clock)
    const failed = makeEvent(EventName.UserLogin, EventCode.UserLoginFailure, {user: 'bob', error: 'bad password', 'addr.remote': '10.0.0.1:5000'}, clock)
    const table = eventsTable([ok, failed], (line) => `<${line}>`).split('\n')
    assert.match(table[0]!, /^Time\s+Type\s+Code\s+User\s+Summary$/)
    assert.match(table[2]!, /^2026-11-21T12:00:00\.000Z user\.login T1000I alice$/)
    assert.match(table[3]!, /^<2026-11-21T12:00:00\.000Z user\.login T1000W bob\s+error=bad password addr\.remote=10\.0\.0\.1:5000>$/)
    assert.equal(table[4], '')
  })

  test('JSON: one event per line, terminal controls escaped', () => {
    const event = makeEvent(EventName.UserLogin, EventCode.UserLogin, {user: 'a\u009bb'}, new FakeClock(now))
    const out = eventsJsonLines([event, event])
    assert.equal(out.split('\n').length, 3)
    assert.doesNotMatch(out, /\u009b/)
    assert.deepEqual(JSON.parse(out.split('\n')[0]!), event)
  })
})
