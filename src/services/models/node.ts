// The node model: the presence record a node writes, its labels, and what a node may call itself
// and label itself with. NodeService (../nodes.ts) stores the records.
import {isIP} from 'node:net'
import {BadParameterError} from '../../lib/errors.js'
import {joinHostPort, parseEndpoint, splitHostPort} from '../../lib/net/ip.js'
import {hasControlChars} from '../../lib/safe-text.js'
import {assertValidName, isPlainObject, type Resource} from './resource.js'

export interface CommandLabel {
  command: string[]
  /** Go duration string, e.g. "1h". */
  period?: string
  /** The command's trimmed output: the label's value. */
  result: string
}

export interface NodeRecord {
  /** The host UUID. */
  name: string
  hostname: string
  /** host:port the proxy dials; empty for tunnel-only nodes. */
  addr: string
  labels: Record<string, string>
  cmdLabels: Record<string, CommandLabel>
  version: string
  /** Reached through a reverse tunnel. */
  tunnel?: boolean
  /**
   * `openssh`: a plain OpenSSH sshd an admin registered (`tctl create`); it never heartbeats and
   * does not read our preamble. Absent: one of our nodes, announcing itself.
   */
  subKind?: typeof OPENSSH_SUB_KIND
}

/** Teleport's sub_kind for registered OpenSSH servers. */
export const OPENSSH_SUB_KIND = 'openssh'

export interface ServerNode extends NodeRecord {
  /** When the record vanishes unless renewed; absent for registered OpenSSH nodes (they stay until removed). */
  expires?: Date
}

/**
 * Static labels merged with command-label results (a command label wins on a clash): what RBAC
 * matches. Without command labels it is the static labels object itself, not a copy: `tsh ls` and
 * auth's listing call this for every one of thousands of nodes.
 */
export function nodeLabels(node: Pick<NodeRecord, 'labels' | 'cmdLabels'>): Readonly<Record<string, string>> {
  const labels = node.labels ?? {}
  const cmdLabels = node.cmdLabels
  if (!cmdLabels) return labels
  let out: Record<string, string> | undefined
  for (const key in cmdLabels) {
    if (!Object.hasOwn(cmdLabels, key)) continue
    out ??= {...labels}
    out[key] = cmdLabels[key]!.result
  }
  return out ?? labels
}

/** `k=v` pairs sorted by key, comma-joined: how tsh ls, tctl nodes ls and refusals show labels. */
export function formatLabels(labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels)
  if (keys.length > 1) keys.sort()
  let out = ''
  for (let i = 0; i < keys.length; i++) out += (i === 0 ? '' : ',') + keys[i] + '=' + labels[keys[i]!]
  return out
}

/** A node record as a node may write it (presence): BadParameterError names the field. */
export function validateNode(node: NodeRecord): NodeRecord {
  if (!isPlainObject(node)) throw new BadParameterError('a node record must be an object')
  assertValidName('node', node.name)
  const where = `node ${JSON.stringify(node.name)}`
  for (const field of ['hostname', 'addr', 'version'] as const) {
    if (typeof node[field] !== 'string') throw new BadParameterError(`${where}: ${field} must be a string`)
  }
  if (node.hostname === '') throw new BadParameterError(`${where}: hostname must not be empty`)
  inNode(where, () => checkNodeHostname(node.hostname))
  for (const field of ['addr', 'version'] as const) {
    if (hasControlChars(node[field]) || node[field].length > MAX_LABEL_VALUE) throw new BadParameterError(`${where}: ${field} must be printable text of at most ${MAX_LABEL_VALUE} characters`)
  }
  const labels = node.labels ?? {}
  if (!isPlainObject(labels)) throw new BadParameterError(`${where}: labels must be a mapping of strings`)
  for (const [key, value] of Object.entries(labels)) {
    if (typeof value !== 'string') throw new BadParameterError(`${where}: labels.${key} must be a string`)
    inNode(where, () => checkLabel(key, value))
  }
  const cmdLabels = node.cmdLabels ?? {}
  if (!isPlainObject(cmdLabels)) throw new BadParameterError(`${where}: cmdLabels must be a mapping`)
  if (Object.keys(labels).length + Object.keys(cmdLabels).length > MAX_LABELS) throw new BadParameterError(`${where}: at most ${MAX_LABELS} labels`)
  const cleanCmd: Record<string, CommandLabel> = {}
  for (const [key, label] of Object.entries(cmdLabels)) {
    if (!isPlainObject(label) || typeof label.result !== 'string' || !Array.isArray(label.command)) {
      throw new BadParameterError(`${where}: cmdLabels.${key} must be {command: string[], period?, result: string}`)
    }
    inNode(where, () => checkLabel(key, label.result))
    cleanCmd[key] = {command: label.command.map(String), result: label.result, ...(typeof label.period === 'string' ? {period: label.period} : {})}
  }
  const record: NodeRecord = {name: node.name, hostname: node.hostname, addr: node.addr, labels: {...labels}, cmdLabels: cleanCmd, version: node.version}
  if (node.tunnel) record.tunnel = true
  if (node.subKind !== undefined) {
    if (node.subKind !== OPENSSH_SUB_KIND) throw new BadParameterError(`${where}: sub_kind must be ${JSON.stringify(OPENSSH_SUB_KIND)} or absent`)
    if (node.tunnel) throw new BadParameterError(`${where}: an OpenSSH node is dialled at its address, not through a tunnel`)
    record.subKind = OPENSSH_SUB_KIND
  }
  return record
}

/**
 * A `tctl create` node document: only `sub_kind: openssh` (our nodes announce themselves).
 * spec.addr is the sshd's host:port (port 22 when none); spec.hostname defaults to the name.
 */
export function openSSHNodeFromResource(resource: Resource): {hostname: string; addr: string; labels: Record<string, string>} {
  const name = resource.metadata.name
  if (resource.sub_kind !== OPENSSH_SUB_KIND) {
    throw new BadParameterError(`node ${JSON.stringify(name)}: only OpenSSH servers are registered with tctl create (sub_kind: ${OPENSSH_SUB_KIND}); Teleport nodes join with a token`)
  }
  if (resource.version !== 'v2') throw new BadParameterError(`node: unsupported version ${JSON.stringify(resource.version)}; expected v2`)
  const spec = resource.spec as Record<string, unknown>
  for (const key of Object.keys(spec)) {
    if (key !== 'addr' && key !== 'hostname') throw new BadParameterError(`node: spec.${key}: unknown field; expected addr, hostname`)
  }
  if (typeof spec.addr !== 'string' || spec.addr.trim() === '') throw new BadParameterError('node: spec.addr: expected the host:port of the sshd, e.g. 10.0.0.5:22')
  if (spec.hostname !== undefined && typeof spec.hostname !== 'string') throw new BadParameterError('node: spec.hostname: expected a string')
  const written = spec.addr.trim()
  const addr = parseEndpoint(hasPort(written) ? written : `${isIP(written) === 6 ? `[${written}]` : written}:22`)
  if (!addr || addr.host === '' || addr.port === 0) throw new BadParameterError(`node: spec.addr: ${JSON.stringify(spec.addr)} is not host:port`)
  const hostname = (spec.hostname as string | undefined) || name
  const labels = resource.metadata.labels ?? {}
  const record = validateNode({name, hostname, addr: joinHostPort(addr.host, addr.port), labels, cmdLabels: {}, version: '', subKind: OPENSSH_SUB_KIND})
  return {hostname: record.hostname, addr: record.addr, labels: record.labels}
}

function hasPort(addr: string): boolean {
  try {
    return splitHostPort(addr).port !== undefined
  } catch {
    return true // malformed: parseEndpoint refuses it as written
  }
}

// What a node may call itself and label itself with. These names reach terminals (tsh ls, tctl
// nodes ls) and logs, so they are restricted where they are written, as Teleport does.

export const MAX_HOSTNAME = 253
export const MAX_LABEL_KEY = 128
export const MAX_LABEL_VALUE = 1024
export const MAX_LABELS = 128
const HOSTNAME = /^[a-zA-Z0-9._-]+$/
const LABEL_KEY = /^[a-zA-Z/.0-9_:*-]+$/

/** A node name: DNS-ish characters (letters, digits, - . _), at most 253 of them. */
export function checkNodeHostname(hostname: string): void {
  if (hostname.length > MAX_HOSTNAME || !HOSTNAME.test(hostname)) {
    throw new BadParameterError(`invalid hostname ${quoted(hostname)}: use at most ${MAX_HOSTNAME} letters, digits and - . _`)
  }
}

/** A label key as Teleport allows it; at most 128 characters. */
export function checkLabelKey(key: string): void {
  if (key.length > MAX_LABEL_KEY || !LABEL_KEY.test(key)) {
    throw new BadParameterError(`invalid label key ${quoted(key)}: use at most ${MAX_LABEL_KEY} letters, digits and / . _ : * -`)
  }
}

/** A label: a valid key, and a value of printable text (no control characters), at most 1024 characters. */
export function checkLabel(key: string, value: string): void {
  checkLabelKey(key)
  if (value.length > MAX_LABEL_VALUE || hasControlChars(value)) {
    throw new BadParameterError(`invalid value for label ${quoted(key)}: use at most ${MAX_LABEL_VALUE} printable characters, without control characters`)
  }
}

/** A refused name as messages and logs show it: quoted, escaped, and not longer than a line. */
function quoted(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text)
}

function inNode(where: string, check: () => void): void {
  try {
    check()
  } catch (err) {
    if (err instanceof BadParameterError) throw new BadParameterError(`${where}: ${err.message}`)
    throw err
  }
}
