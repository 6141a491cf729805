import {afterEach, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {randomUUID} from 'node:crypto'
import {EventCode, EventName, type AuditEvent, type SearchPage} from '../../../../src/events/index.js'
import {memoryAuthServer, type MemoryAuthServer} from '../../../helpers/memory-auth-server.js'

// The auth server's view of sessions through the audit log: who took part in one, and searches
// filtered by what a caller may see, paged as plain searches are.

const open: MemoryAuthServer[] = []
afterEach(async () => {
  for (const server of open.splice(0)) await server.close()
})

async function server() {
  const s = await memoryAuthServer()
  open.push(s)
  return s
}

/** Ten session.end events, a second apart except two pairs at one time; amy took part in every third. */
async function tenSessions({auth, clock}: MemoryAuthServer): Promise<string[]> {
  const sids: string[] = []
  for (let i = 0; i < 10; i++) {
    const sid = randomUUID()
    sids.push(sid)
    await auth.emit(EventName.SessionEnd, EventCode.SessionEnd, {sid, user: 'bob', participants: i % 3 === 0 ? ['bob', 'amy'] : ['bob']})
    if (i !== 3 && i !== 6) clock.advance(1000)
  }
  return sids
}

const range = (s: MemoryAuthServer) => ({from: new Date(0), to: new Date(s.clock.now().getTime() + 1000), types: [EventName.SessionEnd], order: 'desc' as const})
const amyIn = (event: AuditEvent) => (event.participants as string[]).includes('amy')

async function allPages(next: (startKey?: string) => Promise<SearchPage>): Promise<SearchPage[]> {
  const pages: SearchPage[] = []
  let startKey: string | undefined
  do {
    const page = await next(startKey)
    pages.push(page)
    startKey = page.nextKey
  } while (startKey !== undefined && pages.length < 20)
  return pages
}

describe('AuthServer.searchEventsWhere', () => {
  test('pages of kept events are filled across underlying pages; paging neither repeats nor skips', async () => {
    const s = await server()
    const sids = await tenSessions(s)
    const amys = sids.filter((_, i) => i % 3 === 0).reverse()
    for (const batch of [1, 2, 3, 10_000]) {
      const pages = await allPages((startKey) => s.auth.searchEventsWhere({...range(s), limit: 2, ...(startKey ? {startKey} : {})}, amyIn, {batch}))
      assert.deepEqual(pages.map((p) => p.events.map((e) => e.sid)), [amys.slice(0, 2), amys.slice(2, 4), []], `batch ${batch}`)
    }
    const one = await s.auth.searchEventsWhere({...range(s), limit: 3}, amyIn, {batch: 2})
    assert.deepEqual(one.events.map((e) => e.sid), amys.slice(0, 3))
    assert.ok(one.nextKey, 'a full page says where to go on')
    const rest = await s.auth.searchEventsWhere({...range(s), limit: 3, startKey: one.nextKey}, amyIn, {batch: 2})
    assert.deepEqual(rest.events.map((e) => e.sid), amys.slice(3))
    assert.equal(rest.nextKey, undefined, 'a short last page has no nextKey')
  })

  test('a scan that reaches its budget stops with a short page whose nextKey goes on from there', async () => {
    const s = await server()
    const sids = await tenSessions(s)
    const first = sids[0]!
    const onlyFirst = (event: AuditEvent) => event.sid === first
    const pages = await allPages((startKey) => s.auth.searchEventsWhere({...range(s), limit: 5, ...(startKey ? {startKey} : {})}, onlyFirst, {batch: 3, budget: 3}))
    assert.deepEqual(pages.map((p) => p.events.length), [0, 0, 0, 1], 'three scans of three, then the last one found')
    assert.equal(pages[3]!.events[0]!.sid, first)
  })

  test('the query is checked as searchEvents checks it', async () => {
    const s = await server()
    await assert.rejects(s.auth.searchEventsWhere({...range(s), limit: 0}, amyIn), /search limit must be an integer from 1 to 10000, got 0/)
    await assert.rejects(s.auth.searchEventsWhere({...range(s), startKey: 'garbage'}, amyIn), /the page key is not one a search returned/)
  })
})

describe('AuthServer.sessionParticipants', () => {
  test('from session.end when there is one, else from session.start and session.join; unknown sid: undefined', async () => {
    const {auth} = await server()
    const [ended, running, unknown] = [randomUUID(), randomUUID(), randomUUID()]
    await auth.emit(EventName.SessionStart, EventCode.SessionStart, {sid: ended, user: 'bob'})
    await auth.emit(EventName.SessionEnd, EventCode.SessionEnd, {sid: ended, user: 'bob', participants: ['bob', 'amy']})
    await auth.emit(EventName.SessionStart, EventCode.SessionStart, {sid: running, user: 'bob'})
    await auth.emit(EventName.SessionJoin, EventCode.SessionJoin, {sid: running, user: 'carol'})
    await auth.emit(EventName.SessionJoin, EventCode.SessionJoin, {sid: running, user: 'bob'})
    assert.deepEqual(await auth.sessionParticipants(ended), {participants: ['bob', 'amy'], user: 'bob'})
    assert.deepEqual(await auth.sessionParticipants(running), {participants: ['bob', 'carol'], user: 'bob'})
    assert.equal(await auth.sessionParticipants(unknown), undefined)
  })

  test("an ended session's parties are remembered (session.end is final); a running one's are searched again", async () => {
    const s = await server()
    const [ended, running] = [randomUUID(), randomUUID()]
    await s.auth.emit(EventName.SessionEnd, EventCode.SessionEnd, {sid: ended, user: 'bob', participants: ['bob']})
    await s.auth.emit(EventName.SessionStart, EventCode.SessionStart, {sid: running, user: 'bob'})
    const search = s.audit.search.bind(s.audit)
    const searched: string[] = []
    s.audit.search = (query) => (searched.push(query.sid ?? ''), search(query))
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(await s.auth.sessionParticipants(ended), {participants: ['bob'], user: 'bob'})
      await s.auth.sessionParticipants(running)
    }
    assert.deepEqual(searched, [ended, running, running])
    await s.auth.emit(EventName.SessionJoin, EventCode.SessionJoin, {sid: running, user: 'amy'})
    assert.deepEqual(await s.auth.sessionParticipants(running), {participants: ['bob', 'amy'], user: 'bob'}, 'a joiner is seen at once')
  })
})
