import {systemClock, type Clock, type Timer} from '../clock.js'
import {progressMode, StatusLine, type ProgressStream} from './status-line.js'

// A spinner on stderr for work that may take a while: `withSpinner('rotating the host CA',
// () => rotate())` is all a caller writes. It shows only on a terminal and only once the work has
// taken `delayMs` (quick work shows nothing), erases itself before any other output, and is gone
// when the work ends (in success or failure) or on Ctrl-C.

const FRAMES = ['-', '\\', '|', '/']

/** The part of `process` a spinner needs to get out of the way of Ctrl-C. */
export interface InterruptSource {
  on(event: 'SIGINT', listener: () => void): unknown
  off(event: 'SIGINT', listener: () => void): unknown
  listenerCount(event: 'SIGINT'): number
  /** Raises the signal again once the spinner has let go, so the process ends as it would have. */
  kill(pid: number, signal: 'SIGINT'): unknown
  pid: number
}

export interface SpinnerOptions {
  /** Default: process.stderr. */
  stream?: ProgressStream
  /** Streams whose writes erase the spinner first. Default: the stream, and stdout when it is a terminal. */
  guarded?: readonly ProgressStream[]
  clock?: Clock
  env?: NodeJS.ProcessEnv
  /** Nothing shows before this (default 300 ms). */
  delayMs?: number
  /** Frame period (default 100 ms). */
  intervalMs?: number
  /** Default: process. */
  signals?: InterruptSource
}

export class Spinner {
  private line?: StatusLine
  private appear?: Timer
  private frames?: Timer
  private frame = 0
  private stopped = false
  private readonly mode
  private readonly clock: Clock
  private readonly signals: InterruptSource
  private readonly onInterrupt = () => {
    this.stop()
    // Ours was the only listener: end the process as Ctrl-C would have.
    if (this.signals.listenerCount('SIGINT') === 0) this.signals.kill(this.signals.pid, 'SIGINT')
  }

  constructor(private text: string, private readonly options: SpinnerOptions = {}) {
    const stream = options.stream ?? process.stderr
    this.mode = progressMode(stream, options.env)
    this.clock = options.clock ?? systemClock
    this.signals = options.signals ?? process
    if (this.mode === 'off') return
    const guarded = options.guarded ?? [stream, ...(process.stdout.isTTY ? [process.stdout] : [])]
    this.line = new StatusLine(stream, guarded)
    this.signals.on('SIGINT', this.onInterrupt)
    this.appear = this.clock.setTimer(options.delayMs ?? 300, () => this.appearNow(), {unref: true})
  }

  /** New text (e.g. "3 of 40 nodes done"); drawn with the next frame. The plain variant shows only its first text. */
  update(text: string): void {
    this.text = text
  }

  /** Erases the spinner and lets go of the streams and of Ctrl-C. Safe to call more than once. */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.appear?.cancel()
    this.frames?.cancel()
    this.line?.close()
    if (this.line) this.signals.off('SIGINT', this.onInterrupt)
  }

  private appearNow(): void {
    if (this.mode === 'plain') {
      if (!this.line!.print(this.text)) this.appear = this.clock.setTimer(this.options.intervalMs ?? 100, () => this.appearNow(), {unref: true})
      return
    }
    this.draw()
    this.frames = this.clock.setRepeating(this.options.intervalMs ?? 100, () => this.draw(), {unref: true})
  }

  private draw(): void {
    if (this.line!.show(`${FRAMES[this.frame % FRAMES.length]} ${this.text}`)) this.frame++
  }
}

/** Runs `work` with a spinner saying `text`; the spinner is gone before this settles. */
export async function withSpinner<T>(text: string, work: (spinner: Spinner) => Promise<T>, options?: SpinnerOptions): Promise<T> {
  const spinner = new Spinner(text, options)
  try {
    return await work(spinner)
  } finally {
    spinner.stop()
  }
}

/** How a library lets its caller show that it is waiting, without knowing about terminals. */
export type ShowWaiting = <T>(text: string, work: () => Promise<T>) => Promise<T>

/** For libraries whose caller shows nothing. */
export const quietly: ShowWaiting = (_text, work) => work()
