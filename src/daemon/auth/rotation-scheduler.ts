import type {Clock, Timer} from '../../lib/clock.js'
import type {AuthServer} from './auth-server.js'

// Moves automatic CA rotations on: a timer on the clock seam set for the next step that is due
// (at most `maxWaitMs` ahead, so a rotation another auth server started is seen too), set again
// after each step and whenever this server changes a rotation. Steps are compare-and-swap writes:
// two auth servers running this take each step once.

/** How long the scheduler sleeps at most before looking at the CAs again. */
export const ROTATION_CHECK_MS = 60_000

export class RotationScheduler {
  private timer: Timer | undefined
  private stopped = false
  private running: Promise<void> = Promise.resolve()
  private readonly unsubscribe: () => void

  constructor(
    private readonly auth: AuthServer,
    private readonly options: {clock: Clock; log: (line: string) => void; maxWaitMs?: number},
  ) {
    this.unsubscribe = auth.onRotation(() => void this.arm())
  }

  start(): Promise<void> {
    return this.arm()
  }

  stop(): void {
    this.stopped = true
    this.unsubscribe()
    this.timer?.cancel()
  }

  /** Resolves when the step in progress (if any) and the re-arming after it are done (tests). */
  idle(): Promise<void> {
    return this.running
  }

  private arm(): Promise<void> {
    this.running = this.running.then(async () => {
      if (this.stopped) return
      const maxWait = this.options.maxWaitMs ?? ROTATION_CHECK_MS
      const due = await this.auth.nextAutoRotationAt().catch(() => undefined)
      const wait = due === undefined ? maxWait : Math.min(maxWait, Math.max(0, due - this.options.clock.now().getTime()))
      this.timer?.cancel()
      this.timer = this.options.clock.setTimer(wait, () => void this.tick(), {unref: true})
    })
    return this.running
  }

  private async tick(): Promise<void> {
    this.running = this.running.then(() => this.auth.advanceAutoRotations()).catch((err: Error) => this.options.log(`auth: CA rotation: ${err.message}`))
    await this.arm()
  }
}
