import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {createReadStream, statSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {WebSocket, WebSocketServer} from 'ws'
import {runPlayer} from '../../../src/daemon/proxy/player-ws.js'
import {RecordingWriter} from '../../../src/events/recording/index.js'
import {FakeClock} from '../../../src/lib/clock.js'
import {eventually} from '../../helpers/eventually.js'
import {memoryLogger} from '../../helpers/memory-logger.js'

// The player WebSocket over a real socket, reading a real recording as auth streams it: meta
// first, output when due on the (fake) clock, pause, seek, the end.

const SID = '0f6c1a2e-0000-4000-8000-000000000001'

type Frame = {text: Record<string, unknown>} | {bytes: string}

describe('player WebSocket', {timeout: 60_000}, () => {
  let dir: string
  let file: string
  let server: WebSocketServer
  let clock: FakeClock
  const opened: string[] = []

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'player-ws-'))
    file = path.join(dir, `${SID}.tsrec`)
    // A session: session.start (80:25) at 0, "one" at 1 s, a resize at 1.5 s, "two" at 2 s, "three" at 5 s, end.
    const writing = new FakeClock(Date.UTC(2026, 0, 2, 10))
    const writer = await RecordingWriter.create(file, {clock: writing, fields: {sid: SID, user: 'alice', login: 'root', server_hostname: 'node-1'}})
    writer.start({size: '80:25'})
    writing.advance(1000)
    writer.print(Buffer.from('one\r\n'))
    writing.advance(500)
    writer.resize('100:30')
    writing.advance(500)
    writer.print(Buffer.from('two\r\n'))
    writing.advance(3000)
    writer.print(Buffer.from('three\r\n'))
    await writer.end({interactive: true, participants: ['alice']})

    server = new WebSocketServer({port: 0, host: '127.0.0.1'})
    await new Promise((resolve) => server.once('listening', resolve))
    server.on('connection', (ws) => {
      void runPlayer({
        ws,
        api: {
          openRecording: async (sid) => {
            opened.push(sid)
            return createReadStream(file)
          },
        },
        sid: SID,
        clock,
        log: memoryLogger(),
      })
    })
  })
  after(async () => {
    server?.close()
    if (dir) await rm(dir, {recursive: true, force: true})
  })

  async function connect() {
    clock = new FakeClock(Date.UTC(2026, 3, 1))
    const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as {port: number}).port}`)
    const frames: Frame[] = []
    ws.on('message', (data, isBinary) => frames.push(isBinary ? {bytes: (data as Buffer).toString()} : {text: JSON.parse(data.toString())}))
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    const texts = () => frames.filter((f): f is {text: Record<string, unknown>} => 'text' in f).map((f) => f.text)
    const output = () => frames.map((f) => ('bytes' in f ? f.bytes : '')).join('')
    return {
      ws,
      frames,
      output,
      texts,
      send: (message: unknown) => ws.send(JSON.stringify(message)),
      /** Waits for a text frame of `type` (the n-th from `from`). */
      waitFor: (type: string, from = 0) => eventually(() => texts().slice(from).find((t) => t.type === type), `a ${type} frame`),
      close: () => ws.close(),
    }
  }

  test('meta first, then the output in order as it falls due, resizes between, then end', async () => {
    const player = await connect()
    try {
      const meta = await player.waitFor('meta')
      assert.deepEqual(player.frames[0], {text: meta})
      assert.equal(meta.size, '80:25')
      assert.equal((await player.waitFor('duration')).duration_ms, 5000)
      assert.equal(meta.user, 'alice')
      assert.equal(meta.login, 'root')
      assert.equal(meta.hostname, 'node-1')
      assert.equal(meta.created, '2026-01-02T10:00:00.000Z')

      await clock.advanceAsync(999)
      // Nothing is due yet: a time frame comes (every 250 ms of playing), no output.
      await eventually(() => player.texts().some((t) => t.type === 'time' && (t.ms as number) >= 750), 'a time frame')
      assert.equal(player.output(), '')
      await clock.advanceAsync(1)
      await eventually(() => player.output() === 'one\r\n', '"one" at 1 s')
      await clock.advanceAsync(1000)
      await eventually(() => player.output() === 'one\r\ntwo\r\n', '"two" at 2 s')
      assert.deepEqual(player.texts().filter((t) => t.type === 'resize'), [{type: 'resize', size: '80:25'}, {type: 'resize', size: '100:30'}])
      await clock.advanceAsync(3000)
      await player.waitFor('end')
      assert.equal(player.output(), 'one\r\ntwo\r\nthree\r\n')
      const order = player.frames.map((f) => ('bytes' in f ? f.bytes.trim() : f.text.type)).filter((t) => t !== 'time')
      assert.deepEqual(order.filter((t) => t !== 'duration'), ['meta', 'resize', 'one', 'resize', 'two', 'three', 'end'])
    } finally {
      player.close()
    }
  })

  test('pause stops time; play goes on from there; a backward seek resets and replays up to the target at once', async () => {
    const player = await connect()
    try {
      await player.waitFor('meta')
      await clock.advanceAsync(1000)
      await eventually(() => player.output() === 'one\r\n', '"one"')
      const before = player.texts().length
      player.send({type: 'pause'})
      assert.equal((await player.waitFor('time', before)).ms, 1000)
      await clock.advanceAsync(10_000)
      // A seek to where it stands answers with a time frame: everything the pause let through is in by then.
      const mark = player.texts().length
      player.send({type: 'seek', ms: 1000})
      assert.equal((await player.waitFor('time', mark)).ms, 1000)
      assert.equal(player.output(), 'one\r\n', 'paused: "two" did not play')

      player.send({type: 'play'})
      await eventually(() => clock.pendingTimers > 0, 'the player waiting again')
      await clock.advanceAsync(1000)
      await eventually(() => player.output() === 'one\r\ntwo\r\n', '"two" 1 s after play')

      const opens = opened.length
      const seekMark = player.frames.length
      player.send({type: 'seek', ms: 1200})
      const reset = await player.waitFor('reset', player.texts().length)
      assert.ok(reset)
      await eventually(() => player.frames.slice(seekMark).some((f) => 'text' in f && f.text.type === 'time' && f.text.ms === 1200), 'the time after the seek')
      // (A time frame of the playing before the seek may come first.)
      const afterSeek = player.frames.slice(seekMark).slice(player.frames.slice(seekMark).findIndex((f) => 'text' in f && f.text.type === 'reset'))
      assert.deepEqual(
        afterSeek.map((f) => ('bytes' in f ? f.bytes : f.text)),
        [{type: 'reset'}, {type: 'resize', size: '80:25'}, 'one\r\n', {type: 'time', ms: 1200}],
      )
      assert.equal(opened.length, opens + 1, 'a backward seek reads the recording again')
    } finally {
      player.close()
    }
  })

  test('back-pressure: a page that reads nothing stops the reading of the recording; it then gets every byte in order', async () => {
    // 48 MiB of output that does not compress, played at once by a seek to the end.
    const big = path.join(dir, 'big.tsrec')
    const writing = new FakeClock(Date.UTC(2026, 0, 3))
    const writer = await RecordingWriter.create(big, {clock: writing, fields: {sid: SID, user: 'alice'}})
    writer.start({size: '80:25'})
    const chunk = randomBytes(64 * 1024)
    for (let i = 0; i < 768; i++) {
      writer.print(Buffer.concat([Buffer.from(`${String(i).padStart(6, '0')}:`), chunk.subarray(7)]))
      writing.advance(10)
    }
    await writer.end({interactive: true, participants: ['alice']})
    const size = statSync(big).size

    const streams: {read: number}[] = []
    const bigServer = new WebSocketServer({port: 0, host: '127.0.0.1'})
    await new Promise((resolve) => bigServer.once('listening', resolve))
    clock = new FakeClock(Date.UTC(2026, 3, 1))
    bigServer.on('connection', (ws) => {
      const api = {
        openRecording: async () => {
          const counted = {read: 0}
          streams.push(counted)
          const stream = createReadStream(big, {highWaterMark: 64 * 1024})
          stream.on('data', (d) => (counted.read += d.length))
          return stream
        },
      }
      void runPlayer({ws, api, sid: SID, clock, log: memoryLogger()})
    })
    const ws = new WebSocket(`ws://127.0.0.1:${(bigServer.address() as {port: number}).port}`)
    let received = 0
    let inOrder = true
    let next = 0
    const texts: string[] = []
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return void texts.push(JSON.parse(data.toString()).type)
      const bytes = data as Buffer
      received += bytes.length
      // Prints are whole frames: each starts with its index.
      if (bytes.length > 7 && /^\d{6}:$/.test(bytes.subarray(0, 7).toString())) inOrder &&= Number(bytes.subarray(0, 6).toString()) === next++
    })
    try {
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
      await eventually(() => texts.includes('meta'), 'meta')
      const socket = (ws as unknown as {_socket: {pause(): void; resume(): void}})._socket
      socket.pause()
      ws.send(JSON.stringify({type: 'seek', ms: 3_600_000}))
      // The page reads nothing: the player's reading stops (steady for a while) well short of the recording.
      let last = -1
      let steady = 0
      await eventually(() => {
        // The first stream is playback's (a forward seek does not reopen it); the second measures the duration.
        const now = streams[0]?.read ?? 0
        steady = now === last && now > 0 ? steady + 1 : 0
        last = now
        return steady >= 5
      }, 'the reading to stop')
      assert.ok(last < size / 2, `read ${last} of ${size} bytes while the page read nothing`)
      socket.resume()
      await eventually(() => texts.includes('end'), 'the end', {timeoutMs: 60_000})
      assert.equal(next, 768)
      assert.ok(inOrder, 'every print, in order')
      assert.ok(received >= 768 * 64 * 1024)
    } finally {
      ws.terminate()
      bigServer.close()
    }
  })
})
