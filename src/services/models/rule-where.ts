// The `where` condition of a role rule (Teleport's predicate language, deliberately small):
// parsed when a role is validated, so a bad expression is refused at `tctl create`, and
// evaluated by RBAC (../rbac.ts) against the user and, when there is one, the session asked for.
//
//   expr    := and ('||' and)*
//   and     := unary ('&&' unary)*
//   unary   := '!' unary | '(' expr ')' | call
//   call    := 'contains' '(' list ',' string ')' | 'equals' '(' string ',' string ')'
//   list    := 'session.participants' | 'user.spec.roles'
//   string  := 'session.user' | 'user.metadata.name' | '"' text '"'   (\" and \\ escape)
import {BadParameterError} from '../../lib/errors.js'

/** The facts about a session a condition may use. */
export interface WhereSession {
  /** Everyone who took part, the starter first. */
  participants: readonly string[]
  /** Who started it. */
  user: string
}

/** What a condition is evaluated against; an absent part makes a condition that needs it unknown. */
export interface WhereContext {
  user?: {name: string; roles: readonly string[]}
  session?: WhereSession
}

const LIST_FIELDS = {
  'session.participants': (c: Required<WhereContext>) => c.session.participants,
  'user.spec.roles': (c: Required<WhereContext>) => c.user.roles,
} as const
const STRING_FIELDS = {
  'session.user': (c: Required<WhereContext>) => c.session.user,
  'user.metadata.name': (c: Required<WhereContext>) => c.user.name,
} as const
type ListField = keyof typeof LIST_FIELDS
type StringField = keyof typeof STRING_FIELDS
type StringValue = {field: StringField} | {literal: string}

export type WhereExpr =
  | {op: 'or' | 'and'; left: WhereExpr; right: WhereExpr}
  | {op: 'not'; expr: WhereExpr}
  | {op: 'contains'; list: ListField; item: StringValue}
  | {op: 'equals'; left: StringValue; right: StringValue}

/** A parsed condition and the parts of the context it reads. */
export interface WhereCondition {
  source: string
  expr: WhereExpr
  needs: ReadonlySet<'user' | 'session'>
}

export const MAX_WHERE_LENGTH = 1024

/** Parses `source`; BadParameterError naming what is wrong and where (`(column 12)`). */
export function parseWhere(source: string): WhereCondition {
  if (source.length > MAX_WHERE_LENGTH) throw new BadParameterError(`condition is longer than ${MAX_WHERE_LENGTH} characters`)
  const parser = new Parser(source)
  const expr = parser.expression()
  parser.end()
  return {source, expr, needs: parser.needs}
}

const parsed = new Map<string, WhereCondition>()

/** parseWhere, remembered: roles are validated once but their conditions are evaluated per call. */
export function compiledWhere(source: string): WhereCondition {
  let condition = parsed.get(source)
  if (!condition) {
    condition = parseWhere(source)
    if (parsed.size > 1_000) parsed.clear()
    parsed.set(source, condition)
  }
  return condition
}

/** Whether `condition` holds in `context`; undefined when it needs a part the context lacks. */
export function whereHolds(condition: WhereCondition, context: WhereContext): boolean | undefined {
  for (const part of condition.needs) if (context[part] === undefined) return undefined
  return evaluate(condition.expr, context as Required<WhereContext>)
}

function evaluate(expr: WhereExpr, c: Required<WhereContext>): boolean {
  switch (expr.op) {
    case 'or':
      return evaluate(expr.left, c) || evaluate(expr.right, c)
    case 'and':
      return evaluate(expr.left, c) && evaluate(expr.right, c)
    case 'not':
      return !evaluate(expr.expr, c)
    case 'contains':
      return LIST_FIELDS[expr.list](c).includes(stringOf(expr.item, c))
    case 'equals':
      return stringOf(expr.left, c) === stringOf(expr.right, c)
  }
}

function stringOf(value: StringValue, c: Required<WhereContext>): string {
  return 'literal' in value ? value.literal : STRING_FIELDS[value.field](c)
}

/** Nesting deeper than this is refused rather than risking the stack. */
const MAX_DEPTH = 32

class Parser {
  private pos = 0
  private depth = 0
  readonly needs = new Set<'user' | 'session'>()

  constructor(private readonly source: string) {}

  expression(): WhereExpr {
    if (++this.depth > MAX_DEPTH) this.fail(`nested more than ${MAX_DEPTH} deep`)
    let left = this.and()
    while (this.take('||')) left = {op: 'or', left, right: this.and()}
    this.depth--
    return left
  }

  end(): void {
    this.skipSpace()
    if (this.pos < this.source.length) this.fail(`unexpected ${JSON.stringify(this.source.slice(this.pos, this.pos + 10))}`)
  }

  private and(): WhereExpr {
    let left = this.unary()
    while (this.take('&&')) left = {op: 'and', left, right: this.unary()}
    return left
  }

  private unary(): WhereExpr {
    if (this.take('!')) {
      if (++this.depth > MAX_DEPTH) this.fail(`nested more than ${MAX_DEPTH} deep`)
      const expr: WhereExpr = {op: 'not', expr: this.unary()}
      this.depth--
      return expr
    }
    if (this.take('(')) {
      const expr = this.expression()
      this.expect(')')
      return expr
    }
    const at = this.skipSpace()
    const name = this.identifier()
    if (name === '') this.fail('expected contains(...), equals(...), !, or (', at)
    if (name !== 'contains' && name !== 'equals') this.fail(`unknown function ${JSON.stringify(name)}; supported functions are contains, equals`, at)
    this.expect('(')
    if (name === 'contains') {
      const list = this.listField()
      this.expect(',')
      const item = this.stringValue()
      this.expect(')')
      return {op: 'contains', list, item}
    }
    const left = this.stringValue()
    this.expect(',')
    const right = this.stringValue()
    this.expect(')')
    return {op: 'equals', left, right}
  }

  private listField(): ListField {
    const at = this.skipSpace()
    const name = this.identifier()
    if (Object.hasOwn(LIST_FIELDS, name)) return this.used(name as ListField)
    if (Object.hasOwn(STRING_FIELDS, name)) this.fail(`contains needs a list first, and ${name} is a string; lists are ${Object.keys(LIST_FIELDS).join(', ')}`, at)
    return this.fail(`unknown field ${JSON.stringify(name)}; lists are ${Object.keys(LIST_FIELDS).join(', ')}`, at)
  }

  private stringValue(): StringValue {
    const at = this.skipSpace()
    if (this.source[this.pos] === '"') return {literal: this.literal()}
    const name = this.identifier()
    if (Object.hasOwn(STRING_FIELDS, name)) return {field: this.used(name as StringField)}
    if (Object.hasOwn(LIST_FIELDS, name)) this.fail(`${name} is a list where a string is expected; use contains(${name}, ...)`, at)
    if (name === '') this.fail('expected a field or a "quoted string"', at)
    return this.fail(`unknown field ${JSON.stringify(name)}; fields are ${[...Object.keys(STRING_FIELDS), ...Object.keys(LIST_FIELDS)].join(', ')}`, at)
  }

  private used<F extends ListField | StringField>(field: F): F {
    this.needs.add(field.startsWith('session.') ? 'session' : 'user')
    return field
  }

  private literal(): string {
    const start = this.pos++
    let text = ''
    while (this.pos < this.source.length) {
      const ch = this.source[this.pos++]!
      if (ch === '"') return text
      if (ch === '\\') {
        const next = this.source[this.pos++]
        if (next !== '"' && next !== '\\') this.fail('only \\" and \\\\ may be escaped in a string', this.pos - 2)
        text += next
      } else {
        text += ch
      }
    }
    return this.fail('unterminated string', start)
  }

  private identifier(): string {
    const match = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(this.source.slice(this.pos))
    if (!match) return ''
    this.pos += match[0].length
    return match[0]
  }

  private take(token: string): boolean {
    this.skipSpace()
    if (!this.source.startsWith(token, this.pos)) return false
    this.pos += token.length
    return true
  }

  private expect(token: string): void {
    const at = this.skipSpace()
    if (!this.take(token)) this.fail(`expected ${JSON.stringify(token)}${at < this.source.length ? '' : ' before the end'}`, at)
  }

  private skipSpace(): number {
    while (this.pos < this.source.length && /\s/.test(this.source[this.pos]!)) this.pos++
    return this.pos
  }

  private fail(problem: string, at = this.pos): never {
    throw new BadParameterError(`${problem} (column ${at + 1})`)
  }
}
