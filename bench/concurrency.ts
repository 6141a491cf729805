// Concurrent sessions (BENCH_ONLY=concurrent): BENCH_CONCURRENT (500) `tsh ssh <node> true` at once
// through one proxy, against the same count of OpenSSH ProxyJump connections (`ssh -J` through an
// OpenSSH bastion to an OpenSSH sshd) in the same run: errors, and latency p50/p99 of those that
// succeeded, each from its start to the command's exit status.
//
// Both sides start their sessions from BENCH_CONCURRENT_PROCS (4) load processes
// (bench/concurrency-client.ts), all released at once. The OpenSSH side is one `ssh -J` process
// per session. The tsh side is not one tsh process per session (a Node.js process is ~60 MiB:
// 500 of them would not fit in this machine's memory beside the cluster); it is tsh ssh's own code
// path (the saved login, connectToNode over the TLS relay, exec, exit status) run many times at
// once in each load process, so it leaves out tsh's process start-up (bench `startup` measures
// that). Both sshds take up to SSHD_MAX_STARTUPS unauthenticated connections (bench/openssh.ts).
import {spawn, type ChildProcess} from 'node:child_process'
import path from 'node:path'
import {createInterface} from 'node:readline'
import {repoRoot} from '../test/helpers/cli.js'
import {LOGIN, NODE, type BenchCluster} from './cluster.js'
import {SSHD_MAX_STARTUPS, type OpenSshSide} from './openssh.js'
import {percentile} from './timing.js'

const SESSIONS = Number(process.env.BENCH_CONCURRENT ?? 500)
const PROCS = Number(process.env.BENCH_CONCURRENT_PROCS ?? 4)

interface Outcome {
  latencies: number[]
  errors: string[]
}

/** Starts the load processes, releases them together once all are ready, and gathers their outcomes. */
async function burst(options: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<Outcome> {
  const children: ChildProcess[] = []
  const ready: Promise<void>[] = []
  const done: Promise<Outcome>[] = []
  for (let p = 0; p < PROCS; p++) {
    const count = Math.floor(SESSIONS / PROCS) + (p < SESSIONS % PROCS ? 1 : 0)
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bench', 'concurrency-client.ts'), JSON.stringify({...options, count})], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: {...process.env, ...env},
    })
    children.push(child)
    const lines = createInterface({input: child.stdout!})[Symbol.asyncIterator]()
    const next = async () => {
      const line = await lines.next()
      if (line.done) throw new Error(`a load process exited early (${child.exitCode ?? child.signalCode})`)
      return line.value
    }
    ready.push(next().then(() => undefined))
    done.push(ready.at(-1)!.then(async () => JSON.parse(await next()) as Outcome))
  }
  await Promise.all(ready)
  for (const child of children) child.stdin!.write('go\n')
  const outcomes = await Promise.all(done)
  return {latencies: outcomes.flatMap((o) => o.latencies).sort((a, b) => a - b), errors: outcomes.flatMap((o) => o.errors)}
}

export async function benchConcurrency(cluster: BenchCluster, openssh: OpenSshSide): Promise<void> {
  const line = (label: string, value: string) => process.stdout.write(`  ${label.padEnd(60)} ${value}\n`)
  process.stdout.write(
    `\nConcurrent sessions: ${SESSIONS} at once, each connect + run true + exit status, from ${PROCS} load processes\n` +
      `  tsh: tsh ssh's code path (saved login, TLS relay through one proxy), many sessions per process, not one tsh process each\n` +
      `  OpenSSH: one ssh -J process per session through one OpenSSH bastion; both sshds at MaxStartups ${SSHD_MAX_STARTUPS} (default 10:30:100 would drop them)\n` +
      `  OS login ${LOGIN} (BENCH_LOGIN): its shell runs true on both sides\n`,
  )
  const sides = {
    'tsh ssh (TLS relay)': () => burst({mode: 'tsh', host: NODE, login: LOGIN}, cluster.env),
    'OpenSSH ProxyJump': () => burst({mode: 'openssh', argv: [...openssh.sshArgv, '-J', `127.0.0.1:${openssh.bastionPort}`, '-p', String(openssh.targetPort), '127.0.0.1', 'true']}, {}),
  }
  const results: Record<string, Outcome> = {}
  for (const [name, run] of Object.entries(sides)) {
    results[name] = await run()
    const {latencies, errors} = results[name]!
    line(`${name}: ok / errors`, `${latencies.length} / ${errors.length}`)
    line(`${name}: latency p50 / p99 / max`, `${percentile(latencies, 50).toFixed(0)} ms / ${percentile(latencies, 99).toFixed(0)} ms / ${(latencies.at(-1) ?? NaN).toFixed(0)} ms`)
    const reasons = new Map<string, number>()
    for (const message of errors) reasons.set(message, (reasons.get(message) ?? 0) + 1)
    for (const [message, count] of [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 6)) line(`  ${count} ×`, message)
  }
  if (results['OpenSSH ProxyJump']!.errors.length > 0) {
    const said = openssh.logs().split('\n').filter((l) => /error|fatal|drop|refus|exceed|fail|closed/i.test(l))
    process.stdout.write(`  sshd said (${said.length} lines like these):\n${said.slice(0, 5).map((l) => `    ${l}`).join('\n')}\n`)
  }
  if (results['tsh ssh (TLS relay)']!.errors.length > 0) {
    const said = cluster.logs().split('\n').filter((l) => /WARN|ERROR/.test(l))
    process.stdout.write(`  teleport said (${said.length} warnings and errors like these):\n${said.slice(0, 5).map((l) => `    ${l}`).join('\n')}\n`)
  }
  const [ours, theirs] = [results['tsh ssh (TLS relay)']!, results['OpenSSH ProxyJump']!]
  line('ratio tsh / ProxyJump, p50', (percentile(ours.latencies, 50) / percentile(theirs.latencies, 50)).toFixed(2))
  line('ratio tsh / ProxyJump, p99', (percentile(ours.latencies, 99) / percentile(theirs.latencies, 99)).toFixed(2))
  if (ours.errors.length > 0) process.exitCode = 1
}
