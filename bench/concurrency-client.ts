// One load process of the concurrent bench (bench/concurrency.ts runs a few). It loads what it
// needs, says "ready", waits for "go" on stdin, then starts all its sessions at once and prints
// one JSON line: {latencies: [ms...], errors: [message...]}. A session unfinished after
// BENCH_SESSION_TIMEOUT_S (120) counts as an error, which says the last step it reached (tsh).
//
//   tsh      `tsh ssh <login>@<node> true` as tsh runs it, COUNT times at once in this process:
//            the saved login of TELEPORT_HOME and tsh bench's request (src/client/bench), which
//            is connectToNode (the TLS relay or the proxy's SSH subsystem, as tsh ssh picks) +
//            exec + exit status. One Node.js process per session would need ~60 MiB each.
//   openssh  COUNT `ssh -J` processes at once (argv given), each timed from spawn to exit.
//
// argv: JSON {mode: "tsh", count, host, login} | {mode: "openssh", count, argv: [...]}
import {spawn} from 'node:child_process'
import {performance} from 'node:perf_hooks'
import {createInterface} from 'node:readline'
import {sshBenchRequest} from '../src/client/bench/ssh-request.js'
import {loadCurrentIdentity} from '../src/client/profile.js'

type Options = {mode: 'tsh'; count: number; host: string; login: string} | {mode: 'openssh'; count: number; argv: string[]}

const options = JSON.parse(process.argv[2]!) as Options
/** A session not finished by then counts as an error (one that hangs must not hang the bench). */
const SESSION_TIMEOUT_MS = Number(process.env.BENCH_SESSION_TIMEOUT_S ?? 120) * 1000

function runOpenSsh(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.once('error', reject)
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ssh exited ${code}: ${stderr.trim().split('\n').at(-1) ?? ''}`))))
  })
}

const request: (log: (line: string) => void) => Promise<void> =
  options.mode === 'tsh'
    ? sshBenchRequest(loadCurrentIdentity(), {host: options.host, login: options.login, command: 'true', interactive: false})
    : () => runOpenSsh(options.argv)

const latencies: number[] = []
const errors: string[] = []
process.stdout.write('ready\n')
await new Promise((resolve) => createInterface({input: process.stdin}).once('line', resolve))
await Promise.all(
  Array.from({length: options.count}, async () => {
    const started = performance.now()
    let step = 'connecting'
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not finished after ${SESSION_TIMEOUT_MS / 1000} s${options.mode === 'tsh' ? ` (last step: ${step})` : ''}`)), SESSION_TIMEOUT_MS)))
    try {
      await Promise.race([request((line) => (step = line.replace(/\d+/g, 'N'))), deadline])
      latencies.push(performance.now() - started)
    } catch (err) {
      // When it failed tells a deadline's work (tens of seconds) from a refusal (at once); the
      // bench's own deadline says its time already.
      const message = (err as Error).message
      errors.push(message.startsWith('not finished after') ? message : `${message} (after ~${Math.round((performance.now() - started) / 10_000) * 10} s)`)
    } finally {
      clearTimeout(timer)
    }
  }),
)
process.stdout.write(JSON.stringify({latencies, errors}) + '\n')
process.exit(0)
