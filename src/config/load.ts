// Reading teleport.yaml: YAML text → plain values (every scalar as its source text, with each
// key's and value's offset remembered) → the schema. Any refusal becomes one BadParameterError
// "<file>:<line>: <what and where>", so a user can go straight to the line.
import {isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node} from 'yaml'
import {BadParameterError} from '../lib/errors.js'
import {readTextFile} from '../lib/file-errors.js'
import {yamlToJs} from '../lib/yaml-aliases.js'
import {TELEPORT_CONFIG_SCHEMA, type FileConfig} from './schema.js'
import {formatPath, SpecError, type Path, type Plain, type PlainMap, type Spec} from './spec.js'

interface Offsets {
  key?: number
  value?: number
}

/** Offsets of each path's key and value in the source, keyed by JSON of the path. */
type OffsetIndex = Map<string, Offsets>

/** Plain scalars that YAML means as "no value". */
const NULL_WORDS = new Set(['~', 'null', 'Null', 'NULL'])

/** Validates config text; `fileName` is only for messages. */
export function parseConfig(text: string, fileName: string): FileConfig {
  return parseWithSpec(text, fileName, TELEPORT_CONFIG_SCHEMA)
}

/** Any YAML file read through a schema (teleport.yaml, tsh's config.yaml), refusals as "<file>:<line>: ...". */
export function parseWithSpec<T>(text: string, fileName: string, spec: Spec<T>): T {
  const lines = new LineCounter()
  // The failsafe schema keeps every scalar a string: `nodename: 0123` stays "0123" and
  // `enabled: yes` reaches the boolean parser as written, as Teleport's Go loader sees them.
  const doc = parseDocument(text, {schema: 'failsafe', lineCounter: lines, prettyErrors: false, uniqueKeys: true})
  const lineAt = (offset: number) => lines.linePos(offset).line
  const syntaxError = doc.errors[0]
  if (syntaxError) {
    throw new BadParameterError(`${fileName}:${lineAt(syntaxError.pos[0])}: invalid YAML: ${firstLine(syntaxError.message)}`)
  }
  // Only the guard's verdict matters here: toPlain below keeps offsets that toJS would lose.
  yamlToJs(doc, `${fileName}: `)
  const offsets: OffsetIndex = new Map()
  try {
    const plain = doc.contents === null ? {} : toPlain(doc.contents as Node, doc, [], offsets)
    return spec.read(plain, [])
  } catch (err) {
    if (err instanceof SpecError) {
      throw new BadParameterError(`${fileName}:${lineAt(locate(err, offsets))}: ${err.message}`)
    }
    throw err
  }
}

/** Reads and validates a config file; a missing or unreadable file is named. */
export function loadConfigFile(path: string): FileConfig {
  return parseConfig(readTextFile(path, {noun: 'config file', hints: {denied: 'run as a user who can read it'}}), path)
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')
}

function toPlain(node: Node, doc: Document, path: Path, offsets: OffsetIndex, depth = 0): Plain {
  if (depth > 64) throw new SpecError(`${formatPath(path)}: nested too deeply`, path)
  const at = (offsets.get(JSON.stringify(path)) ?? {}) as Offsets
  at.value ??= node.range?.[0]
  offsets.set(JSON.stringify(path), at)
  if (isAlias(node)) return toPlain(node.resolve(doc) as Node, doc, path, offsets, depth + 1)
  if (isScalar(node)) {
    const text = String(node.value ?? '')
    return node.type === 'PLAIN' && (text === '' || NULL_WORDS.has(text)) ? null : text
  }
  if (isSeq(node)) {
    return node.items.map((item, i) => {
      const itemPath = [...path, i]
      if (item == null) return null
      return toPlain(item as Node, doc, itemPath, offsets, depth + 1)
    })
  }
  if (isMap(node)) {
    // A null prototype: a key named "__proto__" or "constructor" is just an unknown key.
    const out: PlainMap = Object.create(null) as PlainMap
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null
      if (!isScalar(keyNode)) {
        at.value = keyNode?.range?.[0] ?? at.value
        throw new SpecError(`${formatPath(path)}: keys must be plain words, not a list or map`, path)
      }
      const key = String(keyNode.value)
      const keyPath = [...path, key]
      offsets.set(JSON.stringify(keyPath), {key: keyNode.range?.[0], value: (pair.value as Node | null)?.range?.[0]})
      out[key] = pair.value == null ? null : toPlain(pair.value as Node, doc, keyPath, offsets, depth + 1)
    }
    return out
  }
  throw new SpecError(`${formatPath(path)}: unsupported YAML node`, path)
}

/** The offset to report for an error: its key or value, else the nearest enclosing one. */
function locate(err: SpecError, offsets: OffsetIndex): number {
  for (let len = err.path.length; len >= 0; len--) {
    const at = offsets.get(JSON.stringify(err.path.slice(0, len)))
    if (!at) continue
    const offset = err.target === 'key' && len === err.path.length ? (at.key ?? at.value) : (at.value ?? at.key)
    if (offset !== undefined) return offset
  }
  return 0
}
