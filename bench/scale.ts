// Scale (BENCH_ONLY=scale): BENCH_NODES (10,000) simulated nodes (bench/scale-nodes.ts, in
// BENCH_SIM_PROCS processes) join one auth server and heartbeat on Teleport's intervals; then,
// over BENCH_SCALE_WINDOW_S seconds of steady heartbeats, the teleport process's CPU and RSS (it
// runs auth, proxy and one node), the heartbeat latency the nodes see, and `tsh ls` of all of
// them (text and json, whole-process wall time, median of BENCH_RUNS).
// BENCH_BACKEND=etcd runs the same with `teleport.storage.type: etcd` on a real single-member etcd
// (Debian's etcd-server, started as the tests start it), whose CPU and RSS are reported too.
import {spawn, type ChildProcess} from 'node:child_process'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {performance} from 'node:perf_hooks'
import {createInterface} from 'node:readline'
import {repoRoot} from '../test/helpers/cli.js'
import {startEtcd} from '../test/helpers/etcd.js'
import {must, startBenchCluster, tctl, tsh} from './cluster.js'
import {middle, percentile, RUNS, timeShell} from './timing.js'

const NODES = Number(process.env.BENCH_NODES ?? 10_000)
const SIM_PROCS = Number(process.env.BENCH_SIM_PROCS ?? 2)
const WINDOW_S = Number(process.env.BENCH_SCALE_WINDOW_S ?? 90)
const BACKEND = process.env.BENCH_BACKEND ?? 'sqlite'
/**
 * Joins in flight per simulator process: all of them come from 127.0.0.1, and auth lets one
 * source have at most 32 connections not yet logged in (MaxStartups, DESIGN.md).
 */
const JOIN_CONCURRENCY = 8

interface SimReport {
  joined?: number
  failures: number
  latencies?: number[]
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024
}

export async function benchScale(dir: string, stops: Array<() => Promise<unknown>>): Promise<void> {
  if (BACKEND !== 'sqlite' && BACKEND !== 'etcd') throw new Error(`BENCH_BACKEND=${BACKEND}: expected sqlite or etcd`)
  let etcdPid: number | undefined
  let storage: string[] | undefined
  if (BACKEND === 'etcd') {
    const etcd = await startEtcd()
    stops.push(() => etcd.close())
    etcdPid = etcd.members[0]!.pid
    storage = ['type: etcd', `peers: [${etcd.peers.join(', ')}]`, 'prefix: /bench']
  }
  const cluster = await startBenchCluster(path.join(dir, 'scale'), {...(storage ? {storage} : {})})
  stops.push(() => cluster.stop())
  const line = (label: string, value: string) => process.stdout.write(`  ${label.padEnd(44)} ${value}\n`)
  process.stdout.write(`\nScale: ${NODES} simulated nodes into one auth server (${BACKEND === 'etcd' ? 'etcd, one member' : 'SQLite'}), ${SIM_PROCS} simulator processes\n`)
  const idleRss = rssMiB(cluster.pid)
  const etcdIdleRss = etcdPid ? rssMiB(etcdPid) : 0

  const perProc = Math.ceil(NODES / SIM_PROCS)
  const sims: ChildProcess[] = []
  const reports: SimReport[][] = []
  const joinStarted = performance.now()
  const joinCpu = cpuSeconds(cluster.pid)
  const etcdJoinCpu = etcdPid ? cpuSeconds(etcdPid) : 0
  for (let p = 0; p < SIM_PROCS; p++) {
    const count = Math.min(perProc, NODES - p * perProc)
    const token = JSON.parse(must(tctl, ['-c', cluster.config, 'tokens', 'add', '--type=node', `--uses=${count}`, '--ttl=2h', '--format', 'json'])) as {token: string; ca_pins?: string[]; caPins?: string[]}
    const caPin = (token.ca_pins ?? token.caPins)![0]!
    const options = {auth: `127.0.0.1:${cluster.authPort}`, token: token.token, caPin, count, first: p * perProc, dataDir: path.join(dir, 'scale', `sim-${p}`), concurrency: JOIN_CONCURRENCY}
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bench', 'scale-nodes.ts'), JSON.stringify(options)], {stdio: ['ignore', 'pipe', 'inherit']})
    sims.push(child)
    stops.push(async () => {
      child.kill('SIGTERM')
    })
    const mine: SimReport[] = []
    reports.push(mine)
    createInterface({input: child.stdout!}).on('line', (text) => mine.push(JSON.parse(text) as SimReport))
  }
  const joinedNow = () => reports.reduce((sum, mine) => sum + Math.max(0, ...mine.map((r) => r.joined ?? 0)), 0)
  let lastShown = 0
  while (joinedNow() < NODES) {
    if (sims.some((s) => s.exitCode !== null)) throw new Error('a simulator process exited before all its nodes joined')
    await new Promise((resolve) => setTimeout(resolve, 1000))
    if (joinedNow() - lastShown >= 2000) {
      lastShown = joinedNow()
      process.stderr.write(`  ... ${lastShown} joined\n`)
    }
  }
  const joinS = (performance.now() - joinStarted) / 1000
  line('joined and announced', `${NODES} in ${joinS.toFixed(0)} s (${(NODES / joinS).toFixed(0)}/s), auth CPU ${(cpuSeconds(cluster.pid) - joinCpu).toFixed(0)} s${etcdPid ? `, etcd CPU ${(cpuSeconds(etcdPid) - etcdJoinCpu).toFixed(0)} s` : ''}`)

  // Steady state: every node keeps alive once a minute.
  for (const mine of reports) mine.length = 0
  const cpuBefore = cpuSeconds(cluster.pid)
  const etcdCpuBefore = etcdPid ? cpuSeconds(etcdPid) : 0
  await new Promise((resolve) => setTimeout(resolve, WINDOW_S * 1000))
  const cpuPercent = ((cpuSeconds(cluster.pid) - cpuBefore) / WINDOW_S) * 100
  const etcdCpuPercent = etcdPid ? ((cpuSeconds(etcdPid) - etcdCpuBefore) / WINDOW_S) * 100 : 0
  const latencies = reports.flat().flatMap((r) => r.latencies ?? []).sort((a, b) => a - b)
  const failures = reports.map((mine) => mine.at(-1)?.failures ?? 0).reduce((a, b) => a + b, 0)
  line(`auth process CPU over ${WINDOW_S} s of heartbeats`, `${cpuPercent.toFixed(1)} % of one core`)
  line('auth process RSS', `${rssMiB(cluster.pid).toFixed(0)} MiB (${idleRss.toFixed(0)} MiB before the nodes)`)
  if (etcdPid) {
    line(`etcd process CPU over ${WINDOW_S} s of heartbeats`, `${etcdCpuPercent.toFixed(1)} % of one core`)
    line('etcd process RSS', `${rssMiB(etcdPid).toFixed(0)} MiB (${etcdIdleRss.toFixed(0)} MiB before the nodes)`)
  }
  line('heartbeats in the window', `${latencies.length} (${(latencies.length / WINDOW_S).toFixed(0)}/s), ${failures} failed`)
  line('heartbeat latency p50 / p99', `${percentile(latencies, 50).toFixed(1)} ms / ${percentile(latencies, 99).toFixed(1)} ms`)

  for (const [label, args] of [['tsh ls (text)', 'ls'], ['tsh ls -f json', 'ls -f json']] as const) {
    const listed = must(tsh, args.split(' '), cluster.env)
    const count = args.includes('json') ? (JSON.parse(listed) as unknown[]).length : listed.trim().split('\n').length - 2
    if (count < NODES) throw new Error(`${label} listed ${count} nodes, expected at least ${NODES}`)
    const times: number[] = []
    for (let i = 0; i < Math.min(RUNS, 5); i++) times.push(await timeShell(`${tsh} ${args} > /dev/null`, cluster.env))
    line(`${label} of ${count} nodes (target < 1000 ms)`, `${middle(times).toFixed(0)} ms`)
  }
  for (const sim of sims) sim.kill('SIGTERM')
}
