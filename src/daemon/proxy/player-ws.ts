import type {Readable} from 'node:stream'
import type {WebSocket} from 'ws'
import type {WebUserAuthApi} from '../../api/auth-api.js'
import {RecordingReader, parseTerminalSize, type RecordedEvent} from '../../events/recording/index.js'
import {readFileHeader, scanChunks} from '../../events/recording/chunks.js'
import {streamSource} from '../../events/recording/byte-source.js'
import {ChunkKind} from '../../events/recording/format.js'
import type {Clock} from '../../lib/clock.js'
import type {Logger} from '../../lib/log.js'
import {closeCodeOf, failSocket, pageMessage, sendControl, sendFrame} from './ws-frames.js'

// The player WebSocket (docs/WEB.md "Player WebSocket"): the recording is read from auth as the
// user and decoded as it streams; each print is sent when it is due on a playhead that runs at
// the chosen speed on the Clock seam. Only the event being played is held: the next one is read
// when the socket has sent what came before (back-pressure on its send buffer), so a recording
// of any length plays in flat memory. A backward seek reads the recording again from the start.

/** How often `time` frames go out while playing. */
export const TIME_FRAME_MS = 250
export const MIN_SPEED = 0.5
export const MAX_SPEED = 16
/** Above this many unsent bytes on the socket the player waits for them to go out. */
export const SEND_BUFFER_HIGH = 1024 * 1024

type Command = {type: 'play'} | {type: 'pause'} | {type: 'speed'; speed: number} | {type: 'seek'; ms: number}

export interface PlayerSocketOptions {
  ws: WebSocket
  api: Pick<WebUserAuthApi, 'openRecording'>
  sid: string
  clock: Clock
  log: Logger
}

export async function runPlayer(options: PlayerSocketOptions): Promise<void> {
  const player = new WebPlayer(options)
  await player.run()
}

class WebPlayer {
  private readonly ws: WebSocket
  private readonly clock: Clock
  private readonly queue: Command[] = []
  private wake?: () => void
  private closed = false

  private stream?: Readable
  private events?: AsyncIterator<RecordedEvent>
  private pending?: RecordedEvent
  /** Unknown until the scan of the chunk headers (beside the playback) reaches the end. */
  private durationMs: number | undefined
  private scan?: Readable
  private lastTimeSentAt = -Infinity
  /** The time of the last event played. */
  private playedMs = 0
  private speed = 1
  private paused = false
  private ended = false
  /** The playhead: recording ms `playMs` was current at wall ms `wallAt`. */
  private playMs = 0
  private wallAt = 0

  constructor(private readonly options: PlayerSocketOptions) {
    this.ws = options.ws
    this.clock = options.clock
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) return
      const command = parseCommand(data.toString())
      if (command) this.command(command)
    })
    this.ws.on('close', () => {
      this.closed = true
      this.stream?.destroy()
      this.scan?.destroy()
      this.wake?.()
    })
    this.ws.resume() // paused since the auth frame
  }

  private command(command: Command): void {
    this.queue.push(command)
    this.wake?.()
  }

  async run(): Promise<void> {
    try {
      await this.sendMeta()
      void this.measureDuration()
      while (!this.closed) {
        const queued = this.queue.shift()
        if (queued) {
          await this.handle(queued)
          continue
        }
        if (this.paused || this.ended) {
          await this.waitForCommand()
          continue
        }
        if (!this.pending) {
          const next = await this.events!.next()
          if (next.done) {
            this.ended = true
            this.playMs = this.durationMs ?? this.playedMs
            this.sendTime(this.playMs)
            sendControl(this.ws, {type: 'end'})
            continue
          }
          this.pending = next.value
        }
        const due = this.wallAt + (this.pending.elapsedMs - this.playMs) / this.speed
        const wait = due - this.now()
        if (wait > 0) {
          // Wakes for `time` frames and commands while waiting.
          await this.sleep(Math.min(wait, TIME_FRAME_MS))
          if (this.now() < due) this.sendTime(this.currentMs())
          continue
        }
        await this.play(this.pending)
        this.playedMs = this.pending.elapsedMs
        this.pending = undefined
        // Dense output plays without waiting: the clock still moves on the page.
        if (this.now() - this.lastTimeSentAt >= TIME_FRAME_MS) this.sendTime(this.currentMs())
      }
    } catch (err) {
      if (!this.closed) {
        const code = closeCodeOf(err)
        // A refusal is the user's business; anything else is worth a warning.
        if (code === 1011) this.options.log.warn(`playing session ${this.options.sid}: ${(err as Error).message}`)
        failSocket(this.ws, code, pageMessage(err))
      }
    } finally {
      this.stream?.destroy()
      this.scan?.destroy()
    }
  }

  private async handle(command: Command): Promise<void> {
    switch (command.type) {
      case 'play':
        if (this.ended) return this.seek(0)
        if (this.paused) {
          this.paused = false
          this.wallAt = this.now()
        }
        return
      case 'pause':
        if (!this.paused) {
          this.playMs = this.currentMs()
          this.paused = true
          this.sendTime(this.playMs)
        }
        return
      case 'speed':
        this.playMs = this.currentMs()
        this.wallAt = this.now()
        this.speed = command.speed
        return
      case 'seek':
        return this.seek(command.ms)
    }
  }

  /** Output up to `ms` at once; backwards means from the start on a clean screen. */
  private async seek(ms: number): Promise<void> {
    const target = Math.max(0, Math.min(ms, this.durationMs ?? ms))
    if (target < this.currentMs() || this.ended) {
      sendControl(this.ws, {type: 'reset'})
      await this.openFromStart()
    }
    this.ended = false
    for (;;) {
      if (!this.pending) {
        const next = await this.events!.next()
        if (next.done) break
        this.pending = next.value
      }
      if (this.pending.elapsedMs > target) break
      await this.play(this.pending)
      this.pending = undefined
    }
    this.playMs = target
    this.wallAt = this.now()
    this.sendTime(target)
  }

  /**
   * The duration is the last event's time, read from the chunk headers (payloads not decoded) on a
   * second stream beside the playback, so playback starts at once however long the recording is;
   * the page learns it from a `duration` frame.
   */
  private async measureDuration(): Promise<void> {
    let duration = 0
    try {
      const scan = (this.scan = await this.options.api.openRecording(this.options.sid))
      const source = streamSource(scan)
      const name = `session ${this.options.sid}`
      for await (const chunk of scanChunks(source, name, await readFileHeader(source, name), {decode: () => false})) {
        if (chunk.header.kind === ChunkKind.Events && chunk.header.eventCount > 0) duration = Math.max(duration, chunk.header.endMs)
      }
    } catch (err) {
      // Playback reports a broken recording itself; without a duration the page only lacks a seek bar.
      if (!this.closed) this.options.log.debug(`measuring session ${this.options.sid}: ${(err as Error).message}`)
      return
    } finally {
      this.scan?.destroy()
    }
    if (this.closed) return
    this.durationMs = duration
    sendControl(this.ws, {type: 'duration', duration_ms: duration})
  }

  private async sendMeta(): Promise<void> {
    await this.openFromStart()
    // Kept as the first event to play.
    const first = await this.events!.next()
    const start = first.done ? undefined : first.value
    this.pending = start
    const event = start?.event.event === 'session.start' ? (start.event as unknown as Record<string, unknown>) : {}
    const text = (key: string) => (typeof event[key] === 'string' ? (event[key] as string) : '')
    const size = parseTerminalSize(event.size) ?? {cols: 80, rows: 25}
    sendControl(this.ws, {
      type: 'meta',
      size: `${size.cols}:${size.rows}`,
      user: text('user'),
      login: text('login'),
      hostname: text('server_hostname'),
      created: text('time'),
    })
  }

  private async openFromStart(): Promise<void> {
    await this.events?.return?.(undefined).catch(() => {})
    this.stream?.destroy()
    this.stream = await this.options.api.openRecording(this.options.sid)
    const reader = await RecordingReader.fromStream(this.stream, `session ${this.options.sid}`)
    this.events = reader.events()
    this.pending = undefined
    this.playMs = 0
    this.wallAt = this.now()
  }

  private async play({event, data}: RecordedEvent): Promise<void> {
    if (event.event === 'print' && data) {
      const sent = sendFrame(this.ws, data)
      if (this.ws.bufferedAmount > SEND_BUFFER_HIGH) await sent
    } else if (event.event === 'resize' || event.event === 'session.start') {
      // session.start's size too: after a reset the page starts over at the recording's first size.
      const size = parseTerminalSize(event.size)
      if (size) sendControl(this.ws, {type: 'resize', size: `${size.cols}:${size.rows}`})
    }
  }

  private currentMs(): number {
    const ms = this.paused || this.ended ? this.playMs : this.playMs + (this.now() - this.wallAt) * this.speed
    return Math.min(Math.round(ms), this.durationMs ?? Infinity)
  }

  private sendTime(ms: number): void {
    this.lastTimeSentAt = this.now()
    sendControl(this.ws, {type: 'time', ms: Math.round(ms)})
  }

  private waitForCommand(): Promise<void> {
    if (this.queue.length || this.closed) return Promise.resolve()
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined
        resolve()
      }
    })
  }

  private async sleep(ms: number): Promise<void> {
    if (this.queue.length || this.closed) return
    const woken = new AbortController()
    this.wake = () => woken.abort()
    try {
      await this.clock.sleep(ms, woken.signal)
    } catch {
      // a command (or the close) came first
    } finally {
      this.wake = undefined
    }
  }

  private now(): number {
    return this.clock.now().getTime()
  }
}

/** A page → proxy control message, or undefined for anything else. */
function parseCommand(text: string): Command | undefined {
  let message: {type?: unknown; speed?: unknown; ms?: unknown}
  try {
    message = JSON.parse(text)
  } catch {
    return undefined
  }
  if (message?.type === 'play' || message?.type === 'pause') return {type: message.type}
  if (message?.type === 'speed' && typeof message.speed === 'number' && message.speed >= MIN_SPEED && message.speed <= MAX_SPEED) return {type: 'speed', speed: message.speed}
  if (message?.type === 'seek' && typeof message.ms === 'number' && Number.isFinite(message.ms) && message.ms >= 0) return {type: 'seek', ms: message.ms}
  return undefined
}
