// The node model: the presence record a node writes, its labels, and what a node may call itself
// and label itself with. NodeService (../nodes.ts) stores the records.
import {BadParameterError} from '../../lib/errors.js'
import {hasControlChars} from '../../lib/safe-text.js'
import {assertValidName, isPlainObject} from './resource.js'

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
}

export interface ServerNode extends NodeRecord {
  /** When the record vanishes unless renewed. */
  expires: Date
}

/** Static labels merged with command-label results (a command label wins on a clash): what RBAC matches. */
export function nodeLabels(node: Pick<NodeRecord, 'labels' | 'cmdLabels'>): Record<string, string> {
  const out: Record<string, string> = {...(node.labels ?? {})}
  for (const [key, label] of Object.entries(node.cmdLabels ?? {})) out[key] = label.result
  return out
}

/** `k=v` pairs sorted by key, comma-joined: how tsh ls, tctl nodes ls and refusals show labels. */
export function formatLabels(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',')
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
  return record
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
