import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import Database from 'better-sqlite3'
import {SqliteBackend, WatchCompactedError, openBackend, type SqliteBackendOptions} from '../../../src/backend/index.js'
import {FakeClock} from '../../../src/lib/clock.js'
import {UserError} from '../../../src/lib/errors.js'
import {backendConformance} from './conformance.js'
import {WatchReader, describeEvent, withDeadline} from './watch-reader.js'

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const writerScript = fileURLToPath(new URL('./fixtures/sqlite-writer.ts', import.meta.url))

/** A temporary data dir; the backend file goes in a subdirectory that does not exist yet. */
function tempDataDir(): {dir: string; path: string; remove(): void} {
  const dir = mkdtempSync(join(tmpdir(), 'backend-test-'))
  return {dir, path: join(dir, 'data', 'backend.db'), remove: () => rmSync(dir, {recursive: true, force: true})}
}

describe('SqliteBackend', () => {
  backendConformance(() => {
    const data = tempDataDir()
    const clock = new FakeClock()
    const backend = SqliteBackend.open(data.path, clock)
    return {
      backend,
      clock,
      sweepExpired: () => void backend.sweepExpired(),
      compactChangeLog: (through) => backend.compactChangeLog(through),
      dispose: async () => {
        await backend.close()
        data.remove()
      },
    }
  })

  describe('on disk', () => {
    /** Runs `body` with a fresh data dir, removed afterwards along with every backend it opened. */
    function withFile(
      name: string,
      body: (open: (options?: SqliteBackendOptions) => SqliteBackend, path: string, clock: FakeClock) => Promise<void>,
    ): void {
      test(name, async () => {
        const data = tempDataDir()
        const clock = new FakeClock()
        const opened: SqliteBackend[] = []
        const open = (options?: SqliteBackendOptions) => {
          const backend = SqliteBackend.open(data.path, clock, options)
          opened.push(backend)
          return backend
        }
        try {
          await body(open, data.path, clock)
        } finally {
          for (const backend of opened) await backend.close()
          data.remove()
        }
      })
    }

    withFile('creates the file 0600 in a new directory 0700, in WAL mode', async (open, path) => {
      const backend = open()
      await backend.put({key: '/a', value: '1'})
      assert.equal(statSync(path).mode & 0o777, 0o600)
      assert.equal(statSync(join(path, '..')).mode & 0o777, 0o700)
      for (const sidecar of [`${path}-wal`, `${path}-shm`]) {
        if (existsSync(sidecar)) assert.equal(statSync(sidecar).mode & 0o777, 0o600, sidecar)
      }
      const raw = new Database(path, {readonly: true})
      try {
        assert.equal(raw.pragma('journal_mode', {simple: true}), 'wal')
      } finally {
        raw.close()
      }
    })

    withFile('data, expiries, revisions and history survive close and reopen', async (open, path, clock) => {
      const first = open()
      const a = await first.put({key: '/a', value: '1'})
      await first.put({key: '/tmp', value: 't', expires: new Date(clock.now().getTime() + 1000)})
      const b = await first.put({key: '/b', value: '2'})
      await first.close()

      const second = open()
      assert.deepEqual(await second.get('/a'), a)
      assert.deepEqual(await second.get('/b'), b)
      assert.equal((await second.get('/tmp')).expires?.getTime(), clock.now().getTime() + 1000)
      const c = await second.put({key: '/c', value: '3'})
      assert.ok(c.revision > b.revision, 'revisions continue after reopening')

      const reader = new WatchReader(second.watch({afterRevision: a.revision}))
      assert.deepEqual((await reader.take(3)).map(describeEvent), ['put /tmp=t', 'put /b=2', 'put /c=3'])
      reader.watcher.close()
      assert.ok(path.endsWith('backend.db'))
    })

    withFile('a second instance on the same file sees writes and its watcher gets them', async (open) => {
      const one = open()
      const two = open() // shares nothing in memory with `one`: it learns of writes only from the file
      const reader = new WatchReader(two.watch({prefixes: ['/shared/']}))
      await one.put({key: '/shared/a', value: '1'})
      await one.put({key: '/other', value: 'x'})
      await one.delete('/shared/a')
      await two.put({key: '/shared/b', value: '2'})
      assert.deepEqual((await reader.take(3)).map(describeEvent), ['put /shared/a=1', 'delete /shared/a', 'put /shared/b=2'])
      assert.equal((await one.get('/shared/b')).value, '2')
      assert.equal((await two.get('/other')).value, 'x')
      await assert.rejects(one.create({key: '/shared/b', value: 'again'}))
      reader.watcher.close()
    })

    withFile("one instance's sweep reaches another instance's watcher", async (open, _path, clock) => {
      const sweeper = open()
      const watching = open()
      await sweeper.put({key: '/lease', value: '1', expires: new Date(clock.now().getTime() + 1000)})
      const reader = new WatchReader(watching.watch())
      clock.advance(1000)
      assert.equal(sweeper.sweepExpired(), 1)
      assert.equal(describeEvent(await reader.next()), 'delete /lease')
      reader.watcher.close()
    })

    withFile('the periodic sweeper reports expiries without being called', async (open, _path, clock) => {
      const backend = open({sweepIntervalMs: 20})
      const reader = new WatchReader(backend.watch())
      await backend.put({key: '/lease', value: '1', expires: new Date(clock.now().getTime() + 1000)})
      assert.equal(describeEvent(await reader.next()), 'put /lease=1')
      clock.advance(1000)
      assert.equal(describeEvent(await reader.next()), 'delete /lease')
      reader.watcher.close()
    })

    withFile('the change log is pruned by count', async (open) => {
      const backend = open({changeLogMaxEvents: 2})
      const revisions: number[] = []
      for (let i = 0; i < 5; i++) revisions.push((await backend.put({key: '/a', value: String(i)})).revision)
      backend.compactChangeLog()
      const tooOld = new WatchReader(backend.watch({afterRevision: revisions[1]!}))
      assert.ok((await tooOld.failure()) instanceof WatchCompactedError)
      const recent = new WatchReader(backend.watch({afterRevision: revisions[2]!}))
      assert.deepEqual((await recent.take(2)).map(describeEvent), ['put /a=3', 'put /a=4'])
      recent.watcher.close()
    })

    withFile('the change log is pruned by age', async (open, _path, clock) => {
      const backend = open({changeLogRetentionMs: 60_000})
      const old = await backend.put({key: '/a', value: 'old'})
      clock.advance(60_001)
      const recent = await backend.put({key: '/a', value: 'recent'})
      backend.compactChangeLog()
      assert.ok((await new WatchReader(backend.watch({afterRevision: 0})).failure()) instanceof WatchCompactedError)
      const reader = new WatchReader(backend.watch({afterRevision: old.revision}))
      assert.deepEqual(await reader.next(), {type: 'put', item: recent})
      reader.watcher.close()
    })

    withFile('concurrent writer processes neither lose updates nor corrupt the file', async (open, path) => {
      const writers = 4
      const perWriter = 25
      const parent = open()
      await parent.put({key: '/counter', value: '0'})
      const reader = new WatchReader(parent.watch({prefixes: ['/counter']}))

      const exits = Array.from({length: writers}, (_, id) => runWriter(path, String(id), perWriter))
      await withDeadline(Promise.all(exits), 'the writer processes', 120_000)

      const total = writers * perWriter
      assert.equal((await parent.get('/counter')).value, String(total))
      assert.equal((await parent.getRange('/writers/')).length, total)
      // Every increment reached this process's watcher, in order: the log serialized them.
      const values = (await reader.take(total)).map((event) => event.item.value)
      assert.deepEqual(values, Array.from({length: total}, (_, i) => String(i + 1)))
      reader.watcher.close()

      await parent.close()
      const raw = new Database(path, {readonly: true})
      try {
        assert.equal(raw.pragma('integrity_check', {simple: true}), 'ok')
      } finally {
        raw.close()
      }
    })

    withFile('refuses a file written by a newer schema', async (open, path) => {
      open()
      const raw = new Database(path)
      raw.pragma('user_version = 999')
      raw.close()
      assert.throws(() => open(), UserError)
    })
  })

  test('openBackend builds either implementation', async () => {
    const data = tempDataDir()
    try {
      const sqlite = await openBackend({type: 'sqlite', path: data.path}, new FakeClock())
      assert.ok(sqlite instanceof SqliteBackend)
      await sqlite.put({key: '/a', value: '1'})
      await sqlite.close()
      const memory = await openBackend({type: 'memory'})
      await assert.rejects(memory.get('/a'))
      await memory.close()
    } finally {
      data.remove()
    }
  })
})

function runWriter(path: string, id: string, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writerScript, path, id, String(count)], {
      cwd: repoRoot,
      stdio: ['ignore', 'inherit', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer ${id} exited ${code}: ${stderr}`))))
  })
}
