import {performance} from 'node:perf_hooks'
import type {Clock} from '../../lib/clock.js'
import {LatencyHistogram} from './histogram.js'

// `tsh bench`'s load: requests started at a fixed rate for a duration, whether or not earlier
// ones have finished (an open model, as Teleport's bench: a slow cluster shows as latency, not
// as fewer requests), then every request awaited. A failed request counts as failed and its
// latency is not recorded.

export interface BenchPlan {
  /** Requests per second. */
  rate: number
  durationMs: number
}

export interface BenchResult {
  originated: number
  failed: number
  histogram: LatencyHistogram
  /** Failure messages, with how often each occurred (most frequent first). */
  errors: {message: string; count: number}[]
}

export interface BenchRunOptions extends BenchPlan {
  clock: Clock
  /** One request: resolves when it succeeded. */
  request: () => Promise<void>
  /** A monotonic time in ms for latencies (default performance.now). */
  elapsed?: () => number
}

/** How many requests a plan starts: one at 0 and then every 1/rate s while within the duration. */
export function plannedRequests(plan: BenchPlan): number {
  return Math.max(1, Math.ceil((plan.durationMs * plan.rate) / 1000))
}

export async function runBench(options: BenchRunOptions): Promise<BenchResult> {
  const elapsed = options.elapsed ?? (() => performance.now())
  const histogram = new LatencyHistogram()
  const errors = new Map<string, number>()
  const total = plannedRequests(options)
  const intervalMs = 1000 / options.rate
  const running: Promise<void>[] = []
  let failed = 0

  const fire = () => {
    const started = elapsed()
    running.push(
      options.request().then(
        () => histogram.record(elapsed() - started),
        (err: Error) => {
          failed++
          const message = err?.message ?? String(err)
          errors.set(message, (errors.get(message) ?? 0) + 1)
        },
      ),
    )
  }

  await new Promise<void>((resolve) => {
    let started = 0
    const tick = () => {
      fire()
      if (++started === total) resolve()
    }
    tick()
    for (let i = 1; i < total; i++) options.clock.setTimer(i * intervalMs, tick)
  })
  await Promise.all(running)
  return {originated: total, failed, histogram, errors: [...errors].map(([message, count]) => ({message, count})).sort((a, b) => b.count - a.count)}
}
