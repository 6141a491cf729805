import {UsageError} from '../../lib/errors.js'

// OpenSSH-style option parsing for commands whose tail belongs to someone else (`tsh ssh host
// ls -la`, `tsh scp -rp a host:b`): options end at the first operand, short options cluster
// (`-tt`, `-NL 8080:h:80`, `-p2222`), long options take `--name=value` or `--name value`.
// oclif parses flags anywhere on the line, which would steal the remote command's `-l`.

export interface OptionSpec {
  /** Key in the result. */
  name: string
  /** Single-letter spelling, without the dash. */
  short?: string
  /** Long spellings, without the dashes. */
  long?: string[]
  /** Takes a value (`-p 22`, `-p22`, `--port=22`). Otherwise a boolean switch. */
  value?: boolean
  /** The option may repeat: values are collected, switches counted. */
  multiple?: boolean
}

export interface ParsedOptions {
  /** Last value of each valued option, or `true` for a switch. */
  values: Map<string, string | true>
  /** Every value of a repeatable valued option, in order. */
  lists: Map<string, string[]>
  /** How many times each switch was given (`-tt` → 2). */
  counts: Map<string, number>
  /** Everything from the first operand on (a `--` before it is consumed). */
  operands: string[]
  /** Option parsing was ended by `--` (rather than by an operand or the end of the line). */
  terminated: boolean
}

/**
 * Parses options up to the first operand. Pass `into` to continue a previous parse (OpenSSH's ssh
 * reads options again after the host: `ssh host -p 2222 ls -l`).
 */
export function getopt(
  argv: readonly string[],
  specs: readonly OptionSpec[],
  command: string,
  into?: ParsedOptions,
  /** Letters known to be refused, with why (OpenSSH options tsh does not offer). */
  unsupported: Record<string, string> = {},
): ParsedOptions {
  const byShort = new Map<string, OptionSpec>()
  const byLong = new Map<string, OptionSpec>()
  for (const spec of specs) {
    if (spec.short) byShort.set(spec.short, spec)
    for (const long of spec.long ?? []) byLong.set(long, spec)
  }
  const result: ParsedOptions = into ?? {values: new Map(), lists: new Map(), counts: new Map(), operands: [], terminated: false}
  result.terminated = false
  const record = (spec: OptionSpec, value: string | true) => {
    result.values.set(spec.name, value)
    result.counts.set(spec.name, (result.counts.get(spec.name) ?? 0) + 1)
    if (typeof value === 'string') result.lists.set(spec.name, [...(result.lists.get(spec.name) ?? []), value])
  }

  let i = 0
  for (; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      i++
      result.terminated = true
      break
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=')
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq)
      const spec = byLong.get(name)
      if (!spec) throw new UsageError(`${command}: unknown flag --${name}`, {hint: `see "${command} --help"`})
      if (!spec.value) {
        if (eq !== -1) throw new UsageError(`${command}: --${name} takes no value`)
        record(spec, true)
        continue
      }
      if (eq !== -1) record(spec, arg.slice(eq + 1))
      else if (i + 1 < argv.length) record(spec, argv[++i]!)
      else throw new UsageError(`${command}: --${name} needs a value`)
      continue
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let k = 1; k < arg.length; k++) {
        const letter = arg[k]!
        const spec = byShort.get(letter)
        if (!spec && Object.hasOwn(unsupported, letter)) throw new UsageError(`${command}: -${letter} is not supported: ${unsupported[letter]}`)
        if (!spec) throw new UsageError(`${command}: unknown flag -${letter}`, {hint: `see "${command} --help"`})
        if (!spec.value) {
          record(spec, true)
          continue
        }
        const rest = arg.slice(k + 1)
        if (rest) record(spec, rest)
        else if (i + 1 < argv.length) record(spec, argv[++i]!)
        else throw new UsageError(`${command}: -${letter} needs a value`)
        break
      }
      continue
    }
    break
  }
  result.operands = argv.slice(i)
  return result
}

/** tsh's own global options, as the OpenSSH-style parsers of `tsh ssh` and `tsh scp` take them. */
export const TSH_GLOBAL_OPTION_SPECS: readonly OptionSpec[] = [
  {name: 'cluster', short: 'c', long: ['cluster'], value: true},
  {name: 'proxy', long: ['proxy'], value: true},
  {name: 'user', long: ['user'], value: true},
  {name: 'ttl', long: ['ttl'], value: true},
  {name: 'add-keys-to-agent', long: ['add-keys-to-agent'], value: true},
  {name: 'insecure', long: ['insecure']},
  {name: 'debug', short: 'd', long: ['debug']},
  {name: 'verbose', short: 'v'},
]

/** OpenSSH switches `tsh ssh` and `tsh scp` accept for scripts written for OpenSSH; they change nothing here. */
export const OPENSSH_IGNORED_SPECS: readonly OptionSpec[] = [
  {name: 'ipv4', short: '4'},
  {name: 'ipv6', short: '6'},
  {name: 'compress', short: 'C'},
]

/** OpenSSH letters neither `tsh ssh` nor `tsh scp` accepts, with why. */
export const OPENSSH_REFUSED: Readonly<Record<string, string>> = {
  i: 'tsh authenticates with your Teleport certificate (log in with "tsh login")',
  F: 'tsh does not read ssh_config files',
  J: 'tsh always connects through the Teleport proxy',
}

/** What tsh's global options say; TELEPORT_CLUSTER, TELEPORT_PROXY and TELEPORT_USER stand in for absent ones. */
export interface TshGlobalArgs {
  cluster?: string
  proxy?: string
  user?: string
  insecure: boolean
  debug: boolean
}

/** A valued option's last value. */
export function optionText(options: ParsedOptions, name: string): string | undefined {
  const value = options.values.get(name)
  return typeof value === 'string' ? value : undefined
}

export function tshGlobalArgs(options: ParsedOptions, env: NodeJS.ProcessEnv): TshGlobalArgs {
  const args: TshGlobalArgs = {insecure: options.values.has('insecure'), debug: options.values.has('debug') || options.values.has('verbose')}
  const cluster = optionText(options, 'cluster') ?? (env.TELEPORT_CLUSTER || undefined)
  if (cluster) args.cluster = cluster
  const proxy = optionText(options, 'proxy') ?? (env.TELEPORT_PROXY || undefined)
  if (proxy) args.proxy = proxy
  const user = optionText(options, 'user') ?? (env.TELEPORT_USER || undefined)
  if (user) args.user = user
  return args
}
