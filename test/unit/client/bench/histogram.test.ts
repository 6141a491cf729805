import assert from 'node:assert/strict'
import {test} from 'node:test'
import {BENCH_PERCENTILES, LatencyHistogram} from '../../../../src/client/bench/histogram.js'

test('percentiles by nearest rank over every recorded value', () => {
  const h = new LatencyHistogram()
  for (const v of [50, 10, 40, 20, 30, 60, 70, 80, 90, 100]) h.record(v)
  assert.deepEqual(
    BENCH_PERCENTILES.map((p) => h.percentile(p)),
    [30, 50, 80, 90, 100, 100, 100],
  )
  assert.equal(h.percentile(10), 10)
})

test('an empty histogram answers 0 and a one-value one that value everywhere', () => {
  const h = new LatencyHistogram()
  assert.equal(h.percentile(50), 0)
  h.record(12.5)
  assert.deepEqual(BENCH_PERCENTILES.map((p) => h.percentile(p)), BENCH_PERCENTILES.map(() => 12.5))
})

test('the exported distribution lists each distinct value with its cumulative share and count', () => {
  const h = new LatencyHistogram()
  for (const v of [5, 5, 10, 20]) h.record(v)
  const rows = h.distribution().split('\n').filter((line) => /^\s+\d/.test(line)).map((line) => line.trim().split(/\s+/))
  assert.deepEqual(rows, [
    ['5.000', '0.500000000000', '2', '2.00'],
    ['10.000', '0.750000000000', '3', '4.00'],
    ['20.000', '1.000000000000', '4', 'inf'],
  ])
  assert.match(h.distribution(), /#\[Total count = 4\]/)
})
