import assert from 'node:assert/strict'
import {test} from 'node:test'
import {plannedRequests, runBench} from '../../../../src/client/bench/run-bench.js'
import {renderBenchText, benchJson} from '../../../../src/client/bench/render.js'
import {FakeClock} from '../../../../src/lib/clock.js'

test('requests start on schedule (rate × duration of them) whether or not earlier ones finished', async () => {
  const clock = new FakeClock()
  const started: number[] = []
  const finish: (() => void)[] = []
  const run = runBench({
    rate: 4,
    durationMs: 1000,
    clock,
    elapsed: () => clock.now().getTime(),
    request: () => {
      started.push(clock.now().getTime() - Date.UTC(2026, 0, 1))
      return new Promise<void>((resolve) => finish.push(resolve))
    },
  })
  await clock.advanceAsync(1000)
  // None has finished, yet all four started, 250 ms apart.
  assert.deepEqual(started, [0, 250, 500, 750])
  await clock.advanceAsync(100)
  for (const done of finish) done()
  const result = await run
  assert.equal(result.originated, 4)
  assert.equal(result.failed, 0)
  // Each latency is from its own start to the common finish at 1100 ms.
  assert.deepEqual([25, 50, 75, 100].map((p) => result.histogram.percentile(p)), [350, 600, 850, 1100])
})

test('failures are counted with their reasons and leave the latencies out', async () => {
  const clock = new FakeClock()
  let n = 0
  const run = runBench({
    rate: 10,
    durationMs: 500,
    clock,
    elapsed: () => clock.now().getTime(),
    request: async () => {
      if (n++ % 2 === 1) throw new Error('access denied to root connecting to node-1')
    },
  })
  await clock.advanceAsync(500)
  const result = await run
  assert.equal(result.originated, 5)
  assert.equal(result.failed, 2)
  assert.equal(result.histogram.count, 3)
  assert.deepEqual(result.errors, [{message: 'access denied to root connecting to node-1', count: 2}])
  const text = renderBenchText(result)
  assert.match(text, /^\* Requests originated: 5\n\* Requests failed: 2\n  2 × access denied/)
  assert.match(text, /Percentile Response Duration\n---------- -----------------\n25 {9}0 ms/)
  assert.equal(benchJson(result).histogram.length, 7)
})

test('a plan makes at least one request', () => {
  assert.equal(plannedRequests({rate: 10, durationMs: 10_000}), 100)
  assert.equal(plannedRequests({rate: 1, durationMs: 100}), 1)
})
