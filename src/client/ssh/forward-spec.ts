import {UsageError} from '../../lib/errors.js'

// Port forwarding specifications, as OpenSSH writes them:
//   -L [bind_address:]port:host:hostport     -R [bind_address:]port:host:hostport
//   -D [bind_address:]port
// IPv6 addresses go in brackets (`[::1]:8080:[fd00::1]:80`); an empty bind address or `*` means
// every interface.

export interface ForwardSpec {
  /** Where to listen: locally for -L/-D, on the node for -R. */
  bindHost: string
  bindPort: number
  /** Where to connect: from the node for -L, from here for -R. */
  destHost: string
  destPort: number
  /** As typed, for messages. */
  text: string
}

export interface DynamicForwardSpec {
  bindHost: string
  bindPort: number
  text: string
}

/** Local listeners default to loopback, as OpenSSH's (without GatewayPorts). */
export const DEFAULT_LOCAL_BIND = '127.0.0.1'
/** What OpenSSH sends for -R without a bind address: the server binds loopback only. */
export const DEFAULT_REMOTE_BIND = 'localhost'

/** Splits on ':' outside brackets; brackets are removed from bracketed fields. */
export function splitHostFields(text: string): string[] {
  const fields: string[] = []
  let current = ''
  let bracket = false
  for (const ch of text) {
    if (ch === '[' && current === '' && !bracket) bracket = true
    else if (ch === ']' && bracket) bracket = false
    else if (ch === ':' && !bracket) {
      fields.push(current)
      current = ''
    } else current += ch
  }
  if (bracket) throw new Error('unbalanced "["')
  fields.push(current)
  return fields
}

export function parsePort(text: string, what: string, options: {allowZero?: boolean} = {}): number {
  if (!/^\d{1,5}$/.test(text)) throw new UsageError(`${what}: "${text}" is not a port number`)
  const port = Number(text)
  if (port > 65535 || (port === 0 && !options.allowZero)) throw new UsageError(`${what}: port ${port} is out of range`)
  return port
}

function bindAddress(text: string | undefined, fallback: string): string {
  if (text === undefined) return fallback
  if (text === '' || text === '*') return '0.0.0.0'
  return text
}

/** `-L`/`-R` specification. `flag` is "-L" or "-R" (also picks the default bind address). */
export function parseForwardSpec(text: string, flag: '-L' | '-R'): ForwardSpec {
  let fields: string[]
  try {
    fields = splitHostFields(text)
  } catch (err) {
    throw new UsageError(`${flag} ${text}: ${(err as Error).message}`)
  }
  const usage = `${flag} ${text}: expected [bind_address:]port:host:hostport`
  if (fields.length !== 3 && fields.length !== 4) throw new UsageError(usage)
  const [bind, port, host, hostPort] = fields.length === 4 ? fields : [undefined, ...fields]
  if (!host) throw new UsageError(usage)
  return {
    bindHost: bindAddress(bind, flag === '-L' ? DEFAULT_LOCAL_BIND : DEFAULT_REMOTE_BIND),
    // -R 0:host:port asks the node to pick a port, as OpenSSH allows.
    bindPort: parsePort(port!, `${flag} ${text}`, {allowZero: flag === '-R'}),
    destHost: host,
    destPort: parsePort(hostPort!, `${flag} ${text}`),
    text,
  }
}

/** `-D [bind_address:]port`. */
export function parseDynamicSpec(text: string): DynamicForwardSpec {
  let fields: string[]
  try {
    fields = splitHostFields(text)
  } catch (err) {
    throw new UsageError(`-D ${text}: ${(err as Error).message}`)
  }
  if (fields.length !== 1 && fields.length !== 2) throw new UsageError(`-D ${text}: expected [bind_address:]port`)
  const [bind, port] = fields.length === 2 ? fields : [undefined, fields[0]]
  return {bindHost: bindAddress(bind, DEFAULT_LOCAL_BIND), bindPort: parsePort(port!, `-D ${text}`), text}
}
