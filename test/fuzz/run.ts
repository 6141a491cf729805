import {randomInt} from 'node:crypto'
import path from 'node:path'
import {saveToCorpus} from './harness/corpus.js'
import {FuzzRunner, type Report} from './harness/runner.js'
import {describeFailures} from './harness/suite.js'
import {ALL_TARGETS} from './targets/index.js'

// `npm run fuzz`: FUZZ_RUNS (default 10^6) inputs per target, in batches with fresh seeds, each
// input time-boxed (FUZZ_TIMEOUT_MS, default 1000). Every failing input is written into
// test/fuzz/corpus/<target>/, where `npm test` replays it. FUZZ_TARGETS=a,b picks targets.
// FUZZ_MAX_SECONDS bounds each target's time (checked between batches of FUZZ_BATCH runs). Ends with the runs and failures per target;
// exits 1 when anything failed.

const RUNS = Number(process.env.FUZZ_RUNS ?? 1_000_000)
/** Per-target time budget in seconds (FUZZ_MAX_SECONDS, default none): stops between batches. */
const MAX_SECONDS = Number(process.env.FUZZ_MAX_SECONDS ?? Infinity)
const BATCH = Math.min(RUNS, Number(process.env.FUZZ_BATCH ?? 20_000))
const MAX_FAILURES = 3
const wanted = process.env.FUZZ_TARGETS?.split(',').filter(Boolean)
const targets = wanted ? ALL_TARGETS.filter((t) => wanted.includes(t.name)) : ALL_TARGETS
if (wanted && targets.length !== wanted.length) {
  console.error(`unknown target in FUZZ_TARGETS; known: ${ALL_TARGETS.map((t) => t.name).join(', ')}`)
  process.exit(2)
}

const runner = new FuzzRunner({timeoutMs: Number(process.env.FUZZ_TIMEOUT_MS ?? 1000)})
const rows: {target: string; runs: number; failures: number; corpus: number; seconds: number}[] = []
for (const t of targets) {
  const started = Date.now()
  let runs = 0
  let failures = 0
  try {
    const replayed = await runner.replay(t.name)
    failures += replayed.failures.length
    if (replayed.failures.length) console.log(`${t.name}: corpus inputs that still fail:\n${describeFailures(replayed)}\n`)
  } catch (err) {
    console.log(`${t.name}: the fuzz worker failed: ${(err as Error).message}`)
    failures++
  }
  const saved: string[] = []
  while (runs < RUNS && failures < MAX_FAILURES && Date.now() - started < MAX_SECONDS * 1000) {
    const seed = Number(process.env.FUZZ_SEED ?? randomInt(2 ** 31))
    let report: Report
    try {
      report = await runner.fuzz(t.name, Math.min(BATCH, RUNS - runs), seed)
    } catch (err) {
      // The worker itself failed (not an input): say so and go on with the next target.
      console.log(`${t.name}: the fuzz worker failed: ${(err as Error).message}`)
      failures++
      break
    }
    // A hang or a crash stops a batch early; count at least the input that failed.
    runs += Math.max(report.runs, report.failures.length)
    for (const failure of report.failures) {
      failures++
      saved.push(saveToCorpus(t.name, failure.input))
      console.log(`${t.name} (seed ${seed}): ${failure.kind}: ${failure.message.split('\n')[0]}\n  kept as ${path.relative(process.cwd(), saved.at(-1)!)}`)
    }
    if (process.env.FUZZ_SEED) break
  }
  rows.push({target: t.name, runs, failures, corpus: saved.length, seconds: Math.round((Date.now() - started) / 1000)})
  console.log(`${t.name}: ${runs} runs, ${failures} failures`)
}
await runner.close()

console.log('\ntarget                          runs  failures  new corpus files  seconds')
for (const r of rows) console.log(`${r.target.padEnd(28)} ${String(r.runs).padStart(8)}  ${String(r.failures).padStart(8)}  ${String(r.corpus).padStart(16)}  ${String(r.seconds).padStart(7)}`)
const total = rows.reduce((sum, r) => sum + r.runs, 0)
const failed = rows.reduce((sum, r) => sum + r.failures, 0)
console.log(`total: ${total} runs over ${rows.length} targets, ${failed} failures`)
process.exitCode = failed > 0 ? 1 : 0
