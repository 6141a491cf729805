// Parsers for the value syntaxes the config file and `teleport start` flags share: addresses,
// CA pins, static tokens, roles, labels, booleans, and "a secret or a file holding it".
// Each throws BadParameterError describing the problem; the caller puts the key path or the
// flag name in front.
import {existsSync, readFileSync, statSync} from 'node:fs'
import {isIP} from 'node:net'
import {isAbsolute} from 'node:path'
import {BadParameterError} from '../lib/errors.js'
import {splitHostPort, type HostPort} from '../lib/net/ip.js'
import {parseDuration} from '../services/duration.js'
import {JOIN_ROLES, type JoinRole} from '../services/models/join-token.js'
import {checkLabel, checkLabelKey} from '../services/models/node.js'

export type {HostPort} from '../lib/net/ip.js'
export {formatHostPort} from '../lib/net/ip.js'

export interface HostPortOptions {
  /** Used when the text has no port (Teleport accepts `listen_addr: 0.0.0.0`). */
  defaultPort?: number
  /** Listen addresses may ask for port 0 (any free port), which tests rely on. */
  allowPortZero?: boolean
}

const HOSTNAME = /^[A-Za-z0-9_]([A-Za-z0-9._-]*[A-Za-z0-9_])?$/

/** `host:port`, `[v6]:port`, or a bare host when a default port is given. */
export function parseHostPort(text: string, options: HostPortOptions = {}): HostPort {
  const bad = (why: string) => new BadParameterError(`invalid address ${JSON.stringify(text)}: ${why}`)
  const trimmed = text.trim()
  if (trimmed === '') throw bad('expected host:port')
  if (trimmed.includes('://')) throw bad('expected host:port, not a URL')
  let parts: {host: string; port?: string}
  try {
    parts = splitHostPort(trimmed)
  } catch (err) {
    throw bad((err as Error).message)
  }
  const {host, port: portText} = parts
  if (trimmed.startsWith('[')) {
    if (isIP(host) !== 6) throw bad(`${JSON.stringify(host)} is not an IPv6 address`)
  } else if (isIP(trimmed) !== 6) {
    if (host === '') throw bad('missing host')
    if (!HOSTNAME.test(host)) throw bad(`${JSON.stringify(host)} is not a valid host name or IP address`)
  }
  if (portText === undefined) {
    if (options.defaultPort === undefined) throw bad('missing port')
    return {host, port: options.defaultPort}
  }
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN
  const lowest = options.allowPortZero ? 0 : 1
  if (!(port >= lowest && port <= 65535)) throw bad(`port must be a number from ${lowest} to 65535`)
  return {host, port}
}

const CA_PIN = /^sha256:[0-9a-f]{64}$/i

/** `sha256:<64 hex digits>`, the hash of the cluster CA's public key that `tctl status` prints. */
export function parseCaPin(text: string): string {
  const trimmed = text.trim()
  if (!CA_PIN.test(trimmed)) {
    throw new BadParameterError(`invalid CA pin ${JSON.stringify(text)}: expected sha256:<64 hex digits>, as "tctl status" prints it`)
  }
  return trimmed.toLowerCase()
}

/** Token roles are the join token model's. */
export {JOIN_ROLES as TOKEN_ROLES, type JoinRole as TokenRole}

export interface StaticToken {
  roles: JoinRole[]
  token: string
}

/** A static token entry, `role[,role]:token`: split on the first colon, roles any case. */
export function parseStaticToken(text: string): StaticToken {
  const colon = text.indexOf(':')
  const shape = `expected "role[,role]:token", e.g. "node:abc123"`
  if (colon < 0) throw new BadParameterError(`invalid token entry ${JSON.stringify(text)}: ${shape}`)
  const roleList = text.slice(0, colon).split(',').map((r) => r.trim().toLowerCase())
  const token = text.slice(colon + 1).trim()
  const roles: JoinRole[] = []
  for (const role of roleList) {
    if (role === '') throw new BadParameterError(`invalid token entry ${JSON.stringify(text)}: empty role; ${shape}`)
    if (!(JOIN_ROLES as readonly string[]).includes(role)) {
      throw new BadParameterError(`invalid token entry ${JSON.stringify(text)}: unknown role "${role}"; expected ${JOIN_ROLES.join(', ')}`)
    }
    if (!roles.includes(role as JoinRole)) roles.push(role as JoinRole)
  }
  if (token === '') throw new BadParameterError(`invalid token entry ${JSON.stringify(text)}: empty token; ${shape}`)
  return {roles, token}
}

export const SERVICE_ROLES = ['auth', 'proxy', 'node'] as const
export type ServiceRole = (typeof SERVICE_ROLES)[number]

/** `auth,proxy,node` (any order, any case, repeats ignored); returned in that canonical order. */
export function parseRoles(text: string): ServiceRole[] {
  const words = text.split(',').map((w) => w.trim().toLowerCase()).filter((w) => w !== '')
  if (words.length === 0) throw new BadParameterError(`no roles given; expected one or more of ${SERVICE_ROLES.join(', ')}`)
  for (const word of words) {
    if (!(SERVICE_ROLES as readonly string[]).includes(word)) {
      throw new BadParameterError(`unknown role ${JSON.stringify(word)}; expected ${SERVICE_ROLES.join(', ')}`)
    }
  }
  return SERVICE_ROLES.filter((role) => words.includes(role))
}

/** Teleport's label key alphabet. */
// The label rules are the node model's (services/nodes.ts): auth refuses what they refuse.
export {checkLabelKey}

/** A label whose value is the output of a command, re-run every period. */
export interface CommandLabel {
  name: string
  command: string[]
  periodMs: number
}

/** Command labels re-run no more often than this: a zero period would spin. */
export const MIN_COMMAND_PERIOD_MS = 1000

export function parseCommandPeriod(text: string): number {
  const ms = parseDuration(text)
  if (ms < MIN_COMMAND_PERIOD_MS) throw new BadParameterError(`invalid period ${JSON.stringify(text)}: must be at least 1s`)
  return ms
}

/** auth_service.web_idle_timeout: at least a minute, or a browser would be signed out between keystrokes. */
export const MIN_WEB_IDLE_TIMEOUT_MS = 60_000

export function parseWebIdleTimeout(text: string): number {
  const ms = parseDuration(text)
  if (ms < MIN_WEB_IDLE_TIMEOUT_MS) throw new BadParameterError(`invalid idle timeout ${JSON.stringify(text)}: must be at least 1m`)
  return ms
}

/** connection_limits.login_grace_time: at least a second, or no client could log in. */
export function parseLoginGraceTime(text: string): number {
  const ms = parseDuration(text)
  if (ms < 1000) throw new BadParameterError(`invalid login grace time ${JSON.stringify(text)}: must be at least 1s`)
  return ms
}

/** A whole number of connections, at least `min`. */
export function parseConnectionCount(text: string, min: number): number {
  const trimmed = text.trim()
  const count = /^\d{1,9}$/.test(trimmed) ? Number(trimmed) : NaN
  if (!(count >= min)) throw new BadParameterError(`invalid count ${JSON.stringify(text)}: expected a whole number, at least ${min}`)
  return count
}

export interface LabelSpec {
  labels: Record<string, string>
  commands: CommandLabel[]
}

/**
 * `--labels=env=staging,team=db`, and Teleport's command labels `arch=[1h:uname -p]`.
 * Commas inside brackets belong to the command.
 */
export function parseLabelSpec(text: string): LabelSpec {
  const out: LabelSpec = {labels: {}, commands: []}
  for (const entry of splitOutsideBrackets(text)) {
    if (entry.trim() === '') continue
    const eq = entry.indexOf('=')
    if (eq < 0) throw new BadParameterError(`invalid label ${JSON.stringify(entry)}: expected key=value`)
    const key = entry.slice(0, eq).trim()
    const value = entry.slice(eq + 1).trim()
    if (value.startsWith('[')) {
      checkLabelKey(key)
      out.commands.push(parseCommandLabel(key, value))
      delete out.labels[key]
    } else {
      checkLabel(key, value)
      out.labels[key] = value
      out.commands = out.commands.filter((c) => c.name !== key)
    }
  }
  return out
}

function parseCommandLabel(name: string, value: string): CommandLabel {
  const shape = `expected ${name}=[period:command], e.g. arch=[1h:uname -p]`
  if (!value.endsWith(']')) throw new BadParameterError(`invalid command label ${JSON.stringify(`${name}=${value}`)}: ${shape}`)
  const inner = value.slice(1, -1)
  const colon = inner.indexOf(':')
  const command = colon < 0 ? [] : inner.slice(colon + 1).trim().split(/\s+/).filter((w) => w !== '')
  if (colon < 0 || command.length === 0) {
    throw new BadParameterError(`invalid command label ${JSON.stringify(`${name}=${value}`)}: ${shape}`)
  }
  return {name, command, periodMs: parseCommandPeriod(inner.slice(0, colon).trim())}
}

function splitOutsideBrackets(text: string): string[] {
  const parts: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '[') depth++
    else if (text[i] === ']') depth = Math.max(0, depth - 1)
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i))
      start = i + 1
    }
  }
  parts.push(text.slice(start))
  return parts
}

const TRUE_WORDS = ['yes', 'yeah', 'y', 'true', '1', 'on']
const FALSE_WORDS = ['no', 'nope', 'n', 'false', '0', 'off']

/** Teleport's booleans: `enabled: yes` as well as `enabled: true` (what `teleport configure` writes). */
export function parseBoolWord(text: string): boolean {
  const word = text.trim().toLowerCase()
  if (TRUE_WORDS.includes(word)) return true
  if (FALSE_WORDS.includes(word)) return false
  throw new BadParameterError(`invalid boolean ${JSON.stringify(text)}; expected yes/no or true/false`)
}

/**
 * A secret given inline or as the absolute path of a file holding it (Teleport's rule for
 * `auth_token` and `--token`): an existing file is read and trimmed; anything else is the value.
 */
export function readValueOrFile(value: string): string {
  if (!isAbsolute(value) || !existsSync(value) || !statSync(value).isFile()) return value
  let content: string
  try {
    content = readFileSync(value, 'utf8').trim()
  } catch (err) {
    throw new BadParameterError(`cannot read ${value}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {cause: err})
  }
  if (content === '') throw new BadParameterError(`${value} is empty; expected it to hold a token`)
  return content
}
