import {UsageError} from '../../lib/errors.js'
import {getopt, OPENSSH_IGNORED_SPECS, OPENSSH_REFUSED, optionText, TSH_GLOBAL_OPTION_SPECS, tshGlobalArgs, type OptionSpec, type TshGlobalArgs} from '../ssh/getopt.js'
import {parsePort} from '../ssh/forward-spec.js'
import {localUserName, splitLoginHost} from '../ssh/args.js'
import {parseSshOptions} from '../ssh/ssh-options.js'

// The `tsh scp` command line, read like OpenSSH's scp: options first, then sources and the
// destination; `[login@]host:path` names a remote file (a colon before any slash), anything else
// is local (`./a:b` is a local file named "a:b").

export type Location = {kind: 'local'; path: string} | {kind: 'remote'; login?: string; host: string; path: string}

export interface ScpArgs extends TshGlobalArgs {
  sources: Location[]
  target: Location
  /** 'upload': local sources, remote target; 'download': remote sources, local target. */
  direction: 'upload' | 'download'
  /** The node (all remote operands name the same one). */
  host: string
  login: string
  port?: number
  recursive: boolean
  preserve: boolean
  quiet: boolean
  warnings: string[]
}

export const SCP_OPTION_SPECS: readonly OptionSpec[] = [
  {name: 'recursive', short: 'r', long: ['recursive']},
  {name: 'port', short: 'P', long: ['port'], value: true},
  {name: 'preserve', short: 'p', long: ['preserve']},
  {name: 'quiet', short: 'q', long: ['quiet']},
  {name: 'login', long: ['login'], value: true},
  {name: 'option', short: 'o', value: true, multiple: true},
  ...TSH_GLOBAL_OPTION_SPECS,
  // OpenSSH scp switches that change nothing here: we always speak SFTP (-s), never need a
  // batch mode (-B), compression (-C), an address family (-4/-6), the legacy protocol (-O) or
  // strict filename checking (-T).
  {name: 'sftp', short: 's'},
  {name: 'legacy', short: 'O'},
  {name: 'batch', short: 'B'},
  {name: 'no-check', short: 'T'},
  ...OPENSSH_IGNORED_SPECS,
]

const UNSUPPORTED: Record<string, string> = {
  ...OPENSSH_REFUSED,
  '3': 'copies between two remote hosts are not supported',
  S: 'tsh is the transport',
  l: 'bandwidth limits are not supported',
  A: 'agent forwarding is not used by scp',
  D: 'an SFTP server path is not supported',
  X: 'SFTP protocol options are not supported',
}

/** OpenSSH's rule: a colon before any slash (and not at the start) makes it remote. */
export function parseLocation(text: string): Location {
  if (text.startsWith(':') || text === '') return {kind: 'local', path: text}
  let i = 0
  // A bracketed IPv6 host: [::1]:path, or login@[::1]:path.
  const at = text.indexOf('@[')
  const bracketStart = text.startsWith('[') ? 0 : at !== -1 && !text.slice(0, at).includes('/') ? at + 1 : -1
  if (bracketStart !== -1) {
    const close = text.indexOf(']', bracketStart)
    if (close !== -1 && text[close + 1] === ':') i = close + 1
  }
  for (; i < text.length; i++) {
    const ch = text[i]
    if (ch === '/') return {kind: 'local', path: text}
    if (ch === ':') {
      const hostPart = text.slice(0, i)
      const path = text.slice(i + 1)
      const {login, host} = splitLoginHost(hostPart)
      const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
      if (!bare) throw new UsageError(`"${text}": the host is empty`)
      return login === undefined ? {kind: 'remote', host: bare, path} : {kind: 'remote', login, host: bare, path}
    }
  }
  return {kind: 'local', path: text}
}

export function parseScpArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ScpArgs {
  const options = getopt(argv, SCP_OPTION_SPECS, 'tsh scp', undefined, UNSUPPORTED)
  const operands = options.operands
  if (operands.length < 2) throw new UsageError('tsh scp: expected a source and a destination', {hint: 'tsh scp [-r] [-P port] [-p] [-q] src... [login@]host:dst (or the reverse)'})
  const locations = operands.map(parseLocation)
  const target = locations.pop()!
  const sources = locations
  const remoteSources = sources.filter((s) => s.kind === 'remote')
  let direction: 'upload' | 'download'
  if (target.kind === 'remote') {
    if (remoteSources.length) throw new UsageError('tsh scp: copying from one remote host to another is not supported', {hint: 'copy to this machine first'})
    direction = 'upload'
  } else {
    if (remoteSources.length === 0) throw new UsageError('tsh scp: neither side is remote', {hint: 'write the remote side as [login@]host:path'})
    if (remoteSources.length !== sources.length) throw new UsageError('tsh scp: with a local destination, every source must be remote')
    direction = 'download'
  }
  const remotes = [target, ...sources].filter((l): l is Extract<Location, {kind: 'remote'}> => l.kind === 'remote')
  const hosts = new Set(remotes.map((r) => `${r.login ?? ''}@${r.host}`))
  if (hosts.size > 1) throw new UsageError('tsh scp: all remote paths must be on the same host, with the same login')
  const {effects, warnings} = parseSshOptions(options.lists.get('option') ?? [])
  const str = (name: string) => optionText(options, name)
  const first = remotes[0]!
  const login = first.login ?? str('login') ?? effects.user ?? (env.TELEPORT_LOGIN || undefined) ?? localUserName(env)
  const args: ScpArgs = {
    sources,
    target,
    direction,
    host: first.host,
    login,
    recursive: options.values.has('recursive'),
    preserve: options.values.has('preserve'),
    quiet: options.values.has('quiet'),
    ...tshGlobalArgs(options, env),
    warnings,
  }
  const port = str('port') ?? effects.port
  if (port !== undefined) args.port = parsePort(port, '-P')
  return args
}
