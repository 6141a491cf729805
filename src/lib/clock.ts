// The clock seam: production code asks a Clock for the time and for its timers, so tests move
// time instead of sleeping.

export interface Timer {
  cancel(): void
}

export interface TimerOptions {
  /** Do not keep the process alive for this timer (background refreshes, retries). */
  unref?: boolean
}

export interface Clock {
  now(): Date
  /** Calls `fn` once, `ms` from now. */
  setTimer(ms: number, fn: () => void, options?: TimerOptions): Timer
  /** Calls `fn` every `ms` until cancelled. */
  setRepeating(ms: number, fn: () => void, options?: TimerOptions): Timer
  /** Resolves `ms` from now; rejects with the signal's reason if it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const onAbort = () => {
      timer.cancel()
      reject(signal!.reason)
    }
    const timer = clock.setTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    })
    signal?.addEventListener('abort', onAbort, {once: true})
  })
}

export const systemClock: Clock = {
  now: () => new Date(),
  setTimer(ms, fn, options) {
    const handle = setTimeout(fn, ms)
    if (options?.unref) handle.unref()
    return {cancel: () => clearTimeout(handle)}
  },
  setRepeating(ms, fn, options) {
    const handle = setInterval(fn, ms)
    if (options?.unref) handle.unref()
    return {cancel: () => clearInterval(handle)}
  },
  sleep(ms, signal) {
    return sleepOn(systemClock, ms, signal)
  },
}

interface PendingTimer {
  due: number
  seq: number
  every?: number
  fn: () => void
}

/** A clock that only moves when told to; its timers fire as it moves. Tests only. */
export class FakeClock implements Clock {
  private current: number
  private timers: PendingTimer[] = []
  private seq = 0

  constructor(start: Date | number = Date.UTC(2026, 0, 1)) {
    this.current = typeof start === 'number' ? start : start.getTime()
  }

  now(): Date {
    return new Date(this.current)
  }

  setTimer(ms: number, fn: () => void): Timer {
    return this.schedule({due: this.current + Math.max(0, ms), seq: this.seq++, fn})
  }

  setRepeating(ms: number, fn: () => void): Timer {
    const every = Math.max(1, ms)
    return this.schedule({due: this.current + every, seq: this.seq++, every, fn})
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal)
  }

  /** How many timers are waiting: lets a test see that something is scheduled before moving on. */
  get pendingTimers(): number {
    return this.timers.length
  }

  /** Moves time on by `ms`, firing every timer that falls due, in order, at its own time. */
  advance(ms: number): void {
    const target = this.current + ms
    for (let next = this.nextDue(target); next; next = this.nextDue(target)) this.fire(next)
    this.current = target
  }

  /**
   * Like advance, but lets promises settle after each timer fires (and before the first), so
   * work a timer starts (a retry, a refresh) runs before time moves past its next step.
   */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.current + ms
    await settle()
    for (let next = this.nextDue(target); next; next = this.nextDue(target)) {
      this.fire(next)
      await settle()
    }
    this.current = target
  }

  set(at: Date | number): void {
    const target = typeof at === 'number' ? at : at.getTime()
    if (target >= this.current) this.advance(target - this.current)
    else this.current = target
  }

  private schedule(timer: PendingTimer): Timer {
    this.timers.push(timer)
    return {cancel: () => {
      this.timers = this.timers.filter((t) => t !== timer)
    }}
  }

  private nextDue(target: number): PendingTimer | undefined {
    let next: PendingTimer | undefined
    for (const t of this.timers) if (t.due <= target && (!next || t.due < next.due || (t.due === next.due && t.seq < next.seq))) next = t
    return next
  }

  private fire(timer: PendingTimer): void {
    this.current = timer.due
    if (timer.every) {
      timer.due += timer.every
      timer.seq = this.seq++
    } else {
      this.timers = this.timers.filter((t) => t !== timer)
    }
    timer.fn()
  }
}

/** Lets pending promise callbacks and I/O callbacks already queued run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
