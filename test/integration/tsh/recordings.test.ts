import assert from 'node:assert/strict'
import {randomUUID} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {mkdtemp, readFile, rm, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {AuthApiClient} from '../../../src/api/auth-api-client.js'
import type {ApiIdentity} from '../../../src/api/identity.js'
import {MemoryTransport} from '../../../src/api/memory-transport.js'
import {Player} from '../../../src/client/play/player.js'
import {playRecording} from '../../../src/client/play/play.js'
import {RESET_SCREEN} from '../../../src/client/play/escapes.js'
import {downloadRecording} from '../../../src/client/recordings/download.js'
import {findRecordings, recordingsTable} from '../../../src/client/recordings/list.js'
import {openRecordingTarget} from '../../../src/client/recordings/target.js'
import {authApiRoutes} from '../../../src/daemon/auth/api-routes.js'
import {EventCode, EventName} from '../../../src/events/index.js'
import {FakeClock} from '../../../src/lib/clock.js'
import {AccessDeniedError, NotFoundError} from '../../../src/lib/errors.js'
import type {ParsedCert} from '../../../src/sshca/index.js'
import {memoryAuthServer, type MemoryAuthServer} from '../../helpers/memory-auth-server.js'
import {recordFile, Screen, T0} from '../../unit/client/play/helpers.js'

// tsh's recordings library against the real auth API (routes, authorization, the memory
// recording store) in process: a node uploads a session it ran, as nodes do; an auditor lists,
// downloads and plays it, streamed; a user whose roles do not allow it is refused.

const cert = {} as ParsedCert
const node: ApiIdentity = {kind: 'host', hostId: 'node-1-uuid', role: 'Node', remoteAddr: '127.0.0.1', cert}
const auditor: ApiIdentity = {kind: 'user', username: 'ann', roles: ['auditor'], traits: {}, remoteAddr: '127.0.0.1', cert}
const outsider: ApiIdentity = {kind: 'user', username: 'sam', roles: ['access'], traits: {}, remoteAddr: '127.0.0.1', cert}

describe('tsh recordings through the auth API', () => {
  let server: MemoryAuthServer
  let dir: string
  const sids: string[] = []
  const as = (identity: ApiIdentity) => new AuthApiClient(new MemoryTransport(authApiRoutes(server.auth), identity))

  /** A session node-1 ran and uploaded: its start and end in the audit log, its recording in the store. */
  async function uploaded(name: string, steps: Parameters<typeof recordFile>[1], interactive = true): Promise<string> {
    const sid = randomUUID()
    const api = as(node)
    const time = new Date(T0).toISOString()
    await api.emitEvent({event: EventName.SessionStart, code: EventCode.SessionStart, sid, user: 'alice', login: 'root', size: '80:25', time, server_hostname: 'node-1'})
    const file = await recordFile(dir, steps, name)
    const {size} = await stat(file)
    await api.appendRecording(sid, 0, createReadStream(file))
    await api.completeRecording(sid, {size})
    const stop = new Date(T0 + 60_000).toISOString()
    await api.emitEvent({event: EventName.SessionEnd, code: EventCode.SessionEnd, sid, user: 'alice', participants: ['alice'], session_start: time, session_stop: stop, interactive, time: stop, server_hostname: 'node-1'})
    sids.push(sid)
    return sid
  }

  before(async () => {
    server = await memoryAuthServer({clock: new FakeClock(T0 + 120_000)})
    for (const user of [auditor, outsider]) if (user.kind === 'user') await server.auth.createUser({name: user.username, roles: user.roles, traits: {}}, {user: 'admin'})
    dir = await mkdtemp(join(tmpdir(), 'tsh-recordings-'))
    await uploaded('shell.tsrec', [{at: 0, print: '$ whoami\r\n'}, {at: 1000, print: 'alice\r\n'}, {at: 15_000, resize: '100:30'}, {at: 20_000, print: '$ exit\r\n'}, {at: 40_000, print: 'logout\r\n'}])
    await uploaded('exec.tsrec', [{at: 0, print: 'uptime output\r\n'}], false)
  })
  after(async () => {
    await rm(dir, {recursive: true, force: true})
    await server?.close()
  })

  test('an auditor lists the recordings, each with its type; --limit cuts and says so', async () => {
    const found = await findRecordings(as(auditor), {from: new Date(T0 - 3600_000), to: new Date(T0 + 3600_000)}, 50)
    assert.deepEqual(new Set(found.events.map((e) => e.sid)), new Set(sids))
    assert.equal(found.more, false)
    const table = recordingsTable(found.events)
    assert.match(table, new RegExp(`${sids[0]} ssh\\s+alice\\s+node-1\\s+2026-11-21T09:30:00Z`))
    assert.match(table, new RegExp(`${sids[1]} ssh exec\\s+alice\\s+node-1`))
    const limited = await findRecordings(as(auditor), {from: new Date(T0 - 3600_000), to: new Date(T0 + 3600_000)}, 1)
    assert.equal(limited.events.length, 1)
    assert.equal(limited.more, true)
  })

  test('an auditor downloads the exact bytes, and the file plays with no cluster', async () => {
    const out = join(dir, 'downloaded.tsrec')
    const {bytes} = await downloadRecording(as(auditor), sids[0]!, {output: out})
    assert.deepEqual(await readFile(out), await readFile(join(dir, 'shell.tsrec')))
    assert.equal(bytes, (await stat(out)).size)
    const screen = new Screen(new FakeClock(0))
    const local = await openRecordingTarget(out, async () => assert.fail('a file needs no connection'))
    await playRecording(local, {format: 'text', terminal: {stdin: process.stdin, stdout: screen}})
    assert.equal(screen.text, '$ whoami\r\nalice\r\n$ exit\r\nlogout\r\n')
  })

  test('tsh play <sid> -f text streams it from auth', async () => {
    const screen = new Screen(new FakeClock(0))
    const source = await openRecordingTarget(sids[1]!, async () => as(auditor))
    await playRecording(source, {format: 'text', terminal: {stdin: process.stdin, stdout: screen}})
    assert.equal(screen.text, 'uptime output\r\n')
  })

  test('tsh play <sid> in pty mode steps back by asking auth again from the start', async () => {
    const clock = new FakeClock(0)
    const screen = new Screen(clock)
    const opened: string[] = []
    const source = await openRecordingTarget(sids[0]!, async () => {
      const api = as(auditor)
      const open = api.openRecording.bind(api)
      api.openRecording = (sid, options) => (opened.push(sid), open(sid, options))
      return api
    })
    const player = new Player({source, out: screen, clock})
    const done = player.run()
    const untilTimer = async () => {
      for (let i = 0; i < 1000 && clock.pendingTimers === 0; i++) await new Promise((resolve) => setImmediate(resolve))
    }
    await untilTimer()
    await clock.advanceAsync(20_000)
    await untilTimer()
    assert.equal(screen.when('$ exit'), 20_000)
    player.command('back')
    await untilTimer()
    assert.equal(opened.length, 2, 'asked again')
    assert.ok(screen.text.endsWith(`$ exit\r\n${RESET_SCREEN}\x1b[8;25;80t`), JSON.stringify(screen.text))
    await clock.advanceAsync(5000)
    await untilTimer()
    assert.ok(screen.text.endsWith('\x1b[8;30;100t'), 'the resize at 15 s, 5 s after going back to 10 s')
    await clock.advanceAsync(30_000)
    assert.equal(await done, 'end')
    assert.ok(screen.text.endsWith('$ exit\r\nlogout\r\n'))
    await source.close()
  })

  test('a user whose roles do not allow reading sessions is refused in one line; an unknown session is not found', async () => {
    await assert.rejects(openRecordingTarget(sids[0]!, async () => as(outsider)), (err: Error) => {
      assert.ok(err instanceof AccessDeniedError, String(err))
      assert.ok(!err.message.includes('\n'))
      return true
    })
    await assert.rejects(downloadRecording(as(outsider), sids[0]!, {output: join(dir, 'refused.tsrec')}), AccessDeniedError)
    const unknown = randomUUID()
    await assert.rejects(openRecordingTarget(unknown, async () => as(auditor)), (err: Error) => err instanceof NotFoundError && err.message === `recording ${unknown} not found`)
  })
})
