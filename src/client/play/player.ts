import type {Writable} from 'node:stream'
import {parseTerminalSize, type RecordedEvent} from '../../events/recording/index.js'
import type {Clock} from '../../lib/clock.js'
import type {RecordingSource} from '../recordings/source.js'
import {writeOut} from '../recordings/write-out.js'
import {RESET_SCREEN, resizeEscape} from './escapes.js'
import type {PlayerCommand} from './keys.js'

// `tsh play` in a terminal: the output with its timing, one event at a time as the source hands
// them out (memory does not grow with the recording). Each event is due at the wall time of the
// one before plus the gap between them (scaled by the speed; with skipIdleTime a gap over a
// second counts as one second), so waits never drift; gaps under 10 ms play at once. Keys
// arrive as commands: pause toggles, forward plays the next 10 s at once, back resets the
// screen and reads again from 10 s earlier, quit ends. All waiting is on the Clock seam.

/** Gaps shorter than this play at once: no timer per keystroke echo. */
export const MIN_WAIT_MS = 10
/** --skip-idle-time: longer gaps shrink to this (asciinema's idle time limit). */
export const IDLE_LIMIT_MS = 1000
/** How far ←/→ step. */
export const STEP_MS = 10_000

export interface PlayerOptions {
  source: RecordingSource
  out: Writable
  clock: Clock
  speed?: number
  skipIdleTime?: boolean
}

export type PlayerEnd = 'end' | 'quit'

export class Player {
  private readonly speed: number
  private readonly queue: PlayerCommand[] = []
  private wake?: () => void
  private quitRequested = false
  /** Ends the read in progress when quit comes while it waits. */
  private interruptRead?: () => void

  private events?: AsyncIterator<RecordedEvent>
  private pending?: RecordedEvent
  /** Recording ms shown so far (the last event played, or where a step landed). */
  private position = 0
  /** Wall ms at which `position` was shown (moved on by each pause's length). */
  private anchor = 0
  private pausedAt?: number

  constructor(private readonly options: PlayerOptions) {
    this.speed = options.speed ?? 1
  }

  /** A key's command; handled at once, even mid-wait. */
  command(command: PlayerCommand): void {
    if (command === 'quit') {
      this.quitRequested = true
      this.interruptRead?.()
    }
    this.queue.push(command)
    this.wake?.()
  }

  /** Plays to the end or until quit; a damaged recording throws after playing up to the damage. */
  async run(): Promise<PlayerEnd> {
    this.anchor = this.now()
    try {
      await this.openAt(0)
      for (;;) {
        if (!this.pending) {
          const next = await this.next()
          if (next === 'quit') return 'quit'
          if (next.done) return 'end'
          this.pending = next.value
        }
        const command = this.pausedAt !== undefined ? await this.nextCommand() : await this.waitUntil(this.due(this.pending))
        if (command === undefined) {
          this.anchor = this.due(this.pending)
          this.position = this.pending.elapsedMs
          await this.play(this.pending)
          this.pending = undefined
        } else if ((await this.handle(command)) === 'quit') {
          return 'quit'
        }
      }
    } finally {
      // Not awaited: after a quit a read may still be waiting on the stream (closing the source ends it).
      this.events?.return?.(undefined).catch(() => {})
    }
  }

  private async handle(command: PlayerCommand): Promise<'quit' | undefined> {
    if (command === 'quit') return 'quit'
    if (command === 'pause') {
      if (this.pausedAt === undefined) {
        this.pausedAt = this.now()
      } else {
        // The wait left in the gap is kept: everything is due later by the pause's length.
        this.anchor += this.now() - this.pausedAt
        this.pausedAt = undefined
      }
      return undefined
    }
    const target = command === 'forward' ? this.position + STEP_MS : Math.max(0, this.position - STEP_MS)
    if (command === 'forward') {
      // Played at once, so the screen is what it would be at the target.
      for (;;) {
        if (!this.pending) {
          const next = await this.next()
          if (next === 'quit') return 'quit'
          if (next.done) break
          this.pending = next.value
        }
        if (this.pending.elapsedMs >= target) break
        await this.play(this.pending)
        this.pending = undefined
      }
    } else {
      await writeOut(this.options.out, RESET_SCREEN)
      await this.openAt(target)
    }
    this.position = target
    this.anchor = this.now()
    if (this.pausedAt !== undefined) this.pausedAt = this.anchor
    return undefined
  }

  /** Reads from `fromMs`, dropping the previous read; sets the terminal size in effect there. */
  private async openAt(fromMs: number): Promise<void> {
    await this.events?.return?.(undefined).catch(() => {})
    this.pending = undefined
    const {size, events} = await this.options.source.from(fromMs)
    this.events = events[Symbol.asyncIterator]()
    if (size) await writeOut(this.options.out, resizeEscape(size))
  }

  /** The next event, or 'quit' if asked while waiting for it (a slow download must not hold the keys). */
  private next(): Promise<IteratorResult<RecordedEvent> | 'quit'> {
    if (this.quitRequested) return Promise.resolve('quit')
    // Not Promise.race with a long-lived promise: each race would stay attached to it, and keep
    // its event's output alive, for the whole recording.
    return new Promise((resolve, reject) => {
      this.interruptRead = () => resolve('quit')
      this.events!.next().then(resolve, reject).finally(() => {
        this.interruptRead = undefined
      })
    })
  }

  private async play({event, data}: RecordedEvent): Promise<void> {
    if (event.event === 'print' && data) return writeOut(this.options.out, data)
    if (event.event === 'session.start' || event.event === 'resize') {
      const size = parseTerminalSize(event.size)
      if (size) await writeOut(this.options.out, resizeEscape(size))
    }
  }

  /** Wall ms at which `event` is shown. */
  private due(event: RecordedEvent): number {
    const gap = Math.max(0, event.elapsedMs - this.position)
    return this.anchor + (this.options.skipIdleTime ? Math.min(gap, IDLE_LIMIT_MS) : gap) / this.speed
  }

  /** Waits until `due`; returns a command that came first, or undefined once it is due. */
  private async waitUntil(due: number): Promise<PlayerCommand | undefined> {
    for (;;) {
      const queued = this.queue.shift()
      if (queued) return queued
      const ms = due - this.now()
      if (ms < MIN_WAIT_MS) return undefined
      const woken = new AbortController()
      this.wake = () => woken.abort()
      try {
        await this.options.clock.sleep(ms, woken.signal)
      } catch {
        // a command arrived: handled at the top of the loop
      } finally {
        this.wake = undefined
      }
    }
  }

  /** Waits for the next command (while paused). */
  private async nextCommand(): Promise<PlayerCommand> {
    for (;;) {
      const queued = this.queue.shift()
      if (queued) return queued
      await new Promise<void>((resolve) => {
        this.wake = resolve
      })
      this.wake = undefined
    }
  }

  private now(): number {
    return this.options.clock.now().getTime()
  }
}
