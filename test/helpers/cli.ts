import {spawnSync, type SpawnSyncOptions} from 'node:child_process'
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
