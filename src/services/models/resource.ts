// The resource envelope every managed object shares ({kind, version, metadata, spec}) and the
// parser for `tctl create -f` input: one or many YAML documents (JSON is accepted too, being YAML).
// Only the envelope is checked here; each kind's spec is validated by its service (validateRole...).
import {isSeq, LineCounter, parseAllDocuments} from 'yaml'
import {BadParameterError} from '../../lib/errors.js'
import {toSafeJSON} from '../../lib/safe-text.js'
import {toSafeYAML} from '../../lib/yaml-text.js'
import {yamlToJs} from '../../lib/yaml-aliases.js'

export const RESOURCE_KINDS = ['role', 'user', 'token', 'lock', 'node'] as const
export type ResourceKind = (typeof RESOURCE_KINDS)[number]

export interface ResourceMetadata {
  name: string
  description?: string
  /** RFC 3339 / ISO 8601 instant after which the resource is gone. */
  expires?: string
  labels?: Record<string, string>
}

export interface Resource<Spec = unknown> {
  kind: string
  /** A node's `openssh` (Teleport's field name: the resource is written as it is read). */
  sub_kind?: string
  version: string
  metadata: ResourceMetadata
  spec: Spec
}

export interface ParseOptions {
  /** Named in error messages, e.g. the file name. */
  source?: string
  /** Kinds accepted; default RESOURCE_KINDS. */
  kinds?: readonly string[]
}

const ENVELOPE_FIELDS = new Set(['kind', 'version', 'metadata', 'spec', 'sub_kind'])
// namespace/revision/id are written by the reference tools in `tctl get` output; accepted and dropped.
const METADATA_FIELDS = new Set(['name', 'description', 'expires', 'labels', 'namespace', 'revision', 'id'])

/**
 * Parses every resource in `text` (YAML documents separated by `---`, or JSON; a top-level
 * list holds several). Throws BadParameterError naming the problem and where it is.
 */
export function parseResources(text: string, options: ParseOptions = {}): Resource[] {
  const lineCounter = new LineCounter()
  const docs = parseAllDocuments(text, {lineCounter, prettyErrors: false})
  const where = options.source ? `${options.source}: ` : ''
  const found: Array<{value: unknown; line: number}> = []
  for (const doc of Array.isArray(docs) ? docs : []) {
    const error = doc.errors[0]
    if (error) {
      const pos = error.linePos?.[0] ?? lineCounter.linePos(error.pos[0])
      const reason = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')
      throw new BadParameterError(`${where}malformed YAML at line ${pos.line}, column ${pos.col}: ${reason}`)
    }
    const value = yamlToJs(doc, where)
    if (value === null || value === undefined) continue
    const line = lineCounter.linePos(doc.contents?.range[0] ?? doc.range[0]).line
    if (Array.isArray(value)) for (const entry of value) found.push({value: entry, line})
    else found.push({value, line})
  }
  if (found.length === 0) throw new BadParameterError(`${where}no resources found in the input`)
  return found.map(({value, line}, index) => {
    const at = found.length > 1 ? `${where}document ${index + 1} (line ${line}): ` : where
    return parseEnvelope(value, options.kinds ?? RESOURCE_KINDS, at)
  })
}

/**
 * The line in `text` of a field of its index-th resource, by the path a validation error names
 * (`spec.allow.rules[0].where`); undefined when it cannot be told (a top-level list, no such field).
 */
export function lineOfField(text: string, index: number, path: string): number | undefined {
  const lineCounter = new LineCounter()
  const docs = parseAllDocuments(text, {lineCounter, prettyErrors: false})
  if (!Array.isArray(docs)) return undefined
  const resources = docs.filter((doc) => doc.contents !== null)
  if (resources.some((doc) => isSeq(doc.contents))) return undefined
  const keys = path.split(/\.|\[(\d+)\]/).filter((key) => key !== undefined && key !== '').map((key) => (/^\d+$/.test(key) ? Number(key) : key))
  const node = resources[index]?.getIn(keys, true) as {range?: [number, number, number]} | undefined
  return node?.range ? lineCounter.linePos(node.range[0]).line : undefined
}

/** Exactly one resource; refuses input holding several. */
export function parseResource(text: string, options: ParseOptions = {}): Resource {
  const all = parseResources(text, options)
  if (all.length !== 1) {
    throw new BadParameterError(`${options.source ? `${options.source}: ` : ''}expected one resource, found ${all.length}`)
  }
  return all[0]!
}

/** Checks an already-decoded object is a resource envelope of an accepted kind. */
export function parseEnvelope(value: unknown, kinds: readonly string[] = RESOURCE_KINDS, at = ''): Resource {
  if (!isPlainObject(value)) throw new BadParameterError(`${at}a resource must be a mapping with kind, version, metadata and spec`)
  for (const key of Object.keys(value)) {
    if (!ENVELOPE_FIELDS.has(key)) throw new BadParameterError(`${at}unknown field "${key}"; expected kind, version, metadata, spec`)
  }
  const {kind, version, metadata, spec, sub_kind: subKind} = value
  if (typeof kind !== 'string' || kind === '') throw new BadParameterError(`${at}missing resource kind; expected one of ${kinds.join(', ')}`)
  if (!kinds.includes(kind)) throw new BadParameterError(`${at}unknown resource kind "${kind}"; expected one of ${kinds.join(', ')}`)
  if (!isPlainObject(metadata)) throw new BadParameterError(`${at}${kind}: missing metadata.name`)
  const name = metadata.name
  if (name === undefined || name === null || name === '') throw new BadParameterError(`${at}${kind}: missing metadata.name`)
  if (typeof name !== 'string') throw new BadParameterError(`${at}${kind}: metadata.name: expected a string, got ${JSON.stringify(name)}`)
  const label = `${at}${kind} "${name}": `
  if (typeof version !== 'string' || version === '') throw new BadParameterError(`${label}missing version`)
  for (const key of Object.keys(metadata)) {
    if (!METADATA_FIELDS.has(key)) throw new BadParameterError(`${label}metadata.${key}: unknown field`)
  }
  assertValidName(kind, name, at)
  const out: ResourceMetadata = {name}
  if (metadata.description !== undefined) {
    if (typeof metadata.description !== 'string') throw new BadParameterError(`${label}metadata.description: expected a string`)
    out.description = metadata.description
  }
  if (metadata.expires !== undefined) out.expires = normalizeInstant(metadata.expires, `${label}metadata.expires`)
  if (metadata.labels !== undefined) {
    if (!isPlainObject(metadata.labels)) throw new BadParameterError(`${label}metadata.labels: expected a mapping of strings`)
    const labels: Record<string, string> = {}
    for (const [k, v] of Object.entries(metadata.labels)) {
      if (typeof v !== 'string') throw new BadParameterError(`${label}metadata.labels.${k}: expected a string`)
      labels[k] = v
    }
    out.labels = labels
  }
  if (spec !== undefined && spec !== null && !isPlainObject(spec)) throw new BadParameterError(`${label}spec: expected a mapping`)
  if (subKind !== undefined && (typeof subKind !== 'string' || subKind === '')) throw new BadParameterError(`${label}sub_kind: expected a string`)
  return {kind, ...(subKind ? {sub_kind: subKind} : {}), version, metadata: out, spec: spec ?? {}}
}

/**
 * Names end up in backend keys and URLs: no '/', no whitespace or control characters,
 * not "." or "..", at most 255 characters.
 */
export function assertValidName(kind: string, name: unknown, at = ''): asserts name is string {
  if (typeof name !== 'string' || name === '') throw new BadParameterError(`${at}${kind} name must not be empty`)
  if (name.length > 255) throw new BadParameterError(`${at}${kind} name ${JSON.stringify(name.slice(0, 40) + '...')} is longer than 255 characters`)
  // eslint-disable-next-line no-control-regex
  if (/[/\s\u0000-\u001f\u007f]/u.test(name) || name === '.' || name === '..') {
    throw new BadParameterError(`${at}invalid ${kind} name ${JSON.stringify(name)}: it must not contain '/', spaces or control characters`)
  }
}

/** Renders resources the way `tctl get` prints them. */
export function stringifyResources(resources: Resource[], format: 'yaml' | 'json' = 'yaml'): string {
  if (format === 'json') return toSafeJSON(resources)
  return resources.map((r) => toSafeYAML(r)).join('---\n')
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
}

function normalizeInstant(value: unknown, field: string): string {
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined
  if (!date || Number.isNaN(date.getTime())) throw new BadParameterError(`${field}: expected an RFC 3339 time like 2026-01-31T12:00:00Z`)
  return date.toISOString()
}
