// BENCH_ONLY=relay: the proxy's TLS relay (tsh ssh and `tsh proxy ssh` as OpenSSH's ProxyCommand)
// against relays with no crypto at all and against OpenSSH's ProxyJump, all to the same OpenSSH
// sshd, measured in one run and printed as ratios (issue 12's targets beside them):
//
//   1 GiB through ssh to `cat > /dev/null`:
//     ssh + ProxyCommand="tsh proxy ssh" (TLS relay; and the SSH subsystem path for reference)
//     ssh + ProxyCommand="socat -b 131072 - TCP:<relay>" → socat relay → sshd (two plain relays)
//     ssh -J through an OpenSSH bastion
//     tsh ssh (TLS relay)  vs  ssh → one socat relay → sshd
//   connect and run `true` (median of BENCH_RUNS): tsh ssh, the ProxyCommand path, ProxyJump
import {spawn} from 'node:child_process'
import {connect} from 'node:net'
import {freePort} from '../test/helpers/daemon.js'
import {CLUSTER, LOGIN, tsh, type BenchCluster} from './cluster.js'
import type {OpenSshSide} from './openssh.js'
import {median, timeShell} from './timing.js'

const BYTES = Number(process.env.BENCH_BYTES ?? 1024 ** 3)

/** A plain TCP relay (socat, 128 KiB buffers) from a free loopback port to `port`. */
async function startSocatRelay(port: number, stops: Array<() => Promise<unknown>>): Promise<number> {
  const listen = await freePort()
  const child = spawn('socat', ['-b', '131072', `TCP-LISTEN:${listen},bind=127.0.0.1,reuseaddr,fork`, `TCP:127.0.0.1:${port}`], {stdio: 'ignore'})
  stops.push(() => new Promise((resolve) => (child.exitCode !== null ? resolve(0) : (child.once('exit', resolve), child.kill('SIGTERM')))))
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(listen, '127.0.0.1', () => (s.destroy(), resolve(true)))
      s.once('error', () => resolve(false))
    })
    if (up) return listen
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('socat relay did not start')
}

export async function benchRelay(cluster: BenchCluster, openssh: OpenSshSide, stops: Array<() => Promise<unknown>>): Promise<void> {
  const {webPort, env, sshEnv} = cluster
  const {ssh, targetPort, bastionPort} = openssh
  const relayPort = await startSocatRelay(targetPort, stops)
  const proxyCommand = `-o ProxyCommand="${tsh} proxy ssh --proxy=127.0.0.1:${webPort} --cluster=${CLUSTER} %r@%h:%p"`
  const paths = {
    'ProxyCommand tsh proxy ssh (TLS relay)': {command: `${ssh} ${proxyCommand} -p ${targetPort} 127.0.0.1`, env},
    'ProxyCommand tsh proxy ssh (SSH subsystem)': {command: `${ssh} ${proxyCommand} -p ${targetPort} 127.0.0.1`, env: sshEnv},
    'two socat relays': {command: `${ssh} -o ProxyCommand="socat -b 131072 - TCP:127.0.0.1:${relayPort}" -p ${targetPort} 127.0.0.1`, env},
    'OpenSSH ProxyJump': {command: `${ssh} -J 127.0.0.1:${bastionPort} -p ${targetPort} 127.0.0.1`, env},
    'tsh ssh (TLS relay)': {command: `${tsh} ssh -p ${targetPort} ${LOGIN}@127.0.0.1`, env},
    'ssh through one socat relay': {command: `${ssh} -p ${relayPort} 127.0.0.1`, env},
  }
  type Name = keyof typeof paths
  const throughput = {} as Record<Name, number>
  for (const [name, {command, env: e}] of Object.entries(paths) as Array<[Name, {command: string; env: NodeJS.ProcessEnv}]>) {
    const ms = await timeShell(`head -c ${BYTES} /dev/zero | ${command} 'cat > /dev/null'`, e)
    throughput[name] = BYTES / 1024 ** 2 / (ms / 1000)
  }
  const latencyOf: Name[] = ['tsh ssh (TLS relay)', 'ProxyCommand tsh proxy ssh (TLS relay)', 'ProxyCommand tsh proxy ssh (SSH subsystem)', 'OpenSSH ProxyJump', 'two socat relays']
  const latency = {} as Record<Name, number>
  for (const name of latencyOf) latency[name] = await median(`${paths[name].command} true`, paths[name].env)

  const line = (label: string, value: string) => process.stdout.write(`  ${label.padEnd(60)} ${value}\n`)
  const ratio = (a: number, b: number) => (a / b).toFixed(2)
  process.stdout.write(`\nTLS relay: throughput (${(BYTES / 1024 ** 2).toFixed(0)} MiB through ssh to cat > /dev/null, all to one OpenSSH sshd)\n`)
  for (const [name, mbs] of Object.entries(throughput)) line(name, `${mbs.toFixed(1)} MiB/s`)
  line('ratio ProxyCommand (TLS relay) / two socat relays (target >= 0.9)', ratio(throughput['ProxyCommand tsh proxy ssh (TLS relay)'], throughput['two socat relays']))
  line('ratio ProxyCommand (TLS relay) / ProxyJump', ratio(throughput['ProxyCommand tsh proxy ssh (TLS relay)'], throughput['OpenSSH ProxyJump']))
  line('ratio ProxyCommand (SSH subsystem) / ProxyJump', ratio(throughput['ProxyCommand tsh proxy ssh (SSH subsystem)'], throughput['OpenSSH ProxyJump']))
  line('ratio two socat relays / ProxyJump (the ceiling)', ratio(throughput['two socat relays'], throughput['OpenSSH ProxyJump']))
  line('ratio tsh ssh (TLS relay) / ssh through one socat relay (target >= 0.9)', ratio(throughput['tsh ssh (TLS relay)'], throughput['ssh through one socat relay']))
  line('ratio tsh ssh (TLS relay) / ProxyJump', ratio(throughput['tsh ssh (TLS relay)'], throughput['OpenSSH ProxyJump']))
  process.stdout.write('\nTLS relay: connect and run true (median)\n')
  for (const [name, ms] of Object.entries(latency)) line(name, `${ms.toFixed(0)} ms`)
  line('ratio tsh ssh / ProxyJump (target <= 0.8)', ratio(latency['tsh ssh (TLS relay)'], latency['OpenSSH ProxyJump']))
  line('ratio ProxyCommand (TLS relay) / ProxyJump (target <= 0.8)', ratio(latency['ProxyCommand tsh proxy ssh (TLS relay)'], latency['OpenSSH ProxyJump']))
  line('ratio ProxyCommand (SSH subsystem) / ProxyJump', ratio(latency['ProxyCommand tsh proxy ssh (SSH subsystem)'], latency['OpenSSH ProxyJump']))
}
