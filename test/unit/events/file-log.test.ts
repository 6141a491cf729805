import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {appendFile, chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {FakeClock} from '../../../src/lib/clock.js'
import {EventCode, EventName, FileAuditLog, makeEvent, type AuditEvent, type FileAuditLogOptions} from '../../../src/events/index.js'
import {auditLogConformance} from './conformance.js'

const HOUR = 3_600_000

async function tempDataDir(): Promise<{dataDir: string; remove(): Promise<void>}> {
  const dataDir = await mkdtemp(join(tmpdir(), 'audit-file-log-'))
  return {dataDir, remove: () => rm(dataDir, {recursive: true, force: true})}
}

/** Opens a log in a fresh temp dir, runs `body`, closes and removes everything. */
async function withFileLog(
  body: (ctx: {log: FileAuditLog; dataDir: string; warnings: string[]; reopen(): Promise<FileAuditLog>}) => Promise<void>,
  options: Partial<FileAuditLogOptions> = {},
): Promise<void> {
  const temp = await tempDataDir()
  const warnings: string[] = []
  const opened: FileAuditLog[] = []
  const openLog = async () => {
    const log = await FileAuditLog.open({dataDir: temp.dataDir, onWarning: (m) => warnings.push(m), ...options})
    opened.push(log)
    return log
  }
  try {
    await body({log: await openLog(), dataDir: temp.dataDir, warnings, reopen: openLog})
  } finally {
    for (const log of opened) await log.close()
    await temp.remove()
  }
}

function login(clock: FakeClock, user = 'alice'): AuditEvent {
  return makeEvent(EventName.UserLogin, EventCode.UserLogin, {user, method: 'local'}, clock)
}

async function linesOf(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '')
}

const uids = (events: AuditEvent[]) => events.map((e) => e.uid)

describe('FileAuditLog', () => {
  auditLogConformance(async () => {
    const temp = await tempDataDir()
    const log = await FileAuditLog.open({dataDir: temp.dataDir, onWarning: () => {}})
    return {
      log,
      dispose: async () => {
        await log.close()
        await temp.remove()
      },
    }
  })

  test('writes JSON lines to <data_dir>/log/<UTC day>.log', () =>
    withFileLog(async ({log, dataDir}) => {
      const clock = new FakeClock(Date.parse('2026-11-21T08:00:00.000Z'))
      const event = login(clock)
      await log.emit(event)
      assert.equal(log.dir, join(dataDir, 'log'))
      const lines = await linesOf(join(dataDir, 'log', '2026-11-21.log'))
      assert.equal(lines.length, 1)
      assert.deepEqual(JSON.parse(lines[0]!), event)
    }))

  test('a user name with control characters stays one line, escaped, and reads back as it was', () =>
    withFileLog(async ({log, dataDir}) => {
      const clock = new FakeClock(Date.parse('2026-11-21T08:00:00.000Z'))
      const event = login(clock, 'bob\n{"event":"user.login"}\x1b[2J\x9b2J\u202e')
      await log.emit(event)
      const lines = await linesOf(join(dataDir, 'log', '2026-11-21.log'))
      assert.equal(lines.length, 1)
      assert.ok(!/[\x00-\x1f\x7f-\x9f\u202e]/.test(lines[0]!), lines[0])
      assert.deepEqual(JSON.parse(lines[0]!), event)
      assert.deepEqual(uids(await log.search({from: new Date(0), to: new Date(Date.parse('2027-01-01'))})), [event.uid])
    }))

  test('rotates at the UTC day boundary by the event time', () =>
    withFileLog(async ({log}) => {
      const clock = new FakeClock(Date.parse('2026-11-21T23:59:59.999Z'))
      const before = login(clock, 'before-midnight')
      clock.advance(1)
      const after = login(clock, 'after-midnight')
      assert.equal(after.time, '2026-11-22T00:00:00.000Z')
      await log.emit(before)
      await log.emit(after)

      assert.deepEqual((await readdir(log.dir)).sort(), ['2026-11-21.log', '2026-11-22.log'])
      assert.deepEqual((await linesOf(join(log.dir, '2026-11-21.log'))).map((l) => JSON.parse(l).uid), [before.uid])
      assert.deepEqual((await linesOf(join(log.dir, '2026-11-22.log'))).map((l) => JSON.parse(l).uid), [after.uid])
    }))

  test('a late event goes to the file of its own day, not the newest file', () =>
    withFileLog(async ({log}) => {
      const clock = new FakeClock(Date.parse('2026-11-22T01:00:00.000Z'))
      const today = login(clock)
      clock.set(Date.parse('2026-11-21T22:00:00.000Z'))
      const yesterday = login(clock)
      await log.emit(today)
      await log.emit(yesterday)
      assert.deepEqual((await linesOf(join(log.dir, '2026-11-21.log'))).map((l) => JSON.parse(l).uid), [yesterday.uid])
    }))

  test('search spans day files and reads only the days its range touches', () =>
    withFileLog(async ({log, warnings}) => {
      const clock = new FakeClock(Date.parse('2026-11-20T12:00:00.000Z'))
      const byDay: AuditEvent[][] = []
      for (let day = 0; day < 4; day++) {
        const events = [login(clock), login(clock)]
        clock.advance(6 * HOUR)
        events.push(login(clock))
        clock.advance(18 * HOUR)
        for (const e of events) await log.emit(e)
        byDay.push(events)
      }
      assert.equal((await readdir(log.dir)).length, 4)
      // Poison the first and last day files: a search that opened them would count these lines.
      await appendFile(join(log.dir, '2026-11-20.log'), 'not json\n')
      await appendFile(join(log.dir, '2026-11-23.log'), 'not json\n')

      // From the evening of the 21st to the noon of the 22nd: two files, three events.
      const found = await log.search({from: new Date('2026-11-21T18:00:00.000Z'), to: new Date('2026-11-22T12:00:00.000Z')})
      assert.deepEqual(uids(found), uids([byDay[1]![2]!, byDay[2]![0]!, byDay[2]![1]!]))
      assert.equal(log.corruptLinesSkipped, 0, 'files outside the range were not read')
      assert.deepEqual(warnings, [])

      const desc = await log.search({from: new Date('2026-11-21T00:00:00.000Z'), to: new Date('2026-11-22T23:59:59.999Z'), order: 'desc', limit: 4})
      assert.deepEqual(uids(desc), uids([byDay[2]![2]!, byDay[2]![1]!, byDay[2]![0]!, byDay[1]![2]!]))
      assert.equal(log.corruptLinesSkipped, 0)
    }))

  test('search stops after the day that fills the limit', () =>
    withFileLog(async ({log}) => {
      const clock = new FakeClock(Date.parse('2026-11-20T12:00:00.000Z'))
      const first = [login(clock), login(clock)]
      for (const e of first) await log.emit(e)
      clock.advance(24 * HOUR)
      await log.emit(login(clock))
      await appendFile(join(log.dir, '2026-11-21.log'), 'not json\n')
      const found = await log.search({from: new Date('2026-11-01T00:00:00.000Z'), to: new Date('2026-12-01T00:00:00.000Z'), limit: 2})
      assert.deepEqual(uids(found), uids(first))
      assert.equal(log.corruptLinesSkipped, 0, 'the next day was not read')
    }))

  test('a range beyond four-digit years still finds events', () =>
    withFileLog(async ({log}) => {
      const event = login(new FakeClock(Date.parse('2026-11-21T00:00:00.000Z')))
      await log.emit(event)
      const found = await log.search({from: new Date(-8.64e15), to: new Date(8.64e15)})
      assert.deepEqual(uids(found), [event.uid])
    }))

  test('events survive closing and reopening', () =>
    withFileLog(async ({log, reopen}) => {
      const clock = new FakeClock(Date.parse('2026-11-21T10:00:00.000Z'))
      const before = [login(clock), login(clock)]
      for (const e of before) await log.emit(e)
      await log.close()

      const again = await reopen()
      const after = login(clock)
      await again.emit(after)
      const found = await again.search({from: new Date('2026-11-21T00:00:00.000Z'), to: new Date('2026-11-21T23:59:59.999Z')})
      assert.deepEqual(uids(found), uids([...before, after]))
    }))

  test('the log directory is 0700 and day files are 0600, even if they existed looser', async () => {
    const temp = await tempDataDir()
    try {
      const dir = join(temp.dataDir, 'log')
      await mkdir(dir, {mode: 0o755})
      await chmod(dir, 0o755)
      const existing = join(dir, '2026-11-21.log')
      await writeFile(existing, '')
      await chmod(existing, 0o644)

      const log = await FileAuditLog.open({dataDir: temp.dataDir})
      assert.equal((await stat(dir)).mode & 0o777, 0o700)
      const clock = new FakeClock(Date.parse('2026-11-21T10:00:00.000Z'))
      await log.emit(login(clock))
      clock.advance(24 * HOUR)
      await log.emit(login(clock))
      await log.close()
      assert.equal((await stat(existing)).mode & 0o777, 0o600)
      assert.equal((await stat(join(dir, '2026-11-22.log'))).mode & 0o777, 0o600)
    } finally {
      await temp.remove()
    }
  })

  test('a fresh data dir gets a 0700 log dir', () =>
    withFileLog(async ({log}) => {
      assert.equal((await stat(log.dir)).mode & 0o777, 0o700)
    }))

  test('corrupt lines are skipped, counted and warned about', () =>
    withFileLog(async ({log, warnings}) => {
      const clock = new FakeClock(Date.parse('2026-11-21T10:00:00.000Z'))
      const a = login(clock)
      clock.advance(1000)
      const b = login(clock)
      await log.emit(a)
      const file = join(log.dir, '2026-11-21.log')
      await appendFile(file, '{"event":"user.login","code":"T1000I","ti\n') // torn JSON
      await appendFile(file, '42\n') // JSON, but not an object
      await appendFile(file, '{"event":"user.login","code":"T1000I","uid":"u","time":"yesterday"}\n') // no usable time
      await appendFile(file, '\n') // blank lines are not corruption
      await log.emit(b)

      const found = await log.search({from: new Date('2026-11-21T00:00:00.000Z'), to: new Date('2026-11-21T23:59:59.999Z')})
      assert.deepEqual(uids(found), [a.uid, b.uid])
      assert.equal(log.corruptLinesSkipped, 3)
      assert.equal(warnings.length, 1)
      assert.match(warnings[0]!, /2026-11-21\.log.*3 corrupt line\(s\), first at line 2/)
    }))

  test('a torn last line left by a crash does not swallow the next event', () =>
    withFileLog(async ({log, dataDir, reopen}) => {
      await log.close()
      await writeFile(join(dataDir, 'log', '2026-11-21.log'), '{"event":"user.login","code":"T10') // no newline
      const again = await reopen()
      const event = login(new FakeClock(Date.parse('2026-11-21T10:00:00.000Z')))
      await again.emit(event)
      const found = await again.search({from: new Date('2026-11-21T00:00:00.000Z'), to: new Date('2026-11-21T23:59:59.999Z')})
      assert.deepEqual(uids(found), [event.uid])
      assert.equal(again.corruptLinesSkipped, 1)
    }))

  test('concurrent emits each land as one whole line', () =>
    withFileLog(async ({log}) => {
      const clock = new FakeClock(Date.parse('2026-11-21T23:59:59.990Z'))
      const events = Array.from({length: 60}, (_, i) => {
        clock.advance(i % 3 === 0 ? 1 : 0) // some cross midnight, so batches span two files
        return makeEvent(EventName.Exec, EventCode.Exec, {user: `u${i}`, command: 'x'.repeat(2000)}, clock)
      })
      await Promise.all(events.map((e) => log.emit(e)))

      const files = (await readdir(log.dir)).sort()
      assert.deepEqual(files, ['2026-11-21.log', '2026-11-22.log'])
      const lines = [...(await linesOf(join(log.dir, files[0]!))), ...(await linesOf(join(log.dir, files[1]!)))]
      assert.equal(lines.length, 60)
      assert.deepEqual(new Set(lines.map((l) => JSON.parse(l).uid)), new Set(uids(events)))
      const found = await log.search({from: new Date('2026-11-21T00:00:00.000Z'), to: new Date('2026-11-22T23:59:59.999Z'), limit: 100})
      assert.deepEqual(uids(found), uids(events), 'time order, ties in emission order')
    }))

  test('close waits for emits in flight', () =>
    withFileLog(async ({log, reopen}) => {
      const clock = new FakeClock(Date.parse('2026-11-21T10:00:00.000Z'))
      const events = Array.from({length: 10}, () => login(clock))
      const emits = events.map((e) => log.emit(e))
      await log.close()
      await Promise.all(emits)
      const again = await reopen()
      const found = await again.search({from: new Date('2026-11-21T00:00:00.000Z'), to: new Date('2026-11-21T23:59:59.999Z')})
      assert.equal(found.length, 10)
    }))

  test('works with sync off', () =>
    withFileLog(
      async ({log}) => {
        const event = login(new FakeClock(Date.parse('2026-11-21T10:00:00.000Z')))
        await log.emit(event)
        assert.deepEqual(uids(await log.search({from: new Date(event.time), to: new Date(event.time)})), [event.uid])
      },
      {sync: false},
    ))

  test('files that are not day files are ignored', () =>
    withFileLog(async ({log, warnings}) => {
      await mkdir(join(log.dir, 'records'))
      await writeFile(join(log.dir, 'notes.txt'), 'garbage\n')
      await writeFile(join(log.dir, '2026-11-21.log.bak'), 'garbage\n')
      const event = login(new FakeClock(Date.parse('2026-11-21T10:00:00.000Z')))
      await log.emit(event)
      const found = await log.search({from: new Date('2026-11-01T00:00:00.000Z'), to: new Date('2026-11-30T00:00:00.000Z')})
      assert.deepEqual(uids(found), [event.uid])
      assert.deepEqual(warnings, [])
    }))

  test('a write failure rejects the emit', () =>
    withFileLog(async ({log}) => {
      // A directory where the day file should be: open() fails with EISDIR.
      await mkdir(join(log.dir, '2026-11-21.log'))
      await assert.rejects(log.emit(login(new FakeClock(Date.parse('2026-11-21T10:00:00.000Z')))), {code: 'EISDIR'})
      // ...and the log keeps working for other days.
      await log.emit(login(new FakeClock(Date.parse('2026-11-22T10:00:00.000Z'))))
    }))

  test('several auth servers on one shared directory: each appends to its own <day>.<writer>.log, each search reads them all, merged by time', async () => {
    const temp = await tempDataDir()
    const shared = join(temp.dataDir, 'shared-audit')
    const open = (writer: string) => FileAuditLog.open({dataDir: join(temp.dataDir, writer), dir: shared, writer, onWarning: () => {}})
    const [a, b] = [await open('host-a'), await open('host-b')]
    try {
      const clock = new FakeClock(Date.parse('2026-11-21T08:00:00.000Z'))
      const written: AuditEvent[] = []
      for (const [i, log] of [a, b, b, a, b].entries()) {
        clock.advance(60_000)
        const event = login(clock, `user${i}`)
        written.push(event)
        await log.emit(event)
      }
      clock.advance(24 * HOUR)
      const nextDay = login(clock, 'later')
      await a.emit(nextDay)
      assert.deepEqual((await readdir(shared)).sort(), ['2026-11-21.host-a.log', '2026-11-21.host-b.log', '2026-11-22.host-a.log'])
      assert.equal((await linesOf(join(shared, '2026-11-21.host-a.log'))).length, 2)
      const range = {from: new Date('2026-11-21T00:00:00.000Z'), to: new Date('2026-11-23T00:00:00.000Z')}
      for (const log of [a, b]) {
        assert.deepEqual(uids(await log.search(range)), uids([...written, nextDay]), 'every writer\'s events, oldest first')
        // The first day's files hold enough for the limit only together: the search must read both.
        assert.deepEqual(uids(await log.search({...range, limit: 3})), uids(written.slice(0, 3)))
        assert.deepEqual(uids(await log.search({...range, order: 'desc', limit: 3})), uids([nextDay, written[4]!, written[3]!]))
      }
      await assert.rejects(FileAuditLog.open({dataDir: temp.dataDir, dir: shared, writer: '../x'}), /writer is named with letters/)
    } finally {
      await a.close()
      await b.close()
      await temp.remove()
    }
  })
})
