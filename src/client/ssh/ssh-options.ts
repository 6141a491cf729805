import {UsageError} from '../../lib/errors.js'

// `-o Key=Value` (or `-o "Key Value"`), OpenSSH's configuration options on the command line.
// A few change what tsh does; many only matter to OpenSSH's own machinery (known_hosts files,
// connection sharing, keepalives) and are accepted silently so that scripts written for `ssh` run
// unchanged; the rest are accepted with a warning that they have no effect here.

export interface SshOptionEffects {
  /** `ForwardAgent`: yes (the agent at $SSH_AUTH_SOCK, as OpenSSH), local (tsh's own key, Teleport's value) or no. */
  forwardAgent?: 'yes' | 'no' | 'local'
  requestTTY?: 'yes' | 'no' | 'force' | 'auto'
  port?: string
  user?: string
  escapeChar?: string
}

export interface ParsedSshOptions {
  effects: SshOptionEffects
  /** One line each, for stderr: options that have no effect in tsh. */
  warnings: string[]
}

/** Options that are meaningless with certificates through a proxy, or harmless to ignore. */
const IGNORED = new Set(
  [
    'AddKeysToAgent',
    'AddressFamily',
    'BatchMode',
    'CheckHostIP',
    'Compression',
    'ConnectionAttempts',
    'ConnectTimeout',
    'ControlMaster',
    'ControlPath',
    'ControlPersist',
    'ExitOnForwardFailure',
    'GlobalKnownHostsFile',
    'GSSAPIAuthentication',
    'HashKnownHosts',
    'IdentitiesOnly',
    'KbdInteractiveAuthentication',
    'LogLevel',
    'NumberOfPasswordPrompts',
    'PasswordAuthentication',
    'PreferredAuthentications',
    'PubkeyAuthentication',
    'SendEnv',
    'ServerAliveCountMax',
    'ServerAliveInterval',
    'StrictHostKeyChecking',
    'TCPKeepAlive',
    'UpdateHostKeys',
    'UserKnownHostsFile',
    'VerifyHostKeyDNS',
    'VisualHostKey',
  ].map((k) => k.toLowerCase()),
)

function forwardAgentValue(key: string, value: string): 'yes' | 'no' | 'local' {
  const v = value.toLowerCase()
  if (v === 'yes' || v === 'true') return 'yes'
  if (v === 'no' || v === 'false') return 'no'
  if (v === 'local') return 'local'
  throw new UsageError(`-o ${key}=${value}: expected yes, no or local`)
}

/** Splits `Key=Value`, `Key Value` or `Key = Value`. */
export function splitOption(text: string): {key: string; value: string} {
  const match = /^\s*([A-Za-z0-9]+)\s*(?:=\s*|\s+)(.*?)\s*$/.exec(text)
  if (!match || match[2] === '') throw new UsageError(`-o ${text}: expected Key=Value`, {hint: 'for example -o ForwardAgent=yes'})
  return {key: match[1]!, value: match[2]!}
}

export function parseSshOptions(texts: readonly string[]): ParsedSshOptions {
  const effects: SshOptionEffects = {}
  const warnings: string[] = []
  for (const text of texts) {
    const {key, value} = splitOption(text)
    const lower = key.toLowerCase()
    // OpenSSH: the first value given for an option wins.
    switch (lower) {
      case 'forwardagent':
        effects.forwardAgent ??= forwardAgentValue(key, value)
        break
      case 'requesttty': {
        const v = value.toLowerCase()
        if (v !== 'yes' && v !== 'no' && v !== 'force' && v !== 'auto') throw new UsageError(`-o ${key}=${value}: expected yes, no, force or auto`)
        effects.requestTTY ??= v
        break
      }
      case 'port':
        effects.port ??= value
        break
      case 'user':
        effects.user ??= value
        break
      case 'escapechar':
        effects.escapeChar ??= value
        break
      default:
        if (!IGNORED.has(lower)) warnings.push(`WARNING: option ${key} is not supported by tsh and was ignored`)
    }
  }
  return {effects, warnings}
}
