import {spawn, spawnSync, type SpawnSyncOptions} from 'node:child_process'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

// Run the real entrypoint (bin/) as a separate process, as a user would.
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export function runBin(executable: string, args: string[], options: SpawnSyncOptions = {}): CliResult {
  const result = spawnSync(executable, args, {encoding: 'utf8', timeout: 60_000, ...options, env: {...process.env, NO_COLOR: '1', ...options.env}})
  return {code: result.status, stdout: String(result.stdout), stderr: String(result.stderr)}
}

export function runTool(tool: 'tsh' | 'tctl' | 'teleport', args: string[], options: SpawnSyncOptions = {}): CliResult {
  return runBin(path.join(repoRoot, 'bin', tool), args, options)
}

/**
 * Tests that run a program as "nobody" need root to switch, a checkout nobody can read (CI may
 * clone into a 0700 directory) and a temp dir nobody can enter (some machines make /tmp 0700);
 * they skip otherwise, saying why.
 */
export function nobodySkipReason(): string | false {
  if (process.getuid?.() !== 0) return 'needs root to run as nobody'
  const asNobody = (...args: string[]) => spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'test', ...args]).status === 0
  if (!asNobody('-r', path.join(repoRoot, 'bin', 'run.js'))) return 'the checkout is not readable by nobody'
  return asNobody('-x', tmpdir()) ? false : `the temp dir ${tmpdir()} is not open to nobody`
}

/** tctl against a config file that must succeed: its stdout, or an assertion naming stderr. */
export function tctlOk(config: string, ...args: string[]): string {
  const r = runTool('tctl', ['-c', config, ...args])
  if (r.code !== 0) throw new Error(`tctl ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r.stdout
}

/** How long run() lets a program take before killing it. */
const RUN_TIMEOUT_MS = 60_000

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stdoutBytes: Buffer
  stderr: string
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv
  input?: string | Buffer
  cwd?: string
  timeoutMs?: number
}

/** Runs a program to its end without blocking this process's event loop. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: {...process.env, NO_COLOR: '1', ...options.env},
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.cwd ? {cwd: options.cwd} : {}),
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout!.on('data', (d: Buffer) => out.push(d))
    child.stderr!.on('data', (d: Buffer) => err.push(d))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? RUN_TIMEOUT_MS)
    child.once('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      const stdoutBytes = Buffer.concat(out)
      resolve({code, signal, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr: Buffer.concat(err).toString('utf8')})
    })
    child.stdin!.on('error', () => {})
    if (options.input !== undefined) child.stdin!.end(options.input)
    else child.stdin!.end()
  })
}
