// Simulated nodes for the scale benchmark (bench/scale.ts runs one or more of these processes).
// Each node is what a real node is to auth: its own key pair, joined with the token (its own host
// certificate), its own SSH connection to the auth API, and the real Heartbeat on Teleport's
// intervals (announce every ~5 minutes, keepalive every minute). Only the SSH server is missing.
//
// argv: JSON {auth: "host:port", token, caPin, count, first, dataDir, concurrency}
// stdout: one JSON line per report: {joined}, then {latencies: [ms...]} every few seconds.
import {randomUUID} from 'node:crypto'
import {mkdirSync} from 'node:fs'
import path from 'node:path'
import {performance} from 'node:perf_hooks'
import type {NodeAuthApi} from '../src/api/auth-api.js'
import {connectToAuth} from '../src/daemon/common/auth-connection.js'
import {joinCluster} from '../src/daemon/common/join.js'
import {Heartbeat, nodePresence, type NodeAnnouncement} from '../src/daemon/common/heartbeat.js'
import type {Logger} from '../src/lib/log.js'

interface SimOptions {
  auth: string
  token: string
  caPin: string
  count: number
  first: number
  dataDir: string
  concurrency: number
}

const options = JSON.parse(process.argv[2]!) as SimOptions
const [host, port] = [options.auth.slice(0, options.auth.lastIndexOf(':')), Number(options.auth.slice(options.auth.lastIndexOf(':') + 1))]
let failures = 0
const quiet: Logger = {debug: () => {}, info: () => {}, warn: () => void failures++, error: () => void failures++, child: () => quiet}
let latencies: number[] = []
const heartbeats: Heartbeat<NodeAnnouncement>[] = []

/** The node's API with its heartbeat calls timed. */
function timed(api: NodeAuthApi): NodeAuthApi {
  const time = <T>(call: () => Promise<T>) => {
    const started = performance.now()
    return call().finally(() => latencies.push(performance.now() - started))
  }
  return Object.assign(Object.create(api) as NodeAuthApi, {
    upsertNode: (node: Parameters<NodeAuthApi['upsertNode']>[0]) => time(() => api.upsertNode(node)),
    keepAliveNode: (name: string) => time(() => api.keepAliveNode(name)),
  })
}

async function startNode(index: number): Promise<void> {
  const hostUuid = randomUUID()
  const dataDir = path.join(options.dataDir, String(index))
  mkdirSync(dataDir, {recursive: true, mode: 0o700})
  const identity = await joinCluster({authServers: [{host, port}], token: options.token, caPins: [options.caPin], dataDir, role: 'node', nodeName: `sim-${index}`, hostUuid, log: quiet})
  const api = timed(connectToAuth(identity) as NodeAuthApi)
  const record = {name: hostUuid, hostname: `sim-${index}`, addr: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}:3022`, labels: {sim: 'true', group: `g${index % 10}`}, cmdLabels: {}, version: '0.0.0-sim'}
  const heartbeat = new Heartbeat(nodePresence(api), () => record, quiet)
  heartbeats.push(heartbeat)
  await heartbeat.start()
}

let next = options.first
const end = options.first + options.count
let joined = 0
await Promise.all(
  Array.from({length: options.concurrency}, async () => {
    while (next < end) {
      const index = next++
      await startNode(index)
      joined++
      if (joined % 250 === 0 || joined === options.count) process.stdout.write(JSON.stringify({joined, failures}) + '\n')
    }
  }),
)
latencies = []
setInterval(() => {
  process.stdout.write(JSON.stringify({latencies, failures}) + '\n')
  latencies = []
}, 5_000)
process.on('SIGTERM', () => {
  void Promise.all(heartbeats.map((h) => h.stop())).finally(() => process.exit(0))
})
