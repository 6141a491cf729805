import {renderTable} from '../../lib/output.js'
import {BENCH_PERCENTILES} from './histogram.js'
import type {BenchResult} from './run-bench.js'

// What `tsh bench` prints: Teleport's summary and histogram table, or the same as JSON.

export function renderBenchText(result: BenchResult): string {
  const lines = [`* Requests originated: ${result.originated}`, `* Requests failed: ${result.failed}`]
  for (const {message, count} of result.errors.slice(0, 5)) lines.push(`  ${count} × ${message}`)
  const rows = BENCH_PERCENTILES.map((p) => [String(p), `${Math.round(result.histogram.percentile(p))} ms`])
  return `${lines.join('\n')}\n\nHistogram\n\n${renderTable(['Percentile', 'Response Duration'], rows)}`
}

export function benchJson(result: BenchResult) {
  return {
    requests_originated: result.originated,
    requests_failed: result.failed,
    histogram: BENCH_PERCENTILES.map((p) => ({percentile: p, response_duration_ms: Number(result.histogram.percentile(p).toFixed(3))})),
    errors: result.errors,
  }
}
