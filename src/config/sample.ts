// The commented teleport.yaml that `teleport configure` prints, generated from the schema so
// that it names every key the loader accepts, with what it does and its default. Keys with no
// safe value to switch on (a join token, a CA pin, certificate files) are written empty, with
// an example under them as `#key: value`.
import {Document, visit} from 'yaml'
import {BadParameterError} from '../lib/errors.js'
import {TELEPORT_CONFIG_SCHEMA, schemaKeyPaths} from './schema.js'
import type {AnyField, AnySpec, Plain} from './spec.js'

export interface SampleOptions {
  /**
   * Values to write instead of the sample's, in file form, by dotted key path:
   * `{'auth_service.cluster_name': 'example.com', 'proxy_service.enabled': 'no'}`.
   */
  values?: Record<string, Plain>
}

const WRAP_AT = 100

const HEADER = [
  '# Configuration for the teleport daemon: `teleport start --config <this file>`.',
  '# Every key is shown with its default. A line "#key: value" under a key is an example:',
  '# replace the key\'s line with it to use it. `teleport start` flags override this file.',
]

export function sampleConfig(options: SampleOptions = {}): string {
  const overrides = new Map(Object.entries(options.values ?? {}))
  const settable = new Set(schemaKeyPaths().filter((path) => !path.includes('[]')))
  for (const path of overrides.keys()) {
    if (!settable.has(path)) throw new BadParameterError(`sampleConfig: unknown key "${path}"`)
  }
  const lines = [...HEADER]
  for (const [key, field] of Object.entries(TELEPORT_CONFIG_SCHEMA.fields)) {
    lines.push('')
    renderField(key, field, '', key, overrides, lines)
  }
  return `${lines.join('\n')}\n`
}

function renderField(key: string, field: AnyField, indent: string, path: string, overrides: Map<string, Plain>, out: string[]): void {
  if (field.spec.kind === 'object' && !overrides.has(path)) {
    out.push(...comment(field.doc, indent))
    out.push(`${indent}${key}:`)
    for (const [childKey, child] of Object.entries(field.spec.fields)) {
      renderField(childKey, child, `${indent}  `, `${path}.${childKey}`, overrides, out)
    }
    return
  }
  out.push(...comment(`${field.doc}${entryDocs(field.spec)} Default: ${defaultText(field)}.`, indent))
  const overridden = overrides.has(path)
  out.push(`${indent}${key}: ${flow(overridden ? overrides.get(path)! : sampleValue(field))}`)
  if (field.example !== undefined && !overridden) out.push(`${indent}#${key}: ${flow(field.example)}`)
}

/** For a list of maps, what each entry's keys mean (they appear only inside the flow value). */
function entryDocs(spec: AnySpec): string {
  if (spec.kind !== 'list' || spec.items.kind !== 'object') return ''
  const keys = Object.entries(spec.items.fields).map(([key, f]) => {
    const fallback = f.presence === 'required' ? '' : ` (default ${defaultText(f)})`
    return `${key}, ${f.doc.replace(/\.$/, '')}${fallback}`
  })
  return ` Each entry: ${keys.join('; ')}.`
}

function sampleValue(field: AnyField): Plain {
  if (typeof field.sample === 'function') return field.sample()
  if (field.sample !== undefined) return field.sample
  if (field.rawDefault !== undefined) return field.rawDefault
  return emptyValue(field.spec)
}

/** What an unset key of this kind looks like written out. */
function emptyValue(spec: AnySpec): Plain {
  if (spec.kind === 'list' || spec.kind === 'one-or-many') return []
  if (spec.kind === 'map' || spec.kind === 'object') return {}
  return ''
}

function defaultText(field: AnyField): string {
  if (field.defaultText !== undefined) return field.defaultText
  if (field.presence === 'required') return 'required'
  const raw = field.rawDefault
  if (raw === undefined || raw === '' || (Array.isArray(raw) && raw.length === 0)) return 'none'
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw) && Object.keys(raw).length === 0) return 'none'
  return flow(raw)
}

/** One line of YAML in flow style: `[a, b]`, `{env: staging}`, `""`. */
function flow(value: Plain): string {
  const doc = new Document(value)
  visit(doc, {
    Map: (_, node) => {
      node.flow = true
    },
    Seq: (_, node) => {
      node.flow = true
    },
  })
  return doc.toString({lineWidth: 0, flowCollectionPadding: false}).trimEnd()
}

/** `# text`, word-wrapped. */
function comment(text: string, indent: string): string[] {
  const lines: string[] = []
  let line = `${indent}#`
  for (const word of text.split(/\s+/)) {
    if (line.length + 1 + word.length > WRAP_AT && line !== `${indent}#`) {
      lines.push(line)
      line = `${indent}#`
    }
    line += ` ${word}`
  }
  lines.push(line)
  return lines
}
