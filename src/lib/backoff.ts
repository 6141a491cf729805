import type {Clock, Timer} from './clock.js'

// Retrying something that fails while a peer is away (auth, mostly): the first retry after
// `minMs`, each next one twice as late up to `maxMs`, back to `minMs` after a success. One retry
// is pending at a time; its timer does not keep the process alive.

export class Backoff {
  private delayMs: number
  private timer: Timer | undefined

  constructor(
    private readonly clock: Clock,
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {
    this.delayMs = minMs
  }

  /** Whether no failure happened since the last success: a caller logs the first one only. */
  get fresh(): boolean {
    return this.delayMs === this.minMs
  }

  get pending(): boolean {
    return this.timer !== undefined
  }

  /** Runs `retry` after the current delay, then doubles the delay. */
  schedule(retry: () => void): void {
    this.timer?.cancel()
    this.timer = this.clock.setTimer(this.delayMs, () => {
      this.timer = undefined
      retry()
    }, {unref: true})
    this.delayMs = Math.min(this.delayMs * 2, this.maxMs)
  }

  /** It worked: the next failure starts from the shortest delay. */
  succeeded(): void {
    this.delayMs = this.minMs
  }

  cancel(): void {
    this.timer?.cancel()
    this.timer = undefined
  }
}
