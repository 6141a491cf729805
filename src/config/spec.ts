// The small vocabulary the config schema is written in. A Spec checks one plain value (what the
// YAML file holds, every scalar kept as its source text) and returns its typed form; an object
// spec lists its keys once, with their docs and defaults, and everything else walks that list:
// the validator (unknown keys, missing keys), the sample generator and the key-coverage test.
import {BadParameterError} from '../lib/errors.js'
import {closestMatch} from '../lib/cli/suggest.js'

/** A YAML value with every scalar as its text; null is a key written with no value (or `~`). */
export type Plain = string | null | Plain[] | PlainMap
export interface PlainMap {
  [key: string]: Plain
}

/** Where a value sits in the file: keys and list indexes from the top. */
export type Path = ReadonlyArray<string | number>

/** `ssh_service.commands[0].period`; the empty path reads "top level". */
export function formatPath(path: Path): string {
  if (path.length === 0) return 'top level'
  let out = ''
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`
  return out
}

/**
 * A value the schema refuses. `path` and `target` let the loader find the line: the key itself
 * (an unknown key) or its value (everything else).
 */
export class SpecError extends Error {
  constructor(
    message: string,
    readonly path: Path,
    readonly target: 'key' | 'value' = 'value',
  ) {
    super(message)
    this.name = 'SpecError'
  }
}

/** "<path>: <problem>", the shape of every value error. */
export function invalid(path: Path, problem: string): SpecError {
  return new SpecError(`${formatPath(path)}: ${problem}`, path)
}

function assertMap(value: Plain, path: Path): asserts value is PlainMap {
  if (!isPlainMap(value)) throw invalid(path, `expected a map, got ${describeValue(value)}`)
}

export function isPlainMap(value: Plain | undefined): value is PlainMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** "a list", "a map", "a string", "nothing": the "got ..." half of a type error. */
export function describeValue(value: Plain): string {
  if (value === null) return 'nothing'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a map'
  return 'a string'
}

interface SpecBase<T> {
  /** What the value should be, for "expected <describe>". */
  readonly describe: string
  read(value: Plain, path: Path): T
}
export interface ScalarSpec<T> extends SpecBase<T> {
  readonly kind: 'scalar'
}
export interface ListSpec<T> extends SpecBase<T[]> {
  readonly kind: 'list'
  readonly items: AnySpec
}
/** A single value or a list of them (`ca_pin`, `public_addr`); always read as a list. */
export interface OneOrManySpec<T> extends SpecBase<T[]> {
  readonly kind: 'one-or-many'
  readonly items: AnySpec
}
/** Free-form keys (labels): the keys are data, not schema. */
export interface MapSpec<T> extends SpecBase<Record<string, T>> {
  readonly kind: 'map'
  readonly values: AnySpec
}
export interface ObjectSpec<T> extends SpecBase<T> {
  readonly kind: 'object'
  readonly fields: Readonly<Record<string, AnyField>>
}
// `any` here only erases the value type so the schema walkers (keyPaths, sample.ts) can hold
// any spec; the typed path is Spec<T> and ObjectValue<F>.
export type AnySpec = ScalarSpec<any> | ListSpec<any> | OneOrManySpec<any> | MapSpec<any> | ObjectSpec<any>
export type Spec<T> = SpecBase<T> & AnySpec

/** What the sample config shows for a key, and what its comment says. */
export interface FieldDoc {
  /** What the key does: the comment above it in the sample. */
  doc: string
  /** How the default reads in the comment; derived from the default when omitted. */
  defaultText?: string
  /** The value the sample writes (file form); the default, or empty, when omitted. */
  sample?: Plain | (() => Plain)
  /** A commented-out alternative the sample shows under the key (`#key: value`). */
  example?: Plain
}

export interface Field<T> extends FieldDoc {
  readonly presence: 'required' | 'default' | 'optional'
  readonly spec: AnySpec
  /** The default as it would be written in the file (presence 'default' only). */
  readonly rawDefault?: Plain
  /** Reads the key's value; undefined when the key is absent. */
  read(value: Plain | undefined, path: Path): T
}
export type AnyField = Field<any>

/** An absent key, `key:` and `key: ""` all mean "not set", as in Teleport's own loader. */
function isUnset(value: Plain | undefined): value is undefined | null | '' {
  return value === undefined || value === null || value === ''
}

export function required<T>(spec: Spec<T>, doc: FieldDoc): Field<T> {
  return {
    ...doc,
    presence: 'required',
    spec,
    read(value, path) {
      if (value === undefined) throw invalid(path.slice(0, -1), `missing key "${String(path[path.length - 1])}"`)
      if (isUnset(value)) throw invalid(path, 'must not be empty')
      return spec.read(value, path)
    },
  }
}

export function withDefault<T>(spec: Spec<T>, rawDefault: Plain, doc: FieldDoc): Field<T> {
  return {
    ...doc,
    presence: 'default',
    spec,
    rawDefault,
    read: (value, path) => spec.read(isUnset(value) ? rawDefault : value, path),
  }
}

/** A key with no static default: left undefined, and the merge step decides (e.g. the hostname). */
export function optional<T>(spec: Spec<T>, doc: FieldDoc): Field<T | undefined> {
  return {
    ...doc,
    presence: 'optional',
    spec,
    read: (value, path) => (isUnset(value) ? undefined : spec.read(value, path)),
  }
}

/** A nested section: absent means every key at its default. */
export function section<T>(spec: ObjectSpec<T>, doc: FieldDoc): Field<T> {
  return withDefault(spec, {}, doc)
}

/**
 * A scalar checked by a text parser. The parser throws BadParameterError with the problem
 * ("invalid address ..."); the path is put in front here, so the same parsers serve flags too.
 */
export function scalar<T>(describe: string, parse: (text: string) => T): ScalarSpec<T> {
  return {
    kind: 'scalar',
    describe,
    read(value, path) {
      if (typeof value !== 'string') throw invalid(path, `expected ${describe}, got ${describeValue(value)}`)
      try {
        return parse(value)
      } catch (err) {
        if (err instanceof BadParameterError) throw invalid(path, err.message)
        throw err
      }
    },
  }
}

export function string(): ScalarSpec<string> {
  return scalar('a string', (text) => text)
}

/** One of a fixed set of words; matched without regard to case, returned as listed. */
export function oneOf<const W extends string>(words: readonly W[], aliases: Record<string, W> = {}): ScalarSpec<W> {
  return scalar(`one of ${words.join(', ')}`, (text) => {
    const lower = text.trim().toLowerCase()
    const word = words.find((w) => w.toLowerCase() === lower) ?? aliases[lower]
    if (word !== undefined) return word
    const guess = closestMatch(lower, words.map((w) => w.toLowerCase()))
    const hint = guess ? ` (did you mean "${words.find((w) => w.toLowerCase() === guess)}"?)` : ''
    throw new BadParameterError(`invalid value ${JSON.stringify(text)}; expected one of ${words.join(', ')}${hint}`)
  })
}

export interface ListOptions {
  nonEmpty?: boolean
  /** Items are maps whose value at this key must differ (command label names). */
  uniqueKey?: string
}

export function list<T>(items: Spec<T>, options: ListOptions = {}): ListSpec<T> {
  return {
    kind: 'list',
    describe: 'a list',
    items,
    read(value, path) {
      if (!Array.isArray(value)) throw invalid(path, `expected a list, got ${describeValue(value)}`)
      if (options.nonEmpty && value.length === 0) throw invalid(path, 'must not be an empty list')
      const out = value.map((item, i) => items.read(item, [...path, i]))
      if (options.uniqueKey !== undefined) checkUnique(out, options.uniqueKey, path)
      return out
    },
  }
}

function checkUnique(items: unknown[], key: string, path: Path): void {
  const seen = new Set<unknown>()
  items.forEach((item, i) => {
    const value = (item as Record<string, unknown>)[key]
    if (seen.has(value)) throw invalid([...path, i, key], `duplicate ${key} ${JSON.stringify(value)}`)
    seen.add(value)
  })
}

export function oneOrMany<T>(items: Spec<T>): OneOrManySpec<T> {
  return {
    kind: 'one-or-many',
    describe: `${items.describe} or a list of them`,
    items,
    read(value, path) {
      if (Array.isArray(value)) return value.map((item, i) => items.read(item, [...path, i]))
      if (typeof value === 'string') return [items.read(value, path)]
      throw invalid(path, `expected ${items.describe} or a list of them, got ${describeValue(value)}`)
    },
  }
}

/** A map with free-form keys; `checkKey` throws BadParameterError for a key it refuses. */
export function map<T>(values: Spec<T>, checkKey: (key: string) => void = () => {}): MapSpec<T> {
  return {
    kind: 'map',
    describe: 'a map',
    values,
    read(value, path) {
      assertMap(value, path)
      const out: Record<string, T> = {}
      for (const [key, item] of Object.entries(value)) {
        try {
          checkKey(key)
        } catch (err) {
          if (err instanceof BadParameterError) throw new SpecError(`${formatPath(path)}: ${err.message}`, [...path, key], 'key')
          throw err
        }
        out[key] = values.read(item, [...path, key])
      }
      return out
    },
  }
}

export type ObjectValue<F extends Record<string, AnyField>> = {[K in keyof F]: ReturnType<F[K]['read']>}

/** A map whose keys are fixed: unknown keys are refused with a "did you mean" from the list. */
export function object<F extends Record<string, AnyField>>(fields: F): ObjectSpec<ObjectValue<F>> {
  const known = Object.keys(fields)
  return {
    kind: 'object',
    describe: 'a map',
    fields,
    read(value, path) {
      assertMap(value, path)
      for (const key of Object.keys(value)) {
        if (Object.hasOwn(fields, key)) continue
        const guess = closestMatch(key, known)
        const hint = guess ? ` (did you mean "${guess}"?)` : ''
        throw new SpecError(`unknown key "${formatPath([...path, key])}"${hint}`, [...path, key], 'key')
      }
      const out: Record<string, unknown> = {}
      for (const [key, field] of Object.entries(fields)) {
        out[key] = field.read(Object.hasOwn(value, key) ? value[key] : undefined, [...path, key])
      }
      return out as ObjectValue<F>
    },
  }
}

/**
 * Every key the schema knows, as dotted paths with `[]` for list items:
 * `teleport.log.severity`, `ssh_service.commands[].period`. Free-form map keys stop at the map.
 */
export function keyPaths(spec: AnySpec, prefix = ''): string[] {
  switch (spec.kind) {
    case 'object':
      return Object.entries(spec.fields).flatMap(([key, field]) => {
        const path = prefix === '' ? key : `${prefix}.${key}`
        return [path, ...keyPaths(field.spec, path)]
      })
    case 'list':
    case 'one-or-many':
      return keyPaths(spec.items, `${prefix}[]`)
    case 'map':
      return []
    case 'scalar':
      return []
  }
}
