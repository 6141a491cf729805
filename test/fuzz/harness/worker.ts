import fc from 'fast-check'
import {parentPort, workerData} from 'node:worker_threads'
import {encodeInput, readCorpus} from './corpus.js'
import type {Request, WorkerFailure, WorkerReply} from './messages.js'
import {runOnce, type FuzzTarget} from './target.js'
import {Watchdog} from './watchdog.js'

// Runs targets inside a worker thread, so that the runner can stop one that hangs or eats memory.

const watchdog = new Watchdog(workerData.buffer as SharedArrayBuffer)
// Only the module the runner names is loaded (one family's keys and fixtures, not every one).
const targetsModule = (await import((workerData.targets as string | undefined) ?? new URL('../targets/index.ts', import.meta.url).href)) as Record<string, unknown>
const byName = new Map(
  Object.values(targetsModule)
    .flat()
    .map((t) => t as FuzzTarget)
    .map((t) => [t.name, t]),
)

async function guarded(t: FuzzTarget, input: unknown): Promise<void> {
  watchdog.begin(encodeInput(input))
  try {
    await runOnce(t, input)
  } finally {
    watchdog.end()
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return (err.stack ?? `${err.name}: ${err.message}`).split('\n').slice(0, 6).join('\n')
  return `thrown non-Error: ${String(err)}`
}

async function fuzz(t: FuzzTarget, runs: number, seed: number): Promise<WorkerReply> {
  const details = await fc.check(
    fc.asyncProperty(t.arbitrary, (input) => guarded(t, input)),
    {numRuns: runs, seed},
  )
  const failures: WorkerFailure[] = []
  if (details.failed && details.counterexample) {
    failures.push({message: describe(details.errorInstance), input: encodeInput(details.counterexample[0])})
  }
  return {runs: details.numRuns, failures}
}

async function replay(t: FuzzTarget): Promise<WorkerReply> {
  const failures: WorkerFailure[] = []
  const entries = readCorpus(t.name)
  for (const entry of entries) {
    try {
      await guarded(t, entry.input)
    } catch (err) {
      failures.push({message: describe(err), input: encodeInput(entry.input), file: entry.file})
    }
  }
  return {runs: entries.length, failures}
}

parentPort!.on('message', (request: Request) => {
  void (async () => {
    const t = byName.get(request.target)
    if (!t) return parentPort!.postMessage({runs: 0, failures: [], unknown: true} satisfies WorkerReply)
    const reply = request.cmd === 'fuzz' ? await fuzz(t, request.runs, request.seed) : await replay(t)
    parentPort!.postMessage(reply)
  })()
})
