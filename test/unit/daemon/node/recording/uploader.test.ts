import assert from 'node:assert/strict'
import {randomUUID} from 'node:crypto'
import {existsSync, readdirSync, readFileSync, truncateSync, writeFileSync} from 'node:fs'
import {mkdir} from 'node:fs/promises'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {describe, test} from 'node:test'
import type {ApiIdentity} from '../../../../../src/api/identity.js'
import {RecordingUploader} from '../../../../../src/daemon/node/recording/uploader.js'
import {EventCode, EventName} from '../../../../../src/events/index.js'
import {RecordingReader, RecordingWriter} from '../../../../../src/events/recording/index.js'
import {FakeClock} from '../../../../../src/lib/clock.js'
import type {ParsedCert} from '../../../../../src/sshca/index.js'
import {memoryAuthApi, type MemoryAuthApi} from '../../../../helpers/memory-auth-api.js'
import {memoryLogger} from '../../../../helpers/memory-logger.js'
import {eventually} from '../../../../helpers/eventually.js'
import {withTempDir} from '../../../events/recording/temp-recording.js'

// The node's uploader against the real auth routes in memory: it sends each finished recording
// once, resumes where auth stopped, waits out an outage with back-off, leaves a session being
// recorded alone, closes what a crash left, and moves aside what is not a recording.

const HOST_ID = 'c0ffee00-0000-4000-8000-000000000001'
const NODE: ApiIdentity = {kind: 'host', hostId: HOST_ID, role: 'Node', remoteAddr: '127.0.0.1', cert: {} as ParsedCert}

interface Setup {
  auth: MemoryAuthApi
  uploader: RecordingUploader
  dir: string
  corrupted: string
  clock: FakeClock
  log: ReturnType<typeof memoryLogger>
}

async function withUploader(body: (setup: Setup) => Promise<void>): Promise<void> {
  await withTempDir(async (root) => {
    const clock = new FakeClock(Date.parse('2026-12-01T10:00:00Z'))
    const auth = await memoryAuthApi({identity: NODE, clock})
    const log = memoryLogger()
    const dir = join(root, 'recordings')
    const corrupted = join(root, 'corrupted')
    await mkdir(dir, {recursive: true})
    const uploader = new RecordingUploader({dir, corruptedDir: corrupted, api: auth.api, delivered: async () => {}, log, clock})
    try {
      await body({auth, uploader, dir, corrupted, clock, log})
    } finally {
      uploader.close()
      await auth.close()
    }
  })
}

/** A finished recording of a session this node ran (auth holds its session.start). */
async function recordSession(setup: Setup, output: string[], options: {end?: boolean} = {}): Promise<{sid: string; file: string}> {
  const sid = randomUUID()
  await setup.auth.auth.emit(EventName.SessionStart, EventCode.SessionStart, {sid, server_id: HOST_ID, user: 'alice'})
  const file = setup.uploader.claim(sid)
  const writer = await RecordingWriter.create(file, {clock: setup.clock, fields: {sid, user: 'alice'}})
  writer.start({size: '80:25'})
  for (const line of output) writer.print(Buffer.from(line))
  if (options.end === false) await writer.flush()
  else await writer.end({interactive: true})
  return {sid, file}
}

async function stored(auth: MemoryAuthApi, sid: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of await auth.auth.recordings.open(sid)) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks)
}

describe('RecordingUploader', () => {
  test('a released recording reaches auth whole and the local file goes; session.upload is audited', () =>
    withUploader(async (setup) => {
      const {sid, file} = await recordSession(setup, ['hello\r\n', 'world\r\n'])
      const bytes = readFileSync(file)
      setup.uploader.release(sid)
      await setup.uploader.idle()
      assert.deepEqual(await stored(setup.auth, sid), bytes)
      assert.equal(existsSync(file), false)
      const uploads = await setup.auth.audit.search({from: new Date(0), to: new Date(8.64e15), types: [EventName.SessionUpload], sid})
      assert.equal(uploads.length, 1)
    }))

  test('a session still being recorded is left alone until it is released', () =>
    withUploader(async (setup) => {
      const {sid, file} = await recordSession(setup, ['partial'], {end: false})
      setup.uploader.kick()
      await setup.uploader.idle()
      assert.equal(existsSync(file), true)
      assert.deepEqual(await setup.auth.api.recordingUploaded(sid), {bytes: 0})
    }))

  test('auth unreachable: the recording stays, and arrives at a retry once auth is back', () =>
    withUploader(async (setup) => {
      const {sid, file} = await recordSession(setup, ['during the outage'])
      const bytes = readFileSync(file)
      setup.auth.reachable = false
      setup.uploader.release(sid)
      await eventually(() => setup.log.lines.some((l) => /cannot upload session .* connection refused.*retried/.test(l)), 'the uploader to fail')
      assert.equal(existsSync(file), true)
      setup.auth.reachable = true
      await setup.clock.advanceAsync(1000) // the first retry
      await setup.uploader.idle()
      assert.deepEqual(await stored(setup.auth, sid), bytes)
      assert.equal(existsSync(file), false)
      assert.equal(setup.log.lines.filter((l) => /cannot upload/.test(l)).length, 1, 'one warning per outage')
    }))

  test('an upload cut short resumes where auth stopped: only the rest is sent', () =>
    withUploader(async (setup) => {
      const {sid, file} = await recordSession(setup, Array.from({length: 200}, (_, i) => `line ${i} ${'x'.repeat(i)}\r\n`))
      const bytes = readFileSync(file)
      const half = Math.floor(bytes.length / 2)
      await setup.auth.api.appendRecording(sid, 0, Readable.from([bytes.subarray(0, half)]))
      const appends: unknown[] = []
      setup.auth.onCall = (call) => void (call.startsWith('PUT') && appends.push(call))
      setup.uploader.release(sid)
      await setup.uploader.idle()
      assert.deepEqual(appends, [`PUT /v1/recordings/${sid}?offset=${half}`])
      assert.deepEqual(await stored(setup.auth, sid), bytes)
    }))

  test('recover() closes a recording a crash cut mid-chunk, then uploads what was whole', () =>
    withUploader(async (setup) => {
      const {sid, file} = await recordSession(setup, ['kept\r\n'], {end: false})
      const whole = readFileSync(file).length
      writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.from('RCHK torn')]))
      const restarted = new RecordingUploader({dir: setup.dir, corruptedDir: setup.corrupted, api: setup.auth.api, delivered: async () => {}, log: setup.log, clock: setup.clock})
      try {
        await restarted.recover()
        await restarted.idle()
      } finally {
        restarted.close()
      }
      assert.equal(existsSync(file), false)
      const reader = await RecordingReader.fromStream(await setup.auth.auth.recordings.open(sid), sid)
      const events = []
      for await (const {event, data} of reader.events()) events.push(`${event.event}${data ? `:${data.toString()}` : ''}`)
      assert.deepEqual(events, ['session.start', 'print:kept\r\n'])
      assert.ok((await stored(setup.auth, sid)).length > whole - 1)
      assert.match(setup.log.lines.join('\n'), new RegExp(`session ${sid} was cut short by a crash; recovered 2 event\\(s\\), 9 torn byte\\(s\\) dropped`))
    }))

  test('a file that is not a recording is moved aside, never deleted, with one log line; the others go on', () =>
    withUploader(async (setup) => {
      const bad = randomUUID()
      writeFileSync(join(setup.dir, `${bad}.tsrec`), 'not a recording at all')
      const {sid} = await recordSession(setup, ['fine'])
      setup.uploader.release(sid)
      await setup.uploader.idle()
      const moved = readdirSync(setup.corrupted)
      assert.equal(moved.length, 1)
      assert.ok(moved[0]!.startsWith(bad))
      assert.equal(readFileSync(join(setup.corrupted, moved[0]!), 'utf8'), 'not a recording at all')
      assert.equal(setup.log.lines.filter((l) => l.includes(bad)).length, 1)
      assert.equal((await setup.auth.api.recordingUploaded(sid)).bytes > 0, true)
      assert.deepEqual(readdirSync(setup.dir), [])
    }))

  test('an upload waits for the node\'s audit events to reach auth first (auth takes it only after session.start)', () =>
    withUploader(async (setup) => {
      const {sid, file} = await recordSession(setup, ['x'])
      let deliver!: () => void
      const delivered = new Promise<void>((resolve) => (deliver = resolve))
      const waiting = new RecordingUploader({dir: setup.dir, corruptedDir: setup.corrupted, api: setup.auth.api, delivered: () => delivered, log: setup.log, clock: setup.clock})
      try {
        waiting.release(sid)
        await setup.clock.advanceAsync(0)
        assert.deepEqual(setup.auth.calls, [])
        deliver()
        await waiting.idle()
        assert.equal(existsSync(file), false)
      } finally {
        waiting.close()
      }
    }))

  test('truncated below its header, a file is moved aside at recovery', () =>
    withUploader(async (setup) => {
      const {sid, file} = await recordSession(setup, ['x'], {end: false})
      truncateSync(file, 5)
      await setup.uploader.recover()
      await setup.uploader.idle()
      assert.equal(existsSync(file), false)
      assert.equal(readdirSync(setup.corrupted).length, 1)
      assert.deepEqual(await setup.auth.api.recordingUploaded(sid), {bytes: 0})
    }))
})
