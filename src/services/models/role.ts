// The v5 role model: its types, its validation (errors name the offending field) and the
// built-in roles. RoleService (../roles.ts) stores roles in the backend.
import {BadParameterError} from '../../lib/errors.js'
import {parseDuration} from '../duration.js'
import {isPlainObject, parseEnvelope, type Resource} from './resource.js'
import {parseTemplate} from '../traits.js'
import {parseWhere} from './rule-where.js'
import {PARTICIPANT_MODES, type ParticipantMode} from './session-tracker.js'

export const ROLE_VERSION = 'v5'

/** Label key → accepted values (literal, glob with `*`, or a `^...$` regular expression). */
export type LabelSelector = Record<string, string[]>

export const RULE_RESOURCES = ['role', 'user', 'token', 'lock', 'node', 'proxy', 'session', 'event', 'cert_authority'] as const
export const RULE_VERBS = ['list', 'create', 'read', 'update', 'delete'] as const
export type RuleResource = (typeof RULE_RESOURCES)[number]
export type RuleVerb = (typeof RULE_VERBS)[number]

export interface RoleRule {
  /** Resource kinds, or '*'. */
  resources: string[]
  /** Verbs, or '*'. */
  verbs: string[]
  /**
   * A condition (./rule-where.ts) the rule applies under, e.g.
   * `contains(session.participants, user.metadata.name)`; absent: always.
   */
  where?: string
}

export interface RoleConditions {
  logins: string[]
  node_labels: LabelSelector
  rules: RoleRule[]
  /** Whose sessions the role's users may join, and how (allow only; absent when empty). */
  join_sessions?: SessionJoinPolicy[]
  /** Who must be present for the role's users' sessions to run (allow only; absent when empty). */
  require_session_join?: SessionRequirePolicy[]
}

/** Session kinds a policy names; `*` is every kind. */
export const SESSION_KINDS = ['ssh'] as const
export const ON_SESSION_LEAVE = ['terminate', 'pause'] as const
export type OnSessionLeave = (typeof ON_SESSION_LEAVE)[number]

/** Teleport's join_sessions: the role's users may join sessions of users holding one of `roles`. */
export interface SessionJoinPolicy {
  name: string
  /** The session OWNER's roles this applies to (`*` glob allowed). */
  roles: string[]
  kinds: string[]
  modes: ParticipantMode[]
}

/** Teleport's require_session_join: `count` participants matching `filter`, in one of `modes`. */
export interface SessionRequirePolicy {
  name: string
  /** A condition over the joining user (./rule-where.ts), e.g. `contains(user.spec.roles, "auditor")`. */
  filter: string
  kinds: string[]
  modes: ParticipantMode[]
  count: number
  /** What happens when too few are left: end the session, or hold it until they are back. */
  on_leave: OnSessionLeave
}

export interface RoleOptions {
  /** Go duration string; the longest certificate this role allows. */
  max_session_ttl: string
  forward_agent: boolean
  port_forwarding: boolean
  permit_x11_forwarding: boolean
  /** Pin certificates to the client's source address (critical option source-address). */
  pin_source_ip: boolean
}

export interface RoleSpec {
  options: RoleOptions
  allow: RoleConditions
  deny: RoleConditions
}

export interface Role extends Resource<RoleSpec> {
  kind: 'role'
}

export const DEFAULT_ROLE_OPTIONS: Readonly<RoleOptions> = Object.freeze({
  max_session_ttl: '30h',
  forward_agent: false,
  port_forwarding: true,
  permit_x11_forwarding: false,
  pin_source_ip: false,
})

const OPTION_TYPES: Record<keyof RoleOptions, 'duration' | 'boolean'> = {
  max_session_ttl: 'duration',
  forward_agent: 'boolean',
  port_forwarding: 'boolean',
  permit_x11_forwarding: 'boolean',
  pin_source_ip: 'boolean',
}
const CONDITION_FIELDS = ['logins', 'node_labels', 'rules', 'join_sessions', 'require_session_join']
const SESSION_POLICY_FIELDS = ['join_sessions', 'require_session_join']
const RULE_FIELDS = ['resources', 'verbs', 'where']
const JOIN_POLICY_FIELDS = ['name', 'roles', 'kinds', 'modes']
const REQUIRE_POLICY_FIELDS = ['name', 'filter', 'kinds', 'modes', 'count', 'on_leave']
const MIN_SESSION_TTL_MS = 60_000

/**
 * Checks a role (a parsed resource or a plain object) and returns it normalised: every option
 * present (defaults filled), label values always lists, empty lists for absent conditions.
 * Throws BadParameterError: `role "x": spec.allow.node_labels.env: invalid regular expression "^[a-$"`.
 */
export function validateRole(raw: unknown): Role {
  const envelope = parseEnvelope(raw, ['role'])
  const name = envelope.metadata.name
  const fail = (field: string, problem: string): never => {
    throw new BadParameterError(`role ${JSON.stringify(name)}: ${field}: ${problem}`)
  }
  if (envelope.version !== ROLE_VERSION) {
    throw new BadParameterError(`role ${JSON.stringify(name)}: unsupported version ${JSON.stringify(envelope.version)}; expected ${ROLE_VERSION}`)
  }
  const spec = envelope.spec as Record<string, unknown>
  for (const key of Object.keys(spec)) {
    if (!['options', 'allow', 'deny'].includes(key)) fail(`spec.${key}`, 'unknown field; expected options, allow, deny')
  }
  return {
    kind: 'role',
    version: ROLE_VERSION,
    metadata: envelope.metadata,
    spec: {
      options: validateOptions(spec.options, fail),
      allow: validateConditions(spec.allow, 'spec.allow', fail),
      deny: validateConditions(spec.deny, 'spec.deny', fail),
    },
  }
}

type Fail = (field: string, problem: string) => never

function validateOptions(raw: unknown, fail: Fail): RoleOptions {
  const options: RoleOptions = {...DEFAULT_ROLE_OPTIONS}
  if (raw === undefined || raw === null) return options
  if (!isPlainObject(raw)) return fail('spec.options', 'expected a mapping')
  for (const [key, value] of Object.entries(raw)) {
    const field = `spec.options.${key}`
    const type = Object.hasOwn(OPTION_TYPES, key) ? OPTION_TYPES[key as keyof RoleOptions] : undefined
    if (!type) fail(field, `unknown option; supported options are ${Object.keys(OPTION_TYPES).join(', ')}`)
    if (value === null || value === undefined) continue
    if (type === 'boolean') {
      if (typeof value !== 'boolean') fail(field, `expected true or false, got ${JSON.stringify(value)}`)
      ;(options as unknown as Record<string, unknown>)[key] = value
    } else {
      if (typeof value !== 'string') fail(field, `expected a duration like "8h" or "1h30m", got ${JSON.stringify(value)}`)
      let ms: number
      try {
        ms = parseDuration(value as string)
      } catch {
        return fail(field, `invalid duration ${JSON.stringify(value)}; expected a duration like "8h", "30m" or "1h30m"`)
      }
      if (ms === 0) continue // 0 means "the default", as in the reference
      if (ms < MIN_SESSION_TTL_MS) fail(field, `must be at least 1m, got ${JSON.stringify(value)}`)
      options.max_session_ttl = value as string
    }
  }
  return options
}

function validateConditions(raw: unknown, path: string, fail: Fail): RoleConditions {
  const out: RoleConditions = {logins: [], node_labels: {}, rules: []}
  if (raw === undefined || raw === null) return out
  if (!isPlainObject(raw)) return fail(path, 'expected a mapping')
  const allow = path === 'spec.allow'
  const fields = allow ? CONDITION_FIELDS : CONDITION_FIELDS.filter((f) => !SESSION_POLICY_FIELDS.includes(f))
  for (const key of Object.keys(raw)) {
    if (!allow && SESSION_POLICY_FIELDS.includes(key)) fail(`${path}.${key}`, 'session policies are given under spec.allow only')
    if (!fields.includes(key)) fail(`${path}.${key}`, `unknown field; supported fields are ${fields.join(', ')}`)
  }
  if (raw.logins !== undefined && raw.logins !== null) out.logins = validateLogins(raw.logins, `${path}.logins`, fail)
  if (raw.node_labels !== undefined && raw.node_labels !== null) out.node_labels = validateLabels(raw.node_labels, `${path}.node_labels`, fail)
  if (raw.rules !== undefined && raw.rules !== null) out.rules = validateRules(raw.rules, `${path}.rules`, fail)
  const join = raw.join_sessions === undefined || raw.join_sessions === null ? [] : validateJoinPolicies(raw.join_sessions, `${path}.join_sessions`, fail)
  const require = raw.require_session_join === undefined || raw.require_session_join === null ? [] : validateRequirePolicies(raw.require_session_join, `${path}.require_session_join`, fail)
  if (join.length > 0) out.join_sessions = join
  if (require.length > 0) out.require_session_join = require
  return out
}

function validateJoinPolicies(raw: unknown, path: string, fail: Fail): SessionJoinPolicy[] {
  return policyList(raw, path, JOIN_POLICY_FIELDS, fail).map(({policy, field}) => ({
    name: policyName(policy.name, `${field}.name`, fail),
    roles: stringList(policy.roles, `${field}.roles`, fail),
    kinds: sessionKinds(policy.kinds, `${field}.kinds`, fail),
    modes: participantModes(policy.modes, `${field}.modes`, fail),
  }))
}

function validateRequirePolicies(raw: unknown, path: string, fail: Fail): SessionRequirePolicy[] {
  return policyList(raw, path, REQUIRE_POLICY_FIELDS, fail).map(({policy, field}) => {
    const name = policyName(policy.name, `${field}.name`, fail)
    const filter = sessionFilter(policy.filter, `${field}.filter`, fail)
    const kinds = sessionKinds(policy.kinds, `${field}.kinds`, fail)
    const modes = participantModes(policy.modes, `${field}.modes`, fail)
    const count = policy.count ?? 1
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 100) fail(`${field}.count`, `expected a whole number from 1 to 100, got ${JSON.stringify(count)}`)
    const onLeave = policy.on_leave ?? 'terminate'
    if (!(ON_SESSION_LEAVE as readonly unknown[]).includes(onLeave)) fail(`${field}.on_leave`, `expected one of ${ON_SESSION_LEAVE.join(', ')}, got ${JSON.stringify(onLeave)}`)
    return {name, filter, kinds, modes, count: count as number, on_leave: onLeave as OnSessionLeave}
  })
}

function policyList(raw: unknown, path: string, fields: string[], fail: Fail): {policy: Record<string, unknown>; field: string}[] {
  if (!Array.isArray(raw)) return fail(path, `expected a list of {${fields.join(', ')}}`)
  return raw.map((policy, i) => {
    const field = `${path}[${i}]`
    if (!isPlainObject(policy)) return fail(field, `expected a mapping with ${fields.join(', ')}`)
    for (const key of Object.keys(policy)) if (!fields.includes(key)) fail(`${field}.${key}`, `unknown field; supported fields are ${fields.join(', ')}`)
    return {policy, field}
  })
}

function policyName(raw: unknown, field: string, fail: Fail): string {
  if (typeof raw !== 'string' || raw.trim() === '') return fail(field, 'expected a name for the policy')
  return raw
}

function sessionKinds(raw: unknown, field: string, fail: Fail): string[] {
  const kinds = stringList(raw, field, fail)
  for (const kind of kinds) {
    if (kind !== '*' && !(SESSION_KINDS as readonly string[]).includes(kind)) fail(field, `unknown session kind ${JSON.stringify(kind)}; expected ${SESSION_KINDS.join(', ')} or '*'`)
  }
  return kinds
}

function participantModes(raw: unknown, field: string, fail: Fail): ParticipantMode[] {
  const modes = stringList(raw, field, fail)
  for (const mode of modes) {
    if (!(PARTICIPANT_MODES as readonly string[]).includes(mode)) fail(field, `unknown participant mode ${JSON.stringify(mode)}; expected ${PARTICIPANT_MODES.join(', ')}`)
  }
  return modes as ParticipantMode[]
}

/** A require_session_join filter is about the joining user only: no session fields. */
function sessionFilter(raw: unknown, field: string, fail: Fail): string {
  if (typeof raw !== 'string' || raw.trim() === '') return fail(field, 'expected a condition over the joining user such as \'contains(user.spec.roles, "auditor")\'')
  let needs: ReadonlySet<string>
  try {
    needs = parseWhere(raw).needs
  } catch (err) {
    return fail(field, `invalid filter ${JSON.stringify(raw)}: ${(err as Error).message}`)
  }
  if (needs.has('session')) fail(field, `invalid filter ${JSON.stringify(raw)}: a filter may use only the joining user's fields (user.metadata.name, user.spec.roles)`)
  return raw
}

function validateLogins(raw: unknown, path: string, fail: Fail): string[] {
  const list = typeof raw === 'string' ? [raw] : raw
  if (!Array.isArray(list)) return fail(path, 'expected a list of strings')
  return list.map((login, i) => {
    const field = `${path}[${i}]`
    if (typeof login !== 'string') return fail(field, `expected a string, got ${JSON.stringify(login)}`)
    if (login.trim() === '') return fail(field, 'must not be empty')
    checkTemplate(login, field, fail)
    // eslint-disable-next-line no-control-regex
    if (/[\s\u0000-\u001f\u007f]/.test(login)) fail(field, `invalid login ${JSON.stringify(login)}: no spaces or control characters`)
    return login
  })
}

function validateLabels(raw: unknown, path: string, fail: Fail): LabelSelector {
  if (!isPlainObject(raw)) return fail(path, 'expected a mapping of label names to a value or a list of values')
  const out: LabelSelector = {}
  for (const [key, value] of Object.entries(raw)) {
    const field = `${path}.${key}`
    if (key === '') fail(path, 'label name must not be empty')
    if (key.includes('{{')) fail(field, 'templates are not supported in label names')
    const values = typeof value === 'string' ? [value] : value
    if (!Array.isArray(values) || values.length === 0) fail(field, 'expected a string or a non-empty list of strings')
    const list = (values as unknown[]).map((v, i) => {
      if (typeof v !== 'string') return fail(field, `expected a string${Array.isArray(value) ? ` at index ${i}` : ''}, got ${JSON.stringify(v)}`)
      checkTemplate(v, field, fail)
      if (v.startsWith('^') && v.endsWith('$')) {
        try {
          new RegExp(v, 'u')
        } catch {
          fail(field, `invalid regular expression ${JSON.stringify(v)}`)
        }
      }
      return v
    })
    if (key === '*' && (list.length !== 1 || list[0] !== '*')) fail(field, `the wildcard label name '*' only accepts the value '*'`)
    out[key] = list
  }
  return out
}

function validateRules(raw: unknown, path: string, fail: Fail): RoleRule[] {
  if (!Array.isArray(raw)) return fail(path, 'expected a list of {resources, verbs}')
  return raw.map((rule, i) => {
    const field = `${path}[${i}]`
    if (!isPlainObject(rule)) return fail(field, 'expected a mapping with resources and verbs')
    for (const key of Object.keys(rule)) {
      if (!RULE_FIELDS.includes(key)) fail(`${field}.${key}`, `unknown field; supported fields are ${RULE_FIELDS.join(', ')}`)
    }
    const resources = stringList(rule.resources, `${field}.resources`, fail)
    const verbs = stringList(rule.verbs, `${field}.verbs`, fail)
    for (const r of resources) {
      if (r !== '*' && !(RULE_RESOURCES as readonly string[]).includes(r)) {
        fail(`${field}.resources`, `unknown resource ${JSON.stringify(r)}; expected one of ${RULE_RESOURCES.join(', ')} or '*'`)
      }
    }
    for (const v of verbs) {
      if (v !== '*' && !(RULE_VERBS as readonly string[]).includes(v)) {
        fail(`${field}.verbs`, `unknown verb ${JSON.stringify(v)}; expected one of ${RULE_VERBS.join(', ')} or '*'`)
      }
    }
    if (rule.where === undefined || rule.where === null) return {resources, verbs}
    return {resources, verbs, where: validateWhere(rule.where, resources, `${field}.where`, fail)}
  })
}

/** A rule's condition must parse, and may name session fields only in a rule for sessions alone. */
function validateWhere(raw: unknown, resources: string[], field: string, fail: Fail): string {
  if (typeof raw !== 'string' || raw.trim() === '') return fail(field, 'expected a condition such as "contains(session.participants, user.metadata.name)"')
  let needsSession: boolean
  try {
    needsSession = parseWhere(raw).needs.has('session')
  } catch (err) {
    return fail(field, `invalid condition ${JSON.stringify(raw)}: ${(err as Error).message}`)
  }
  if (needsSession && (resources.length !== 1 || resources[0] !== 'session')) {
    fail(field, `session fields may be used only in a rule whose resources are [session], not [${resources.join(', ')}]`)
  }
  return raw
}

function stringList(raw: unknown, field: string, fail: Fail): string[] {
  const list = typeof raw === 'string' ? [raw] : raw
  if (!Array.isArray(list) || list.length === 0) return fail(field, 'expected a non-empty list of strings')
  for (const item of list) if (typeof item !== 'string' || item === '') fail(field, `expected strings, got ${JSON.stringify(item)}`)
  return list as string[]
}

function checkTemplate(value: string, field: string, fail: Fail): void {
  try {
    parseTemplate(value)
  } catch (err) {
    fail(field, (err as Error).message)
  }
}

/** A role's spec as people write it: label values may be a single string, anything may be left out. */
export interface RoleSpecInput {
  options?: Partial<RoleOptions>
  allow?: RoleConditionsInput
  deny?: RoleConditionsInput
}
export interface RoleConditionsInput {
  logins?: string[]
  node_labels?: Record<string, string | string[]>
  rules?: RoleRule[]
  join_sessions?: SessionJoinPolicy[]
  require_session_join?: (Omit<SessionRequirePolicy, 'count' | 'on_leave'> & Partial<Pick<SessionRequirePolicy, 'count' | 'on_leave'>>)[]
}

/** A role built from just its spec parts, validated. */
export function newRole(name: string, spec: RoleSpecInput = {}): Role {
  return validateRole({kind: 'role', version: ROLE_VERSION, metadata: {name}, spec})
}

const CRUD = ['list', 'create', 'read', 'update', 'delete']
const BUILTIN_DESCRIPTIONS: Record<string, string> = {
  access: 'Access to all nodes with the logins from the user\'s logins trait; play back own sessions',
  editor: 'Manage users, roles and join tokens',
  auditor: 'Read session recordings and the audit log',
}

/** The roles every cluster has. Stored copies (customisations) take precedence; they can't be deleted. */
export const BUILTIN_ROLES: ReadonlyMap<string, Role> = new Map(
  [
    newRole('access', {
      options: {max_session_ttl: '30h', forward_agent: true, port_forwarding: true},
      allow: {
        logins: ['{{internal.logins}}'],
        node_labels: {'*': ['*']},
        // Teleport's: users list and play the sessions they took part in.
        rules: [{resources: ['session'], verbs: ['list', 'read'], where: 'contains(session.participants, user.metadata.name)'}],
      },
    }),
    // editor and auditor grant no logins, and turn forwarding off so that adding them to a user
    // never widens SSH permissions (port_forwarding is on unless a role says otherwise).
    newRole('editor', {
      options: {max_session_ttl: '30h', forward_agent: false, port_forwarding: false},
      allow: {
        rules: [
          {resources: ['user', 'role', 'token', 'lock'], verbs: CRUD},
          {resources: ['node', 'proxy', 'cert_authority'], verbs: ['list', 'read']},
        ],
      },
    }),
    newRole('auditor', {
      options: {max_session_ttl: '30h', forward_agent: false, port_forwarding: false},
      allow: {rules: [{resources: ['session', 'event'], verbs: ['list', 'read']}]},
    }),
  ].map((role) => {
    role.metadata.description = BUILTIN_DESCRIPTIONS[role.metadata.name]
    return [role.metadata.name, deepFreeze(role)] as const
  }),
)

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

export function isBuiltinRole(name: string): boolean {
  return BUILTIN_ROLES.has(name)
}
