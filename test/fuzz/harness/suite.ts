import {after, describe, test} from 'node:test'
import {FuzzRunner, type Failure, type Report} from './runner.js'
import type {FuzzTarget} from './target.js'

// The fuzz targets as `npm test` runs them: each target's corpus replayed, then a fixed-seed
// batch of runs (FUZZ_TEST_RUNS, default 2000; FUZZ_SEED to vary it), every input time-boxed
// (FUZZ_TIMEOUT_MS, default 5 s here: generous on a loaded CI machine; a hang never ends).

const RUNS = Number(process.env.FUZZ_TEST_RUNS ?? 2000)
const SEED = Number(process.env.FUZZ_SEED ?? 7)

export function describeFailures(report: Report): string {
  return report.failures.map((f: Failure) => `${f.kind}${f.file ? ` (${f.file})` : ''}: ${f.message}\ninput (${f.input.ext}): ${preview(f.input.data)}`).join('\n\n')
}

function preview(data: Buffer): string {
  const text = JSON.stringify(data.subarray(0, 400).toString('latin1'))
  return data.length > 400 ? `${text}... (${data.length} bytes)` : text
}

/** `module` is the targets file itself, so the worker loads that family only. */
export function fuzzSuite(title: string, targets: FuzzTarget[], module: URL): void {
  describe(`fuzz: ${title}`, () => {
    const runner = new FuzzRunner({targets: module, timeoutMs: Number(process.env.FUZZ_TIMEOUT_MS ?? 5000)})
    after(() => runner.close())
    for (const t of targets) {
      test(`${t.name}: every corpus input passes`, async () => {
        const report = await runner.replay(t.name)
        if (report.failures.length) throw new Error(describeFailures(report))
      })
      const runs = process.env.FUZZ_TEST_RUNS ? RUNS : (t.testRuns ?? RUNS)
      test(`${t.name}: ${runs} generated inputs pass`, async () => {
        const report = await runner.fuzz(t.name, runs, SEED)
        if (report.failures.length) throw new Error(describeFailures(report))
      })
    }
  })
}
