// The one conformance suite every Backend must pass (memory, SQLite, later etcd). It only uses
// the Backend interface plus the few test hooks in BackendUnderTest, so it cannot come to
// depend on one implementation's internals.
import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {WatchCompactedError, type Backend} from '../../../src/backend/index.js'
import type {FakeClock} from '../../../src/lib/clock.js'
import {AlreadyExistsError, BadParameterError, CompareFailedError, NotFoundError} from '../../../src/lib/errors.js'
import {WatchReader, describeEvent, withDeadline} from './watch-reader.js'

export interface BackendUnderTest {
  /** A fresh, empty backend whose expiry decisions follow `clock`. */
  backend: Backend
  clock: FakeClock
  /** Runs the expiry sweeper once, now (instead of waiting for its timer). */
  sweepExpired(): void | Promise<void>
  /** Prunes watch history through a revision; omit if the backend cannot be made to. */
  compactChangeLog?(throughRevision: number): void | Promise<void>
  /** Closes the backend and removes anything it left behind. */
  dispose(): Promise<void>
}

export type BackendFactory = () => BackendUnderTest | Promise<BackendUnderTest>

const SECOND = 1000

export function backendConformance(factory: BackendFactory): void {
  /** A test body run against a fresh backend that is always disposed. */
  function check(name: string, body: (t: BackendUnderTest) => Promise<void>): void {
    test(name, async () => {
      const t = await factory()
      try {
        await body(t)
      } finally {
        await t.dispose()
      }
    })
  }

  describe('single-key operations', () => {
    check('get of a missing key throws NotFoundError', async ({backend}) => {
      await assert.rejects(backend.get('/nope'), NotFoundError)
    })

    check('put then get returns the value; overwriting bumps the revision', async ({backend}) => {
      const first = await backend.put({key: '/a', value: '1'})
      assert.equal(first.key, '/a')
      assert.equal(first.value, '1')
      assert.ok(first.revision > 0)
      assert.deepEqual(await backend.get('/a'), first)

      const second = await backend.put({key: '/a', value: '2'})
      assert.ok(second.revision > first.revision)
      assert.equal((await backend.get('/a')).value, '2')
    })

    check('revisions grow across different keys', async ({backend}) => {
      const a = await backend.put({key: '/a', value: '1'})
      const b = await backend.put({key: '/b', value: '1'})
      const c = await backend.put({key: '/a', value: '2'})
      assert.ok(a.revision < b.revision && b.revision < c.revision)
    })

    check('create stores a new key and refuses an existing one', async ({backend}) => {
      const created = await backend.create({key: '/a', value: '1'})
      assert.equal(created.value, '1')
      await assert.rejects(backend.create({key: '/a', value: '2'}), AlreadyExistsError)
      assert.equal((await backend.get('/a')).value, '1')
    })

    check('update replaces an existing key and refuses a missing one', async ({backend}) => {
      await assert.rejects(backend.update({key: '/a', value: '1'}), NotFoundError)
      await assert.rejects(backend.get('/a'), NotFoundError)
      const before = await backend.put({key: '/a', value: '1'})
      const after = await backend.update({key: '/a', value: '2'})
      assert.ok(after.revision > before.revision)
      assert.equal((await backend.get('/a')).value, '2')
    })

    check('delete removes a key and refuses a missing one', async ({backend}) => {
      await backend.put({key: '/a', value: '1'})
      await backend.delete('/a')
      await assert.rejects(backend.get('/a'), NotFoundError)
      await assert.rejects(backend.delete('/a'), NotFoundError)
    })

    check('compareAndSwap replaces only the expected value', async ({backend}) => {
      await backend.put({key: '/a', value: 'old'})
      const swapped = await backend.compareAndSwap('old', {key: '/a', value: 'new'})
      assert.equal(swapped.value, 'new')
      assert.equal((await backend.get('/a')).value, 'new')

      await assert.rejects(backend.compareAndSwap('old', {key: '/a', value: 'newer'}), CompareFailedError)
      assert.equal((await backend.get('/a')).value, 'new')
    })

    check('compareAndSwap on a missing key throws NotFoundError', async ({backend}) => {
      await assert.rejects(backend.compareAndSwap('x', {key: '/a', value: 'y'}), NotFoundError)
      await assert.rejects(backend.get('/a'), NotFoundError)
    })

    check('empty keys are refused', async ({backend}) => {
      await assert.rejects(backend.put({key: '', value: '1'}), BadParameterError)
      await assert.rejects(backend.get(''), BadParameterError)
    })

    check('values are stored verbatim', async ({backend}) => {
      const value = JSON.stringify({text: 'line\nbreak \u00e9 \u{1F600}', empty: ''})
      await backend.put({key: '/json', value})
      await backend.put({key: '/empty', value: ''})
      assert.equal((await backend.get('/json')).value, value)
      assert.equal((await backend.get('/empty')).value, '')
    })
  })

  describe('ranges', () => {
    const keys = ['/users/b', '/usersx', '/users/a/x', '/user', '/users/ab', '/users', '/users/a', '/v']

    async function seed(backend: Backend): Promise<void> {
      for (const key of keys) await backend.put({key, value: `value of ${key}`})
    }

    check('getRange returns exactly the keys under the prefix, sorted', async ({backend}) => {
      await seed(backend)
      const keysOf = async (prefix: string) => (await backend.getRange(prefix)).map((item) => item.key)
      assert.deepEqual(await keysOf('/users/'), ['/users/a', '/users/a/x', '/users/ab', '/users/b'])
      assert.deepEqual(await keysOf('/users/a'), ['/users/a', '/users/a/x', '/users/ab'])
      assert.deepEqual(await keysOf('/users/a/'), ['/users/a/x'])
      assert.deepEqual(await keysOf('/users/c'), [])
      assert.deepEqual(await keysOf(''), [...keys].sort())
    })

    check('getRange returns whole items', async ({backend}) => {
      const put = await backend.put({key: '/r/1', value: 'one'})
      assert.deepEqual(await backend.getRange('/r/'), [put])
    })

    check('getRange sorts by code point (UTF-8 byte order), not UTF-16', async ({backend}) => {
      const unicode = ['/u/\u{1F600}', '/u/\uffee', '/u/a', '/u/\u00e9', '/ux']
      for (const key of unicode) await backend.put({key, value: '1'})
      const found = (await backend.getRange('/u/')).map((item) => item.key)
      assert.deepEqual(found, ['/u/a', '/u/\u00e9', '/u/\uffee', '/u/\u{1F600}'])
      assert.deepEqual((await backend.getRange('/u/\uffee')).map((item) => item.key), ['/u/\uffee'])
    })

    check('getRange honours limit', async ({backend}) => {
      await seed(backend)
      const firstTwo = await backend.getRange('/users/', 2)
      assert.deepEqual(
        firstTwo.map((item) => item.key),
        ['/users/a', '/users/a/x'],
      )
      assert.equal((await backend.getRange('/users/', 100)).length, 4)
      assert.deepEqual(await backend.getRange('/users/', 0), [])
    })

    check('deleteRange removes only the prefix and counts what it removed', async ({backend}) => {
      await seed(backend)
      assert.equal(await backend.deleteRange('/users/a'), 3)
      const left = (await backend.getRange('')).map((item) => item.key)
      assert.deepEqual(left, ['/user', '/users', '/users/b', '/usersx', '/v'])
      assert.equal(await backend.deleteRange('/nothing/'), 0)
    })

    check('deleteRange refuses an empty prefix', async ({backend}) => {
      await seed(backend)
      await assert.rejects(backend.deleteRange(''), BadParameterError)
      assert.equal((await backend.getRange('')).length, keys.length)
    })
  })

  describe('expiry', () => {
    check('an item is visible until it expires, then invisible to every read', async ({backend, clock}) => {
      const expires = new Date(clock.now().getTime() + 10 * SECOND)
      const put = await backend.put({key: '/tmp/a', value: '1', expires})
      assert.equal(put.expires?.getTime(), expires.getTime())
      assert.equal((await backend.get('/tmp/a')).expires?.getTime(), expires.getTime())

      clock.advance(10 * SECOND - 1)
      assert.equal((await backend.get('/tmp/a')).value, '1')

      clock.advance(1)
      await assert.rejects(backend.get('/tmp/a'), NotFoundError)
      assert.deepEqual(await backend.getRange('/tmp/'), [])
      await assert.rejects(backend.update({key: '/tmp/a', value: '2'}), NotFoundError)
      await assert.rejects(backend.compareAndSwap('1', {key: '/tmp/a', value: '2'}), NotFoundError)
      await assert.rejects(backend.delete('/tmp/a'), NotFoundError)
    })

    check('create over an expired key succeeds', async ({backend, clock}) => {
      await backend.create({key: '/lock', value: 'old', expires: new Date(clock.now().getTime() + SECOND)})
      await assert.rejects(backend.create({key: '/lock', value: 'new'}), AlreadyExistsError)
      clock.advance(SECOND)
      const created = await backend.create({key: '/lock', value: 'new'})
      assert.equal(created.expires, undefined)
      assert.equal((await backend.get('/lock')).value, 'new')
    })

    check('put over an expiring key can remove the expiry', async ({backend, clock}) => {
      await backend.put({key: '/a', value: '1', expires: new Date(clock.now().getTime() + SECOND)})
      await backend.put({key: '/a', value: '2'})
      clock.advance(365 * 24 * 3600 * SECOND)
      const item = await backend.get('/a')
      assert.equal(item.value, '2')
      assert.equal(item.expires, undefined)
    })

    check('getRange limit counts only live items', async ({backend, clock}) => {
      await backend.put({key: '/r/1', value: '1', expires: new Date(clock.now().getTime() + SECOND)})
      await backend.put({key: '/r/2', value: '2'})
      await backend.put({key: '/r/3', value: '3'})
      clock.advance(SECOND)
      assert.deepEqual(
        (await backend.getRange('/r/', 1)).map((item) => item.key),
        ['/r/2'],
      )
    })

    check('deleteRange does not count expired items', async ({backend, clock}) => {
      await backend.put({key: '/r/1', value: '1', expires: new Date(clock.now().getTime() + SECOND)})
      await backend.put({key: '/r/2', value: '2'})
      clock.advance(SECOND)
      assert.equal(await backend.deleteRange('/r/'), 1)
      assert.deepEqual(await backend.getRange('/r/'), [])
    })

    check('the sweeper leaves live items alone', async (t) => {
      const {backend, clock} = t
      await backend.put({key: '/short', value: '1', expires: new Date(clock.now().getTime() + SECOND)})
      await backend.put({key: '/long', value: '1', expires: new Date(clock.now().getTime() + 60 * SECOND)})
      await backend.put({key: '/forever', value: '1'})
      clock.advance(SECOND)
      await t.sweepExpired()
      assert.deepEqual(
        (await backend.getRange('/')).map((item) => item.key),
        ['/forever', '/long'],
      )
    })

    check('an invalid expiry date is refused', async ({backend}) => {
      await assert.rejects(backend.put({key: '/a', value: '1', expires: new Date(NaN)}), BadParameterError)
    })

    check('keepAlive moves a live item\'s expiry under a new revision and keeps its value', async ({backend, clock}) => {
      const put = await backend.put({key: '/nodes/n1', value: 'record', expires: new Date(clock.now().getTime() + 10 * SECOND)})
      clock.advance(5 * SECOND)
      const later = new Date(clock.now().getTime() + 10 * SECOND)
      const renewed = await backend.keepAlive('/nodes/n1', later)
      assert.equal(renewed.value, 'record')
      assert.equal(renewed.expires?.getTime(), later.getTime())
      assert.ok(renewed.revision > put.revision)
      clock.advance(9 * SECOND)
      const item = await backend.get('/nodes/n1')
      assert.deepEqual({value: item.value, expires: item.expires?.getTime(), revision: item.revision}, {value: 'record', expires: later.getTime(), revision: renewed.revision})
      clock.advance(SECOND)
      await assert.rejects(backend.get('/nodes/n1'), NotFoundError)
    })

    check('keepAlive of a missing or expired item throws NotFoundError and creates nothing', async ({backend, clock}) => {
      const later = new Date(clock.now().getTime() + 60 * SECOND)
      await assert.rejects(backend.keepAlive('/nodes/none', later), NotFoundError)
      await backend.put({key: '/nodes/n1', value: 'record', expires: new Date(clock.now().getTime() + SECOND)})
      clock.advance(SECOND)
      await assert.rejects(backend.keepAlive('/nodes/n1', later), NotFoundError)
      assert.deepEqual(await backend.getRange('/nodes/'), [])
      await assert.rejects(backend.keepAlive('/nodes/n2', new Date(NaN)), NotFoundError)
    })

    check('keepAlive with the caller\'s copy renews it; a copy that is out of date renews what is stored, never the copy', async ({backend, clock}) => {
      const first = await backend.put({key: '/nodes/n1', value: 'v1', expires: new Date(clock.now().getTime() + 10 * SECOND)})
      const later = new Date(clock.now().getTime() + 60 * SECOND)
      const renewed = await backend.keepAlive('/nodes/n1', later, first)
      assert.deepEqual({value: renewed.value, expires: renewed.expires?.getTime()}, {value: 'v1', expires: later.getTime()})
      await backend.put({key: '/nodes/n1', value: 'v2', expires: new Date(clock.now().getTime() + 10 * SECOND)})
      const again = await backend.keepAlive('/nodes/n1', later, renewed)
      assert.equal(again.value, 'v2')
      assert.equal((await backend.get('/nodes/n1')).value, 'v2')
      assert.equal((await backend.get('/nodes/n1')).expires?.getTime(), later.getTime())
    })

    check('keepAlive with the caller\'s copy of an item since deleted or expired throws NotFoundError and writes nothing', async ({backend, clock}) => {
      const held = await backend.put({key: '/nodes/n1', value: 'v1', expires: new Date(clock.now().getTime() + 10 * SECOND)})
      await backend.delete('/nodes/n1')
      await assert.rejects(backend.keepAlive('/nodes/n1', new Date(clock.now().getTime() + 60 * SECOND), held), NotFoundError)
      await assert.rejects(backend.get('/nodes/n1'), NotFoundError)
      const short = await backend.put({key: '/nodes/n2', value: 'v1', expires: new Date(clock.now().getTime() + SECOND)})
      clock.advance(SECOND)
      await assert.rejects(backend.keepAlive('/nodes/n2', new Date(clock.now().getTime() + 60 * SECOND), short), NotFoundError)
      await assert.rejects(backend.get('/nodes/n2'), NotFoundError)
    })

    check('keepAlive refuses an invalid expiry date and leaves the item as it was', async ({backend, clock}) => {
      const expires = new Date(clock.now().getTime() + 10 * SECOND)
      await backend.put({key: '/nodes/n1', value: 'record', expires})
      await assert.rejects(backend.keepAlive('/nodes/n1', new Date(NaN)), BadParameterError)
      assert.equal((await backend.get('/nodes/n1')).expires?.getTime(), expires.getTime())
    })
  })

  describe('atomicWrite', () => {
    check('applies several operations together', async ({backend}) => {
      await backend.put({key: '/old', value: 'x'})
      await backend.atomicWrite([
        {op: 'put', item: {key: '/a', value: '1'}},
        {op: 'put', item: {key: '/b', value: '2'}},
        {op: 'delete', key: '/old'},
      ])
      assert.equal((await backend.get('/a')).value, '1')
      assert.equal((await backend.get('/b')).value, '2')
      await assert.rejects(backend.get('/old'), NotFoundError)
    })

    check('applies when every condition holds', async ({backend}) => {
      await backend.put({key: '/counter', value: '1'})
      await backend.put({key: '/present', value: 'yes'})
      await backend.atomicWrite(
        [
          {op: 'put', item: {key: '/counter', value: '2'}},
          {op: 'put', item: {key: '/new', value: 'n'}},
        ],
        [
          {key: '/counter', kind: 'value-equals', value: '1'},
          {key: '/present', kind: 'exists'},
          {key: '/new', kind: 'not-exists'},
        ],
      )
      assert.equal((await backend.get('/counter')).value, '2')
      assert.equal((await backend.get('/new')).value, 'n')
    })

    const failingConditions = [
      {name: 'value-equals on a changed value', condition: {key: '/counter', kind: 'value-equals', value: '0'}},
      {name: 'value-equals on a missing key', condition: {key: '/missing', kind: 'value-equals', value: ''}},
      {name: 'exists on a missing key', condition: {key: '/missing', kind: 'exists'}},
      {name: 'not-exists on an existing key', condition: {key: '/counter', kind: 'not-exists'}},
    ] as const

    for (const {name, condition} of failingConditions) {
      check(`a failed condition (${name}) changes nothing and names the key`, async ({backend}) => {
        const counter = await backend.put({key: '/counter', value: '1'})
        const other = await backend.put({key: '/other', value: 'keep'})
        const watcher = backend.watch()
        const attempt = backend.atomicWrite(
          [
            {op: 'put', item: {key: '/counter', value: '2'}},
            {op: 'put', item: {key: '/created', value: 'c'}},
            {op: 'delete', key: '/other'},
          ],
          [{key: '/other', kind: 'exists'}, condition],
        )
        await assert.rejects(attempt, (error: unknown) => {
          assert.ok(error instanceof CompareFailedError, `expected CompareFailedError, got ${String(error)}`)
          assert.match(error.message, new RegExp(condition.key))
          return true
        })
        assert.deepEqual(await backend.get('/counter'), counter)
        assert.deepEqual(await backend.get('/other'), other)
        await assert.rejects(backend.get('/created'), NotFoundError)
        // Nothing was logged either: the next event a watcher sees is a later write.
        await backend.put({key: '/marker', value: 'm'})
        const reader = new WatchReader(watcher)
        assert.equal(describeEvent(await reader.next()), 'put /marker=m')
        watcher.close()
      })
    }

    check('conditions treat expired items as missing', async ({backend, clock}) => {
      await backend.put({key: '/lease', value: 'holder', expires: new Date(clock.now().getTime() + SECOND)})
      clock.advance(SECOND)
      await assert.rejects(
        backend.atomicWrite([{op: 'put', item: {key: '/x', value: '1'}}], [{key: '/lease', kind: 'exists'}]),
        CompareFailedError,
      )
      await assert.rejects(
        backend.atomicWrite(
          [{op: 'put', item: {key: '/x', value: '1'}}],
          [{key: '/lease', kind: 'value-equals', value: 'holder'}],
        ),
        CompareFailedError,
      )
      await backend.atomicWrite(
        [{op: 'put', item: {key: '/lease', value: 'next'}}],
        [{key: '/lease', kind: 'not-exists'}],
      )
      assert.equal((await backend.get('/lease')).value, 'next')
    })

    check('deleting a missing key inside atomicWrite is a no-op', async ({backend}) => {
      await backend.atomicWrite([
        {op: 'delete', key: '/missing'},
        {op: 'put', item: {key: '/a', value: '1'}},
      ])
      assert.equal((await backend.get('/a')).value, '1')
    })

    check('two operations on one key are refused', async ({backend}) => {
      await assert.rejects(
        backend.atomicWrite([
          {op: 'put', item: {key: '/a', value: '1'}},
          {op: 'delete', key: '/a'},
        ]),
        BadParameterError,
      )
      await assert.rejects(backend.get('/a'), NotFoundError)
    })

    check('items written atomically carry their expiry', async ({backend, clock}) => {
      await backend.atomicWrite([
        {op: 'put', item: {key: '/a', value: '1', expires: new Date(clock.now().getTime() + SECOND)}},
        {op: 'put', item: {key: '/b', value: '2'}},
      ])
      clock.advance(SECOND)
      await assert.rejects(backend.get('/a'), NotFoundError)
      assert.equal((await backend.get('/b')).value, '2')
    })
  })

  describe('watch', () => {
    check('sees puts and deletes in revision order', async ({backend}) => {
      const reader = new WatchReader(backend.watch())
      const a = await backend.put({key: '/a', value: '1'})
      const b = await backend.put({key: '/b', value: '2'})
      await backend.delete('/a')
      const events = await reader.take(3)
      assert.deepEqual(events.map(describeEvent), ['put /a=1', 'put /b=2', 'delete /a'])
      assert.deepEqual(events[0]!.item, a)
      assert.deepEqual(events[1]!.item, b)
      assert.ok(events[2]!.item.revision > b.revision)
      reader.watcher.close()
    })

    check('reports every kind of write', async ({backend}) => {
      await backend.put({key: '/cas', value: '0'})
      await backend.put({key: '/range/1', value: '1'})
      await backend.put({key: '/range/2', value: '2'})
      const reader = new WatchReader(backend.watch())
      await backend.create({key: '/c', value: 'c'})
      await backend.update({key: '/c', value: 'u'})
      await backend.compareAndSwap('0', {key: '/cas', value: '1'})
      await backend.deleteRange('/range/')
      await backend.atomicWrite([
        {op: 'put', item: {key: '/x', value: 'x'}},
        {op: 'delete', key: '/c'},
      ])
      const events = await reader.take(7)
      assert.deepEqual(events.map(describeEvent), [
        'put /c=c',
        'put /c=u',
        'put /cas=1',
        'delete /range/1',
        'delete /range/2',
        'put /x=x',
        'delete /c',
      ])
      for (let i = 1; i < events.length; i++) assert.ok(events[i]!.item.revision >= events[i - 1]!.item.revision)
      reader.watcher.close()
    })

    check('a keepAlive is delivered as a put with the new expiry', async ({backend, clock}) => {
      await backend.put({key: '/nodes/n1', value: 'record', expires: new Date(clock.now().getTime() + 10 * SECOND)})
      const reader = new WatchReader(backend.watch({prefixes: ['/nodes/']}))
      const later = new Date(clock.now().getTime() + 60 * SECOND)
      const renewed = await backend.keepAlive('/nodes/n1', later)
      const event = await reader.next()
      assert.deepEqual(
        {type: event.type, key: event.item.key, value: event.item.value, expires: event.item.expires?.getTime(), revision: event.item.revision},
        {type: 'put', key: '/nodes/n1', value: 'record', expires: later.getTime(), revision: renewed.revision},
      )
      reader.watcher.close()
    })

    check('a put event carries the expiry', async ({backend, clock}) => {
      const reader = new WatchReader(backend.watch())
      const expires = new Date(clock.now().getTime() + 60 * SECOND)
      await backend.put({key: '/a', value: '1', expires})
      const event = await reader.next()
      assert.equal(event.item.expires?.getTime(), expires.getTime())
      reader.watcher.close()
    })

    check('filters by prefix', async ({backend}) => {
      const reader = new WatchReader(backend.watch({prefixes: ['/nodes/', '/users/a']}))
      await backend.put({key: '/nodesx', value: '1'})
      await backend.put({key: '/roles/admin', value: '1'})
      await backend.put({key: '/nodes/n1', value: '1'})
      await backend.put({key: '/users/b', value: '1'})
      await backend.put({key: '/users/alice', value: '1'})
      await backend.delete('/roles/admin')
      await backend.delete('/nodes/n1')
      const events = await reader.take(3)
      assert.deepEqual(events.map(describeEvent), ['put /nodes/n1=1', 'put /users/alice=1', 'delete /nodes/n1'])
      reader.watcher.close()
    })

    check('an empty prefix list means every key', async ({backend}) => {
      const reader = new WatchReader(backend.watch({prefixes: []}))
      await backend.put({key: '/anything', value: '1'})
      assert.equal(describeEvent(await reader.next()), 'put /anything=1')
      reader.watcher.close()
    })

    check('without afterRevision only later changes are delivered', async ({backend}) => {
      await backend.put({key: '/before', value: '1'})
      const reader = new WatchReader(backend.watch())
      await backend.put({key: '/after', value: '1'})
      assert.equal(describeEvent(await reader.next()), 'put /after=1')
      reader.watcher.close()
    })

    check('afterRevision replays past changes, then continues live', async ({backend}) => {
      const first = await backend.put({key: '/a', value: '1'})
      await backend.put({key: '/b', value: '2'})
      await backend.delete('/a')
      const reader = new WatchReader(backend.watch({afterRevision: first.revision}))
      assert.deepEqual((await reader.take(2)).map(describeEvent), ['put /b=2', 'delete /a'])
      await backend.put({key: '/c', value: '3'})
      assert.equal(describeEvent(await reader.next()), 'put /c=3')
      reader.watcher.close()
    })

    check('afterRevision 0 replays all history, with prefixes applied', async ({backend}) => {
      await backend.put({key: '/x/1', value: '1'})
      await backend.put({key: '/y/1', value: '1'})
      await backend.put({key: '/x/2', value: '2'})
      const reader = new WatchReader(backend.watch({afterRevision: 0, prefixes: ['/x/']}))
      assert.deepEqual((await reader.take(2)).map(describeEvent), ['put /x/1=1', 'put /x/2=2'])
      reader.watcher.close()
    })

    check('a long history is replayed completely and in order', async ({backend}) => {
      const start = await backend.put({key: '/start', value: '0'})
      const count = 1200 // more than one internal batch
      await backend.atomicWrite(
        Array.from({length: count}, (_, i) => ({op: 'put' as const, item: {key: `/bulk/${i}`, value: String(i)}})),
      )
      const reader = new WatchReader(backend.watch({afterRevision: start.revision}))
      const events = await reader.take(count)
      assert.deepEqual(
        events.map((event) => event.item.value),
        Array.from({length: count}, (_, i) => String(i)),
      )
      reader.watcher.close()
    })

    check('expiry is delivered as a delete once swept', async (t) => {
      const {backend, clock} = t
      const reader = new WatchReader(backend.watch({prefixes: ['/sessions/']}))
      await backend.put({key: '/sessions/s1', value: '1', expires: new Date(clock.now().getTime() + 5 * SECOND)})
      await backend.put({key: '/sessions/s2', value: '2', expires: new Date(clock.now().getTime() + 50 * SECOND)})
      assert.deepEqual((await reader.take(2)).map(describeEvent), ['put /sessions/s1=1', 'put /sessions/s2=2'])
      clock.advance(5 * SECOND)
      await t.sweepExpired()
      const expired = await reader.next()
      assert.equal(describeEvent(expired), 'delete /sessions/s1')
      await assert.rejects(backend.get('/sessions/s1'), NotFoundError)
      assert.equal((await backend.get('/sessions/s2')).value, '2')
      reader.watcher.close()
    })

    check('several watchers each see every change', async ({backend}) => {
      const one = new WatchReader(backend.watch())
      const two = new WatchReader(backend.watch({prefixes: ['/a']}))
      await backend.put({key: '/a', value: '1'})
      await backend.put({key: '/b', value: '1'})
      assert.deepEqual((await one.take(2)).map(describeEvent), ['put /a=1', 'put /b=1'])
      assert.equal(describeEvent(await two.next()), 'put /a=1')
      one.watcher.close()
      two.watcher.close()
    })

    check('a watcher waiting for an event wakes on a later write', async ({backend}) => {
      const reader = new WatchReader(backend.watch())
      const pending = reader.next()
      await new Promise((resolve) => setImmediate(resolve))
      await backend.put({key: '/late', value: '1'})
      assert.equal(describeEvent(await pending), 'put /late=1')
      reader.watcher.close()
    })

    check('close ends a for-await loop', async ({backend}) => {
      const watcher = backend.watch()
      const seen: string[] = []
      let sawFirst!: () => void
      const first = new Promise<void>((resolve) => (sawFirst = resolve))
      const loop = (async () => {
        for await (const event of watcher) {
          seen.push(describeEvent(event))
          sawFirst()
        }
      })()
      await backend.put({key: '/a', value: '1'})
      await withDeadline(first, 'the first event')
      watcher.close()
      await withDeadline(loop, 'the loop to end')
      assert.deepEqual(seen, ['put /a=1'])
    })

    check('close ends a read that is waiting for an event', async ({backend}) => {
      const reader = new WatchReader(backend.watch())
      const ended = reader.ended()
      await new Promise((resolve) => setImmediate(resolve))
      reader.watcher.close()
      await ended
    })

    check('breaking out of for-await closes the watcher', async ({backend}) => {
      const watcher = backend.watch({afterRevision: 0})
      await backend.put({key: '/a', value: '1'})
      await backend.put({key: '/b', value: '1'})
      for await (const event of watcher) {
        assert.equal(event.item.key, '/a')
        break
      }
      await new WatchReader(watcher).ended()
    })

    check('closing the backend ends its watches', async (t) => {
      const reader = new WatchReader(t.backend.watch())
      const pending = reader.ended()
      await t.backend.close()
      await pending
    })

    check('a negative afterRevision is refused', async ({backend}) => {
      assert.throws(() => backend.watch({afterRevision: -1}), BadParameterError)
    })

    check('resuming from pruned history fails with WatchCompactedError', async (t) => {
      if (!t.compactChangeLog) return
      const {backend} = t
      const first = await backend.put({key: '/a', value: '1'})
      const second = await backend.put({key: '/a', value: '2'})
      await backend.put({key: '/a', value: '3'})
      await t.compactChangeLog(second.revision)

      const tooOld = new WatchReader(backend.watch({afterRevision: first.revision}))
      const error = await tooOld.failure()
      assert.ok(error instanceof WatchCompactedError, `expected WatchCompactedError, got ${String(error)}`)
      await tooOld.ended()

      const recent = new WatchReader(backend.watch({afterRevision: second.revision}))
      assert.equal(describeEvent(await recent.next()), 'put /a=3')
      recent.watcher.close()
    })
  })

  check('operations after close are refused', async (t) => {
    await t.backend.close()
    await assert.rejects(t.backend.get('/a'))
    await assert.rejects(t.backend.put({key: '/a', value: '1'}))
  })
}
