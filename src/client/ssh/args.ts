import {userInfo} from 'node:os'
import {UsageError} from '../../lib/errors.js'
import {parseDynamicSpec, parseForwardSpec, parsePort, type DynamicForwardSpec, type ForwardSpec} from './forward-spec.js'
import {getopt, OPENSSH_IGNORED_SPECS, OPENSSH_REFUSED, optionText, TSH_GLOBAL_OPTION_SPECS, tshGlobalArgs, type OptionSpec, type ParsedOptions, type TshGlobalArgs} from './getopt.js'
import {parseSshOptions} from './ssh-options.js'

// The `tsh ssh` command line, parsed the way OpenSSH's ssh parses its own: options, the
// destination, more options, then the remote command, which is never parsed (`tsh ssh node ls -l`
// runs `ls -l`; `-l` is not tsh's --login there). The oclif command declares the same flags for
// help, man pages and completion; this is what actually reads them.

export type TtyMode = 'auto' | 'yes' | 'force' | 'no'

export interface SshArgs extends TshGlobalArgs {
  /** The login to use on the node (resolved: user@host, -l/--login, TELEPORT_LOGIN, OS user). */
  login: string
  /** Host name, node ID, address, or a label selector (`env=prod,team=db`). */
  host: string
  /** -p: undefined lets the proxy use the node's registered port. */
  port?: number
  command: string[]
  localForwards: ForwardSpec[]
  remoteForwards: ForwardSpec[]
  dynamicForwards: DynamicForwardSpec[]
  /** -N: no remote command or shell, forwarding only. */
  noCommand: boolean
  /** -n: do not read stdin. */
  noStdin: boolean
  /**
   * Which agent the node gets: `local`, tsh's own key and certificate (-A, -o ForwardAgent=local:
   * what recording proxy mode needs, and nothing else of the user's); `system`, the agent at
   * $SSH_AUTH_SOCK with all its keys (-o ForwardAgent=yes, as OpenSSH's); or none.
   */
  forwardAgent: 'no' | 'local' | 'system'
  tty: TtyMode
  /** The escape character for `~.`/`~?` (default `~`); undefined with `-e none`. */
  escapeChar?: string
  /** Lines for stderr (unsupported -o options and such). */
  warnings: string[]
}

/** `-V` (OpenSSH's "print the version"): asked for before any host. */
export function versionRequested(argv: readonly string[]): boolean {
  try {
    return getopt(argv, SSH_OPTION_SPECS, 'tsh ssh', undefined, UNSUPPORTED).values.has('version')
  } catch {
    return false
  }
}

/** The options tsh ssh understands, with OpenSSH's letters. */
export const SSH_OPTION_SPECS: readonly OptionSpec[] = [
  {name: 'port', short: 'p', long: ['port'], value: true},
  {name: 'login', short: 'l', long: ['login'], value: true},
  {name: 'local', short: 'L', long: ['forward'], value: true, multiple: true},
  {name: 'remote', short: 'R', long: ['remote-forward'], value: true, multiple: true},
  {name: 'dynamic', short: 'D', long: ['dynamic-forward'], value: true, multiple: true},
  {name: 'no-command', short: 'N', long: ['no-remote-exec']},
  {name: 'no-stdin', short: 'n'},
  {name: 'forward-agent', short: 'A', long: ['forward-agent']},
  {name: 'no-forward-agent', short: 'a'},
  {name: 'tty', short: 't', long: ['tty']},
  {name: 'no-tty', short: 'T'},
  {name: 'option', short: 'o', long: ['option'], value: true, multiple: true},
  {name: 'escape', short: 'e', value: true},
  ...TSH_GLOBAL_OPTION_SPECS,
  {name: 'version', short: 'V'},
  // Accepted for compatibility with scripts written for OpenSSH; they change nothing here.
  {name: 'quiet', short: 'q'},
  {name: 'no-x11', short: 'x'},
  ...OPENSSH_IGNORED_SPECS,
]

/** OpenSSH letters that tsh ssh refuses, with why. */
const UNSUPPORTED: Record<string, string> = {
  ...OPENSSH_REFUSED,
  W: 'use "tsh proxy ssh" for stdio forwarding',
  X: 'X11 forwarding is not supported',
  Y: 'X11 forwarding is not supported',
  f: 'going to the background is not supported',
  M: 'connection sharing is not supported',
  S: 'connection sharing is not supported',
  O: 'connection sharing is not supported',
}

/** Splits `login@host` on the LAST `@` (logins may contain one: `alice@corp@node`). */
export function splitLoginHost(text: string): {login?: string; host: string} {
  const at = text.lastIndexOf('@')
  if (at === -1) return {host: text}
  const login = text.slice(0, at)
  const host = text.slice(at + 1)
  if (!login) throw new UsageError(`"${text}": the login before "@" is empty`)
  return {login, host}
}

/** The OS user running tsh: the default login, as with OpenSSH and Teleport. */
export function localUserName(env: NodeJS.ProcessEnv = process.env): string {
  try {
    return userInfo().username
  } catch {
    return env.USER ?? env.LOGNAME ?? 'root'
  }
}

function ttyMode(options: ParsedOptions, requested: 'yes' | 'no' | 'force' | 'auto' | undefined): TtyMode {
  if (options.values.has('no-tty')) return 'no'
  const t = options.counts.get('tty') ?? 0
  if (t >= 2) return 'force'
  if (t === 1) return 'yes'
  return requested ?? 'auto'
}

export function parseSshArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): SshArgs {
  // OpenSSH reads options, the destination, then options again up to the command (unless a
  // `--` ended them before the destination).
  const options = getopt(argv, SSH_OPTION_SPECS, 'tsh ssh', undefined, UNSUPPORTED)
  const [destination, ...afterHost] = options.operands
  if (destination === undefined) throw new UsageError('tsh ssh: missing the host to connect to', {hint: 'tsh ssh [login@]host [command...]'})
  if (options.terminated) options.operands = afterHost
  else getopt(afterHost, SSH_OPTION_SPECS, 'tsh ssh', options, UNSUPPORTED)
  const command = options.operands
  const {effects, warnings} = parseSshOptions(options.lists.get('option') ?? [])

  const target = splitLoginHost(destination)
  if (!target.host) throw new UsageError(`tsh ssh: "${destination}": the host is empty`)
  const str = (name: string) => optionText(options, name)
  const login = target.login ?? str('login') ?? effects.user ?? (env.TELEPORT_LOGIN || undefined) ?? localUserName(env)
  const portText = str('port') ?? effects.port
  const escape = str('escape') ?? effects.escapeChar

  const args: SshArgs = {
    login,
    host: target.host,
    command,
    localForwards: (options.lists.get('local') ?? []).map((s) => parseForwardSpec(s, '-L')),
    remoteForwards: (options.lists.get('remote') ?? []).map((s) => parseForwardSpec(s, '-R')),
    dynamicForwards: (options.lists.get('dynamic') ?? []).map(parseDynamicSpec),
    noCommand: options.values.has('no-command'),
    noStdin: options.values.has('no-stdin'),
    forwardAgent: agentMode(options.values.has('no-forward-agent'), options.values.has('forward-agent'), effects.forwardAgent),
    tty: ttyMode(options, effects.requestTTY),
    ...tshGlobalArgs(options, env),
    warnings,
  }
  if (portText !== undefined) args.port = parsePort(portText, '-p')
  const escapeChar = parseEscapeChar(escape)
  if (escapeChar !== undefined) args.escapeChar = escapeChar
  if (args.noCommand && command.length > 0) throw new UsageError('tsh ssh: -N runs no command, but a command was given')
  return args
}

/** `-e`: a single character, `^X` for a control character, or `none`. Default `~`. */
export function parseEscapeChar(text: string | undefined): string | undefined {
  if (text === undefined) return '~'
  if (text === 'none') return undefined
  if (text.length === 1 && text.charCodeAt(0) < 128) return text
  if (/^\^[@-_a-z]$/.test(text)) return String.fromCharCode(text[1]!.toUpperCase().charCodeAt(0) & 0x1f)
  throw new UsageError(`-e ${text}: expected a single character, ^X, or none`)
}

/** Whether to ask the node for a pseudo-terminal, as OpenSSH decides. */
export function wantPty(mode: TtyMode, hasCommand: boolean, stdinIsTTY: boolean): boolean {
  switch (mode) {
    case 'no':
      return false
    case 'force':
      return true
    case 'yes':
      return stdinIsTTY
    case 'auto':
      return !hasCommand && stdinIsTTY
  }
}

/** -a beats everything; an explicit -o ForwardAgent beats -A; -A alone forwards tsh's own key. */
function agentMode(noForward: boolean, forward: boolean, option: 'yes' | 'no' | 'local' | undefined): SshArgs['forwardAgent'] {
  if (noForward) return 'no'
  if (option === 'yes') return 'system'
  if (option === 'local') return 'local'
  if (option === 'no') return 'no'
  return forward ? 'local' : 'no'
}
