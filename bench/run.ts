// npm run bench: our proxy path against OpenSSH, measured in the same run on loopback, printed
// as ratios (absolute times on a shared machine mean little; ratios within one run do).
//
//   throughput  1 GiB (BENCH_BYTES) piped through ssh to `cat > /dev/null`:
//               direct OpenSSH ssh→sshd, OpenSSH ProxyJump through an OpenSSH bastion, and
//               OpenSSH ssh with ProxyCommand="tsh proxy ssh" through our proxy to our node
//   latency     connect and run `true` (BENCH_RUNS times, median) for the same three, and tsh ssh
//   relay       the TLS relay against plain socat relays and ProxyJump (bench/relay.ts)
//   start-up    whole-process wall time of tsh and tctl commands (BENCH_RUNS rounds, each command
//               once a round so that load on the machine falls on all alike; median), against
//               `node -e 0`
//   recording   the cost of recording and playback in constant memory (bench/recording.ts)
//   concurrent  500 (BENCH_CONCURRENT) tsh ssh node true at once through one proxy, against as many
//               OpenSSH ProxyJump connections (bench/concurrency.ts)
//   scale       10,000 simulated nodes heartbeating into one auth server; tsh ls of them (bench/scale.ts)
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {CLUSTER, LOGIN, NODE, startBenchCluster, tctl, tsh, type BenchCluster} from './cluster.js'
import {startOpenSshSide, type OpenSshSide} from './openssh.js'
import {benchConcurrency} from './concurrency.js'
import {benchRelay} from './relay.js'
import {benchPlayback, benchRecordingCost} from './recording.js'
import {benchScale} from './scale.js'
import {median, mediansInTurn, RUNS, timeShell} from './timing.js'

const BYTES = Number(process.env.BENCH_BYTES ?? 1024 ** 3)

async function benchProxy(cluster: BenchCluster, openssh: OpenSshSide): Promise<void> {
  const {webPort, nodePort, env} = cluster
  const {targetPort, bastionPort, ssh} = openssh
  const paths = {
    'OpenSSH direct': `${ssh} -p ${targetPort} 127.0.0.1`,
    'OpenSSH ProxyJump': `${ssh} -J 127.0.0.1:${bastionPort} -p ${targetPort} 127.0.0.1`,
    'tsh proxy ssh': `${ssh} -o ProxyCommand="${tsh} proxy ssh --proxy=127.0.0.1:${webPort} --cluster=${CLUSTER} %r@%h:%p" -p ${nodePort} ${NODE}`,
  }

  const throughput: Record<string, number> = {}
  for (const [name, command] of Object.entries(paths)) {
    const ms = await timeShell(`head -c ${BYTES} /dev/zero | ${command} 'cat > /dev/null'`, env)
    throughput[name] = BYTES / 1024 ** 2 / (ms / 1000)
  }
  const latency: Record<string, number> = {}
  for (const [name, command] of Object.entries(paths)) latency[name] = await median(`${command} true`, env)
  latency['tsh ssh'] = await median(`${tsh} ssh ${LOGIN}@${NODE} true`, env)
  const line = (label: string, value: string) => process.stdout.write(`  ${label.padEnd(44)} ${value}\n`)
  process.stdout.write(`\nThroughput (${(BYTES / 1024 ** 2).toFixed(0)} MiB through ssh to cat > /dev/null)\n`)
  for (const [name, mbs] of Object.entries(throughput)) line(name, `${mbs.toFixed(1)} MiB/s`)
  line('ratio tsh proxy ssh / ProxyJump (target >= 2)', (throughput['tsh proxy ssh'] / throughput['OpenSSH ProxyJump']).toFixed(2))
  line('ratio tsh proxy ssh / direct', (throughput['tsh proxy ssh'] / throughput['OpenSSH direct']).toFixed(2))
  process.stdout.write(`\nConnect and run true (median of ${RUNS})\n`)
  for (const [name, ms] of Object.entries(latency)) line(name, `${ms.toFixed(0)} ms`)
  line('ratio tsh proxy ssh / ProxyJump (target <= 1)', (latency['tsh proxy ssh'] / latency['OpenSSH ProxyJump']).toFixed(2))
  line('ratio tsh ssh / ProxyJump', (latency['tsh ssh'] / latency['OpenSSH ProxyJump']).toFixed(2))

}

/** Whole-process start-up of tsh and tctl commands against `node -e 0`, the commands in turn. */
async function benchStartup(cluster: BenchCluster): Promise<void> {
  const {config, env} = cluster
  const startup = await mediansInTurn({
    'node -e 0': 'node -e 0',
    'tsh status': `${tsh} status`,
    'tsh ls --help': `${tsh} ls --help`,
    'tsh version': `${tsh} version`,
    'tctl --help': `${tctl} --help`,
    // These two also dial the auth service (an SSH handshake and a request): more than start-up.
    'tctl status (dials auth)': `${tctl} -c ${config} status`,
    'tctl get users (dials auth)': `${tctl} -c ${config} get users`,
  }, env)

  const line = (label: string, value: string) => process.stdout.write(`  ${label.padEnd(44)} ${value}\n`)
  process.stdout.write(`\nStart-up, whole process (median of ${RUNS}, in turn)\n`)
  const bare = startup['node -e 0']!
  for (const [name, ms] of Object.entries(startup)) {
    const target = name === 'tsh status' ? ' (target <= 1.8)' : ''
    line(name, `${ms.toFixed(0)} ms${name === 'node -e 0' ? '' : `  ratio ${(ms / bare).toFixed(2)}${target}`}`)
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'bench-'))
const stops: Array<() => Promise<unknown>> = []
try {
  // BENCH_ONLY=proxy|relay|startup|concurrent|recording|playback|scale runs one part.
  const only = process.env.BENCH_ONLY
  if (!only || only === 'proxy' || only === 'relay' || only === 'startup' || only === 'concurrent') {
    // One identity for every path: a user certificate from our CA, trusted by our node and by sshd.
    const cluster = await startBenchCluster(dir)
    stops.push(() => cluster.stop())
    const openssh = only === 'startup' ? undefined : await startOpenSshSide(cluster, stops)
    if (!only || only === 'proxy') await benchProxy(cluster, openssh!)
    if (!only || only === 'relay') await benchRelay(cluster, openssh!, stops)
    if (!only || only === 'startup') await benchStartup(cluster)
    if (!only || only === 'concurrent') await benchConcurrency(cluster, openssh!)
  }
  if (!only || only === 'recording') await benchRecordingCost(dir, stops)
  if (!only || only === 'recording' || only === 'playback') await benchPlayback(dir, stops)
  if (!only || only === 'scale') await benchScale(dir, stops)
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => {})
  rmSync(dir, {recursive: true, force: true})
}
