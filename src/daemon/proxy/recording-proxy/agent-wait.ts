import type {Clock, Timer} from '../../../lib/clock.js'

// Whether the user's connection has forwarded its agent yet. OpenSSH sends its tcpip-forward
// requests (-R) and may open direct-tcpip channels (-L, -D) before the session channel that asks
// for agent forwarding, and does not wait for their answers; so a forward that needs the node waits
// for the agent, a bounded time. It stops waiting as soon as the agent comes, when a session
// starts without one (that client is not forwarding it), or when the connection closes. With
// `ssh -N` no session ever comes: the wait runs out and the forward is refused.

/** How long a forward waits for a session to forward the agent. */
export const AGENT_WAIT_MS = 5_000

export class AgentWait {
  private forwarded = false
  private readonly waiters = new Set<(forwarded: boolean) => void>()

  constructor(
    private readonly clock: Clock,
    private readonly limitMs = AGENT_WAIT_MS,
  ) {}

  /** A session channel asked for agent forwarding (and was allowed). */
  agentForwarded(): void {
    this.forwarded = true
    this.settle(true)
  }

  /** No agent is coming for those waiting now: a session started without one, or the connection closed. */
  noneComing(): void {
    this.settle(false)
  }

  /** Whether the agent is forwarded, once it is or the wait is over. */
  wait(): Promise<boolean> {
    if (this.forwarded) return Promise.resolve(true)
    return new Promise((resolve) => {
      let timer: Timer | undefined = undefined
      const waiter = (forwarded: boolean) => {
        timer?.cancel()
        this.waiters.delete(waiter)
        resolve(forwarded)
      }
      this.waiters.add(waiter)
      timer = this.clock.setTimer(this.limitMs, () => waiter(false))
    })
  }

  get isForwarded(): boolean {
    return this.forwarded
  }

  private settle(forwarded: boolean): void {
    for (const waiter of [...this.waiters]) waiter(forwarded)
  }
}
