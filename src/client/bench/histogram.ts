// Latencies of `tsh bench` requests: every value is kept (a run at a fixed rate makes rate ×
// duration of them, a few thousand numbers), so percentiles are exact, by nearest rank.

/** The rows of Teleport's table. */
export const BENCH_PERCENTILES = [25, 50, 75, 90, 95, 99, 100] as const

export class LatencyHistogram {
  private readonly values: number[] = []
  private sorted = true

  record(ms: number): void {
    this.values.push(ms)
    this.sorted = false
  }

  get count(): number {
    return this.values.length
  }

  /** The smallest recorded value with at least p% of the values at or below it; 0 when empty. */
  percentile(p: number): number {
    const values = this.ordered()
    if (values.length === 0) return 0
    const rank = Math.max(1, Math.ceil((p / 100) * values.length))
    return values[Math.min(rank, values.length) - 1]!
  }

  /**
   * The whole distribution as HdrHistogram prints it (`--export`): each distinct value with the
   * share of requests at or below it, how many those are, and 1/(1-percentile).
   */
  distribution(): string {
    const values = this.ordered()
    const lines = [`${'Value(ms)'.padStart(12)} ${'Percentile'.padStart(14)} ${'TotalCount'.padStart(10)} ${'1/(1-Percentile)'.padStart(16)}`, '']
    for (let i = 0; i < values.length; i++) {
      if (i + 1 < values.length && values[i + 1] === values[i]) continue
      const share = (i + 1) / values.length
      const inverse = share >= 1 ? 'inf' : (1 / (1 - share)).toFixed(2)
      lines.push(`${values[i]!.toFixed(3).padStart(12)} ${share.toFixed(12).padStart(14)} ${String(i + 1).padStart(10)} ${inverse.padStart(16)}`)
    }
    const mean = values.reduce((sum, v) => sum + v, 0) / (values.length || 1)
    lines.push(`#[Mean    = ${mean.toFixed(3)}, Max = ${(values.at(-1) ?? 0).toFixed(3)}]`, `#[Total count = ${values.length}]`)
    return lines.join('\n') + '\n'
  }

  private ordered(): number[] {
    if (!this.sorted) {
      this.values.sort((a, b) => a - b)
      this.sorted = true
    }
    return this.values
  }
}
