// Timing whole commands for the benchmarks: wall time of a shell command, and medians over
// BENCH_RUNS runs (absolute times mean little on a shared machine; compare within one run).
import {spawn} from 'node:child_process'
import {performance} from 'node:perf_hooks'

export const RUNS = Number(process.env.BENCH_RUNS ?? 10)

export function timeShell(command: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn('bash', ['-c', command], {stdio: ['ignore', 'ignore', 'pipe'], env: {...process.env, ...env}})
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${command} exited ${code}: ${stderr}`))))
  })
}

export function middle(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

export async function median(command: string, env: NodeJS.ProcessEnv, runs = RUNS): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < runs; i++) times.push(await timeShell(command, env))
  return middle(times)
}

/** The value at percentile p of ascending values (NaN when there are none). */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

/** The median of each command, the commands taking turns within each round. */
export async function mediansInTurn(commands: Record<string, string>, env: NodeJS.ProcessEnv, runs = RUNS): Promise<Record<string, number>> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((name) => [name, []]))
  for (let i = 0; i < runs; i++) {
    for (const [name, command] of Object.entries(commands)) times[name]!.push(await timeShell(command, env))
  }
  return Object.fromEntries(Object.entries(times).map(([name, t]) => [name, middle(t)]))
}

/** Peak resident memory (MiB) and time to the first byte of stdout (ms) of a command, by GNU time. */
export function peakAndFirstByte(command: string, env: NodeJS.ProcessEnv): Promise<{peakMiB: number; firstByteMs: number; totalMs: number}> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn('/usr/bin/time', ['-f', 'peak-kib=%M', 'bash', '-c', command], {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, ...env}})
    let firstByteMs: number | undefined
    let stderr = ''
    child.stdout.on('data', () => (firstByteMs ??= performance.now() - started))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('exit', (code) => {
      const peak = /peak-kib=(\d+)/.exec(stderr)
      if (code !== 0 || !peak) return reject(new Error(`${command} exited ${code}: ${stderr}`))
      resolve({peakMiB: Number(peak[1]) / 1024, firstByteMs: firstByteMs ?? NaN, totalMs: performance.now() - started})
    })
  })
}
