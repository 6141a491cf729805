// One behavioural suite for every AuditLog: the memory twin must answer exactly as the file log,
// or tests written against it would prove nothing about production.
import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {FakeClock} from '../../../src/lib/clock.js'
import {BadParameterError} from '../../../src/lib/errors.js'
import {EventCode, EventName, MAX_SEARCH_LIMIT, makeEvent, pageOf, type AuditEvent, type AuditLog, type SearchQuery} from '../../../src/events/index.js'

export interface LogFixture {
  log: AuditLog
  dispose(): Promise<void>
}

const T0 = Date.parse('2026-11-21T10:00:00.000Z')
const MINUTE = 60_000

type TestEventName = typeof EventName.UserLogin | typeof EventName.SessionStart | typeof EventName.Exec
const CODE_OF: Record<TestEventName, EventCode> = {
  [EventName.UserLogin]: EventCode.UserLogin,
  [EventName.SessionStart]: EventCode.SessionStart,
  [EventName.Exec]: EventCode.Exec,
}

/** An event stamped at T0 + `minutes`. */
function eventAt(minutes: number, name: TestEventName = EventName.UserLogin, fields: Record<string, unknown> = {}): AuditEvent {
  return makeEvent(name, CODE_OF[name], {user: 'alice', ...fields}, new FakeClock(T0 + minutes * MINUTE))
}

const at = (minutes: number) => new Date(T0 + minutes * MINUTE)
const uids = (events: AuditEvent[]) => events.map((e) => e.uid)

export function auditLogConformance(makeFixture: () => Promise<LogFixture>): void {
  describe('AuditLog conformance', () => {
    async function withLog(body: (log: AuditLog) => Promise<void>): Promise<void> {
      const fixture = await makeFixture()
      try {
        await body(fixture.log)
      } finally {
        await fixture.dispose()
      }
    }

    test('an emitted event comes back from search unchanged', () =>
      withLog(async (log) => {
        const event = eventAt(0, EventName.SessionStart, {login: 'root', sid: 's-1', 'addr.remote': '10.0.0.1:5555', ei: 0, labels: {env: 'test'}})
        await log.emit(event)
        assert.deepEqual(await log.search({from: at(-1), to: at(1)}), [event])
      }))

    test('the range is inclusive at both ends and excludes what lies outside', () =>
      withLog(async (log) => {
        const events = [eventAt(-2), eventAt(-1), eventAt(0), eventAt(1), eventAt(2)]
        for (const e of events) await log.emit(e)
        const found = await log.search({from: at(-1), to: at(1)})
        assert.deepEqual(uids(found), uids(events.slice(1, 4)))
      }))

    test('types keeps only the named events; an empty list keeps all', () =>
      withLog(async (log) => {
        const login = eventAt(0, EventName.UserLogin)
        const start = eventAt(1, EventName.SessionStart)
        const exec = eventAt(2, EventName.Exec)
        for (const e of [login, start, exec]) await log.emit(e)
        const range = {from: at(-1), to: at(3)}
        assert.deepEqual(uids(await log.search({...range, types: [EventName.SessionStart, EventName.Exec]})), uids([start, exec]))
        assert.deepEqual(uids(await log.search({...range, types: ['no.such.event']})), [])
        assert.equal((await log.search({...range, types: []})).length, 3)
      }))

    test('order asc gives oldest first, desc newest first, and limit cuts from that end', () =>
      withLog(async (log) => {
        const events = [0, 1, 2, 3, 4].map((m) => eventAt(m))
        for (const e of events) await log.emit(e)
        const range = {from: at(0), to: at(4)}
        assert.deepEqual(uids(await log.search(range)), uids(events), 'asc is the default')
        assert.deepEqual(uids(await log.search({...range, order: 'desc'})), uids([...events].reverse()))
        assert.deepEqual(uids(await log.search({...range, limit: 2})), uids(events.slice(0, 2)))
        assert.deepEqual(uids(await log.search({...range, limit: 2, order: 'desc'})), uids([events[4]!, events[3]!]))
      }))

    test('events emitted out of time order are returned in time order, and limit picks by time', () =>
      withLog(async (log) => {
        // A node's late event arrives after newer ones: append order is not time order.
        const late = eventAt(1)
        const newer = [eventAt(3), eventAt(2)]
        const earliest = eventAt(0)
        for (const e of [...newer, late, earliest]) await log.emit(e)
        const range = {from: at(0), to: at(5)}
        assert.deepEqual(uids(await log.search({...range, limit: 2})), uids([earliest, late]))
        assert.deepEqual(uids(await log.search({...range, limit: 2, order: 'desc'})), uids([newer[0]!, newer[1]!]))
      }))

    test('events with the same time keep their emission order (reversed for desc)', () =>
      withLog(async (log) => {
        const same = [eventAt(0), eventAt(0), eventAt(0)]
        for (const e of same) await log.emit(e)
        const range = {from: at(0), to: at(0)}
        assert.deepEqual(uids(await log.search(range)), uids(same))
        assert.deepEqual(uids(await log.search({...range, order: 'desc'})), uids([...same].reverse()))
        assert.deepEqual(uids(await log.search({...range, limit: 1, order: 'desc'})), [same[2]!.uid])
      }))

    test('user and sid keep only that user\'s and that session\'s events; empty keeps all', () =>
      withLog(async (log) => {
        const alice = eventAt(0, EventName.SessionStart, {user: 'alice', sid: 's-1'})
        const bob = eventAt(1, EventName.SessionStart, {user: 'bob', sid: 's-2'})
        const aliceAgain = eventAt(2, EventName.Exec, {user: 'alice', sid: 's-2'})
        const nobody = eventAt(3, EventName.UserLogin, {user: undefined})
        for (const e of [alice, bob, aliceAgain, nobody]) await log.emit(e)
        const range = {from: at(0), to: at(3)}
        assert.deepEqual(uids(await log.search({...range, user: 'alice'})), uids([alice, aliceAgain]))
        assert.deepEqual(uids(await log.search({...range, sid: 's-2'})), uids([bob, aliceAgain]))
        assert.deepEqual(uids(await log.search({...range, user: 'alice', sid: 's-2', types: [EventName.Exec]})), uids([aliceAgain]))
        assert.deepEqual(uids(await log.search({...range, user: 'carol'})), [])
        assert.equal((await log.search({...range, user: '', sid: ''})).length, 4)
      }))

    /** Every page of `query`, following nextKey to the end. */
    async function allPages(log: AuditLog, query: SearchQuery): Promise<AuditEvent[][]> {
      const pages: AuditEvent[][] = []
      let startKey: string | undefined
      do {
        const page = pageOf(await log.search({...query, startKey}), query)
        pages.push(page.events)
        startKey = page.nextKey
      } while (startKey !== undefined && pages.length < 20)
      return pages
    }

    test('paging walks every match once, either order, ties at a page edge included', () =>
      withLog(async (log) => {
        // Three events share one time, and a page edge falls among them.
        const events = [eventAt(0), eventAt(1), eventAt(1), eventAt(1), eventAt(2), eventAt(3), eventAt(4)]
        for (const e of [events[5]!, ...events.slice(0, 5), events[6]!]) await log.emit(e)
        const range = {from: at(0), to: at(4), limit: 2}
        const asc = await allPages(log, range)
        assert.deepEqual(asc.map(uids), [uids(events.slice(0, 2)), uids(events.slice(2, 4)), uids(events.slice(4, 6)), uids(events.slice(6))])
        const desc = await allPages(log, {...range, order: 'desc'})
        assert.deepEqual(desc.flat().map((e) => e.uid), uids([...events].reverse()))
        assert.deepEqual(desc.map((p) => p.length), [2, 2, 2, 1])
      }))

    test('a full last page has a nextKey whose page is empty; a short page has none', () =>
      withLog(async (log) => {
        for (const m of [0, 1]) await log.emit(eventAt(m))
        const query = {from: at(0), to: at(1), limit: 2}
        const first = pageOf(await log.search(query), query)
        assert.equal(first.events.length, 2)
        assert.ok(first.nextKey)
        const second = pageOf(await log.search({...query, startKey: first.nextKey}), query)
        assert.deepEqual(second, {events: []})
        assert.equal(pageOf(await log.search({...query, limit: 3}), {...query, limit: 3}).nextKey, undefined)
      }))

    test('events arriving between pages are found by later pages, not repeated', () =>
      withLog(async (log) => {
        const first = [eventAt(0), eventAt(1)]
        for (const e of first) await log.emit(e)
        const query = {from: at(0), to: at(10), limit: 2}
        const page1 = pageOf(await log.search(query), query)
        const later = [eventAt(1), eventAt(5)]
        for (const e of later) await log.emit(e)
        const page2 = pageOf(await log.search({...query, startKey: page1.nextKey}), query)
        assert.deepEqual(uids(page1.events), uids(first))
        assert.deepEqual(uids(page2.events), uids(later))
      }))

    test('a page key that is not one, or from the other order, is refused', () =>
      withLog(async (log) => {
        for (const m of [0, 1]) await log.emit(eventAt(m))
        const query = {from: at(0), to: at(1), limit: 1}
        const {nextKey} = pageOf(await log.search(query), query)
        await assert.rejects(log.search({...query, startKey: 'not-a-key'}), BadParameterError)
        await assert.rejects(log.search({...query, startKey: Buffer.from('{"t":"x","u":"y","o":"asc"}').toString('base64url')}), BadParameterError)
        await assert.rejects(log.search({...query, order: 'desc', startKey: nextKey}), /"asc" order/)
      }))

    test('a bad query is refused', () =>
      withLog(async (log) => {
        await assert.rejects(log.search({from: at(1), to: at(0)}), BadParameterError)
        await assert.rejects(log.search({from: new Date(Number.NaN), to: at(0)}), BadParameterError)
        await assert.rejects(log.search({from: at(0), to: at(1), limit: 0}), BadParameterError)
        await assert.rejects(log.search({from: at(0), to: at(1), limit: 1.5}), BadParameterError)
        await assert.rejects(log.search({from: at(0), to: at(1), limit: MAX_SEARCH_LIMIT + 1}), BadParameterError)
        await assert.rejects(log.search({from: at(0), to: at(1), order: 'sideways' as never}), BadParameterError)
      }))

    test('an invalid event is refused and nothing is stored', () =>
      withLog(async (log) => {
        const good = eventAt(0)
        await assert.rejects(log.emit({...good, time: '2026-11-21T10:00:00Z'}), BadParameterError, 'no milliseconds')
        await assert.rejects(log.emit({...good, time: '2026-11-21T11:00:00.000+01:00'}), BadParameterError, 'not UTC')
        await assert.rejects(log.emit({...good, time: '2026-02-30T10:00:00.000Z'}), BadParameterError, 'no such day')
        await assert.rejects(log.emit({...good, code: ''}), BadParameterError)
        await assert.rejects(log.emit({...good, uid: undefined as never}), BadParameterError)
        await assert.rejects(log.emit({...good, ei: -1}), BadParameterError)
        const cyclic: AuditEvent = {...good}
        cyclic.self = cyclic
        await assert.rejects(log.emit(cyclic), BadParameterError)
        await assert.rejects(log.emit({...good, huge: 10n}), BadParameterError, 'BigInt does not serialise')
        assert.deepEqual(await log.search({from: at(-60 * 24 * 400), to: at(60 * 24)}), [])
      }))

    test('secret-like fields are stripped before storage', () =>
      withLog(async (log) => {
        const event = eventAt(0, EventName.UserLogin, {password: 'hunter2', details: {otp: '123456', token_name: 'abc'}, method: 'local'})
        await log.emit(event)
        const [stored] = await log.search({from: at(0), to: at(0)})
        assert.ok(stored)
        assert.equal(stored.password, undefined)
        assert.deepEqual(stored.details, {token_name: 'abc'})
        assert.equal(stored.method, 'local')
        assert.equal(event.password, 'hunter2', "the caller's object is not modified")
      }))

    test('after close, emit and search are refused', () =>
      withLog(async (log) => {
        await log.emit(eventAt(0))
        await log.close()
        await assert.rejects(log.emit(eventAt(1)), /closed/)
        await assert.rejects(log.search({from: at(0), to: at(1)}), /closed/)
      }))
  })
}
