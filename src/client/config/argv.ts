import {tshInvocation} from '../tsh-invocation.js'
import {ALIAS_STACK_ENV} from './aliases.js'
import {existingTshConfigFiles} from './paths.js'

// The entrypoint's hook for tsh: expands an alias from the config files before oclif parses the
// command line. With no config file it costs two existsSync calls and nothing is imported.

export type ArgvHookResult = {argv: string[]} | {exitCode: number}

export async function expandTshArgv(argv: string[], commandIds: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<ArgvHookResult> {
  if (argv.length === 0 || argv[0]!.startsWith('-')) return {argv}
  const files = existingTshConfigFiles(env)
  if (files.length === 0) return {argv}
  const [{loadTshConfig}, {expandAliases}] = await Promise.all([import('./load.js'), import('./aliases.js')])
  const {aliases} = loadTshConfig(env)
  const inv = tshInvocation()
  const stack = env[ALIAS_STACK_ENV]?.split(',').filter(Boolean) ?? []
  const outcome = expandAliases(argv, {aliases, commandIds, tsh: [inv.script, ...inv.prefixArgs], stack, files})
  if (outcome.kind === 'argv') return {argv: outcome.argv}
  return {exitCode: await runProgram(outcome.file, outcome.args, {...env, ...outcome.env})}
}

/** Runs what an alias names with this terminal; its exit status is tsh's (128+n for a signal). */
async function runProgram(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [{spawn}, {constants}, {UserError}] = await Promise.all([import('node:child_process'), import('node:os'), import('../../lib/errors.js')])
  // Ctrl-C reaches the program from the terminal; tsh waits for it rather than dying first.
  const ignore = () => {}
  const forward = (signal: NodeJS.Signals) => child.kill(signal)
  const child = spawn(file, args, {stdio: 'inherit', env})
  process.on('SIGINT', ignore)
  process.on('SIGTERM', forward)
  process.on('SIGHUP', forward)
  try {
    return await new Promise((resolve, reject) => {
      child.once('error', (err) => reject(new UserError(`cannot run ${file}: ${err.message}`)))
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)))
    })
  } finally {
    process.off('SIGINT', ignore)
    process.off('SIGTERM', forward)
    process.off('SIGHUP', forward)
  }
}
