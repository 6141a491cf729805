// Session recording in `npm run bench`, ratios within one run:
//
//   cost      `tsh ssh -tt node 'head -c 200M /dev/zero | base64' > /dev/null` (BENCH_RECORDING_MB)
//             on a cluster with session_recording: node against one with off (target >= 0.9)
//   playback  a ~200 MB recording (`head -c 150M /dev/urandom | base64` in a recorded session),
//             `tsh play -f text --speed 16 <id> > /dev/null`: peak RSS (target < 150 MB) and time
//             to first byte (target < 1 s); the same recording exported to asciicast and played
//             by `asciinema cat`, peak RSS, for comparison; and in the browser's player
//             (bench/web-player.ts): time to first frame (target < 1 s) and the tab's JS heap
import {statSync} from 'node:fs'
import path from 'node:path'
import {eventually} from '../test/helpers/eventually.js'
import {LOGIN, NODE, must, startBenchCluster, tsh, type BenchCluster} from './cluster.js'
import {middle, peakAndFirstByte, timeShell} from './timing.js'
import {measureWebPlayer} from './web-player.js'

const COST_MB = Number(process.env.BENCH_RECORDING_MB ?? 200)
const PLAYBACK_RANDOM_MB = Number(process.env.BENCH_PLAYBACK_MB ?? 150)
const COST_RUNS = 3

const line = (label: string, value: string) => process.stdout.write(`  ${label.padEnd(44)} ${value}\n`)

async function newestRecording(cluster: BenchCluster): Promise<string> {
  const listed = JSON.parse(must(tsh, ['recordings', 'ls', '--format', 'json'], cluster.env)) as {sid?: string; id?: string}[]
  const first = listed[0]
  const sid = first?.sid ?? first?.id
  if (!sid) throw new Error(`no recording listed: ${JSON.stringify(listed).slice(0, 200)}`)
  return sid
}

export async function benchRecordingCost(dir: string, stops: Array<() => Promise<unknown>>): Promise<void> {
  const recorded = await startBenchCluster(path.join(dir, 'recorded'), {sessionRecording: 'node'})
  stops.push(() => recorded.stop())
  const unrecorded = await startBenchCluster(path.join(dir, 'unrecorded'), {sessionRecording: 'off'})
  stops.push(() => unrecorded.stop())

  const flood = `${tsh} ssh -tt ${LOGIN}@${NODE} 'head -c ${COST_MB}M /dev/zero | base64' > /dev/null`
  const times: Record<string, number[]> = {node: [], off: []}
  for (let i = 0; i < COST_RUNS; i++) {
    times.node!.push(await timeShell(flood, recorded.env))
    times.off!.push(await timeShell(flood, unrecorded.env))
  }
  const outputMiB = (COST_MB * 4) / 3 / 1.0 // base64 of COST_MB MiB, newlines aside
  const mibs = (ms: number) => outputMiB / (ms / 1000)
  process.stdout.write(`\nRecording cost (tsh ssh -tt, ${COST_MB} MiB of zeros through base64, median of ${COST_RUNS}, in turn)\n`)
  line('session_recording: off', `${mibs(middle(times.off!)).toFixed(1)} MiB/s`)
  line('session_recording: node', `${mibs(middle(times.node!)).toFixed(1)} MiB/s`)
  line('ratio node / off (target >= 0.9)', (middle(times.off!) / middle(times.node!)).toFixed(2))
}

export async function benchPlayback(dir: string, stops: Array<() => Promise<unknown>>): Promise<void> {
  const recorded = await startBenchCluster(path.join(dir, 'playback'), {sessionRecording: 'node'})
  stops.push(() => recorded.stop())

  // A large recording of random output (compresses little), played back through the cluster.
  must('bash', ['-c', `${tsh} ssh -tt ${LOGIN}@${NODE} 'head -c ${PLAYBACK_RANDOM_MB}M /dev/urandom | base64' > /dev/null`], recorded.env)
  const sid = await newestRecording(recorded)
  const stored = path.join(recorded.dir, 'data', 'log', 'records')
  await eventually(async () => must('ls', [stored]).includes(sid) && !must('ls', [stored]).includes(`${sid}.part`), 'the recording to reach auth', {timeoutMs: 300_000})
  const cast = path.join(dir, 'big.cast')
  must(tsh, ['recordings', 'export', sid, '--format', 'asciicast', '--output', cast], recorded.env)
  const play = await peakAndFirstByte(`${tsh} play -f text --speed 16 ${sid}`, recorded.env)
  // asciinema reads keys from /dev/tty even for cat: script(1) gives it a terminal.
  const asciinema = await peakAndFirstByte(`script -qec 'asciinema cat ${cast}' /dev/null`, {})
  const recordingMB = statSync(path.join(stored, must('ls', [stored]).split('\n').find((f) => f.startsWith(sid))!)).size / 1024 ** 2
  process.stdout.write(`\nPlayback (a ${recordingMB.toFixed(0)} MiB recording of ${((PLAYBACK_RANDOM_MB * 4) / 3).toFixed(0)} MiB of output; cast ${(statSync(cast).size / 1024 ** 2).toFixed(0)} MiB)\n`)
  line('tsh play -f text --speed 16 <id>: peak RSS', `${play.peakMiB.toFixed(0)} MiB (target < 150)`)
  line('tsh play: first byte', `${play.firstByteMs.toFixed(0)} ms (target < 1000)`)
  line('tsh play: whole recording', `${(play.totalMs / 1000).toFixed(1)} s`)
  line('asciinema cat <cast>: peak RSS', `${asciinema.peakMiB.toFixed(0)} MiB`)
  line('asciinema cat: first byte', `${asciinema.firstByteMs.toFixed(0)} ms`)
  line('ratio peak RSS tsh play / asciinema cat', (play.peakMiB / asciinema.peakMiB).toFixed(2))
  const web = await measureWebPlayer(recorded, sid)
  line('web player: socket to first output frame', `${web.firstFrameMs.toFixed(0)} ms (target < 1000)`)
  line('web player: page navigation to first text', `${web.firstTextMs.toFixed(0)} ms`)
  line('web player: JS heap playing at 8x', `${web.heapMB.map((mb) => mb.toFixed(0)).join(', ')} MB`)
}
