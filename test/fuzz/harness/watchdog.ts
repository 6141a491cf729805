// The state a fuzz worker shares with its runner so that a hang can be caught and its input
// kept: while a target runs, `busy` is 1, `started` holds when it began and the input sits
// encoded in the byte area. The runner reads it from outside when the worker stops answering.

import type {Encoded} from './corpus.js'

const EXTS = ['txt', 'bin', 'json'] as const
/** Inputs longer than this are kept cut short in a hang report (the runner says so). */
const CAPACITY = 4 * 1024 * 1024
const HEADER = 32

export class Watchdog {
  private readonly ctrl: Int32Array
  private readonly started: Float64Array
  private readonly bytes: Uint8Array

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(HEADER + CAPACITY)) {
    this.ctrl = new Int32Array(buffer, 0, 5)
    this.started = new Float64Array(buffer, 24, 1)
    this.bytes = new Uint8Array(buffer, HEADER)
  }

  begin(input: Encoded): void {
    const length = Math.min(input.data.length, CAPACITY)
    this.bytes.set(input.data.subarray(0, length))
    this.ctrl[1] = length
    this.ctrl[2] = EXTS.indexOf(input.ext)
    this.ctrl[3] = length < input.data.length ? 1 : 0
    this.started[0] = Date.now()
    Atomics.add(this.ctrl, 4, 1)
    Atomics.store(this.ctrl, 0, 1)
  }

  /** Counts inputs begun: a change tells the runner the input it timed has finished since. */
  sequence(): number {
    return Atomics.load(this.ctrl, 4)
  }

  end(): void {
    Atomics.store(this.ctrl, 0, 0)
  }

  /** Milliseconds the current input has been running, or undefined when idle. */
  busyFor(now = Date.now()): number | undefined {
    return Atomics.load(this.ctrl, 0) === 1 ? now - this.started[0]! : undefined
  }

  /** The input in flight (possibly cut short). */
  current(): Encoded & {truncated: boolean} {
    return {ext: EXTS[this.ctrl[2]!] ?? 'bin', data: Buffer.from(this.bytes.subarray(0, this.ctrl[1]!)), truncated: this.ctrl[3] === 1}
  }
}
