// Role-based access control: may this user log in as `login` on a node with these labels, what
// goes into their certificate, and may they perform `verb` on a resource kind (or on one
// resource, for rules with a `where`) through the API.
import {AccessDeniedError, BadParameterError} from '../lib/errors.js'
import {parseDuration} from './duration.js'
import type {LabelSelector, Role, RoleRule} from './roles.js'
import {DEFAULT_ROLE_OPTIONS} from './roles.js'
import {compiledWhere, whereHolds, type WhereContext} from './models/rule-where.js'
import {formatLabels} from './models/node.js'
import {expandAll, expandTemplate, type Traits} from './traits.js'

export interface AccessDecision {
  allowed: boolean
  /** Why, for the audit log: names the role and the rule that decided. */
  reason: string
  /** The role that allowed (or denied) access, when one did. */
  role?: string
  /** Refused only for want of the resource a rule's `where` looks at: allowed for some resources. */
  conditional?: true
}

/** The message users see when node access is refused. */
export const NODE_ACCESS_DENIED = 'access to server denied'
export const NO_LOGINS = 'this user cannot create SSH sessions, has no allowed logins'

export const DEFAULT_CERT_TTL_MS = 12 * 3_600_000
export const MIN_CERT_TTL_MS = 60_000

// ---- label matching -------------------------------------------------------------------------

const compiled = new Map<string, RegExp>()

function patternRegExp(pattern: string): RegExp {
  let re = compiled.get(pattern)
  if (!re) {
    if (pattern.startsWith('^') && pattern.endsWith('$')) re = new RegExp(pattern, 'u')
    else re = new RegExp('^' + pattern.split('*').map(escapeRegExp).join('.*') + '$', 'su')
    if (compiled.size > 10_000) compiled.clear()
    compiled.set(pattern, re)
  }
  return re
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

/** One selector value against one label value: literal, `*` (anything), glob with `*`, or `^...$` regex. */
export function matchLabelValue(pattern: string, value: string): boolean {
  if (pattern === '*') return true
  if (!pattern.includes('*') && !(pattern.startsWith('^') && pattern.endsWith('$'))) return pattern === value
  try {
    return patternRegExp(pattern).test(value)
  } catch {
    return false // an invalid pattern (validated roles never hold one) matches nothing
  }
}

/**
 * A label selector against a node's labels: an empty selector matches nothing; `'*': '*'` matches
 * every node; otherwise every key must exist on the node with a value matching one listed value.
 * Selector values may hold trait templates, expanded from `traits` (an unknown trait matches nothing).
 */
export function matchLabels(selector: LabelSelector, labels: Record<string, string>, traits: Traits = {}): boolean {
  const keys = Object.keys(selector)
  if (keys.length === 0) return false
  const wildcard = selector['*']
  if (wildcard && wildcard.length === 1 && wildcard[0] === '*') return true
  for (const key of keys) {
    if (!Object.hasOwn(labels, key)) return false
    const value = labels[key]!
    const patterns = selector[key]!.flatMap((p) => expandTemplate(p, traits))
    if (!patterns.some((p) => matchLabelValue(p, value))) return false
  }
  return true
}

// ---- logins ---------------------------------------------------------------------------------

// A trait value becomes an OS login only if it could be one.
// eslint-disable-next-line no-control-regex
const BAD_LOGIN = /[\s\u0000-\u001f\u007f]/

function logins(values: readonly string[], traits: Traits): string[] {
  return expandAll(values, traits).filter((login) => !BAD_LOGIN.test(login))
}

// ---- node access ----------------------------------------------------------------------------

export interface NodeAccessRequest {
  roles: readonly Role[]
  traits: Traits
  login: string
  /** Static labels merged with command-label results. */
  nodeLabels: Record<string, string>
}

/**
 * The reference rule: first any role whose deny matches (deny node_labels match the node OR the
 * login is in deny logins) refuses; then some single role must allow both the node's labels and
 * the login. Never throws; see assertAccessToNode.
 */
export function checkAccessToNode({roles, traits, login, nodeLabels}: NodeAccessRequest): AccessDecision {
  for (const role of roles) {
    const name = role.metadata.name
    const deny = role.spec.deny
    if (logins(deny.logins, traits).includes(login)) {
      return {allowed: false, role: name, reason: `role ${JSON.stringify(name)} denies login ${JSON.stringify(login)}`}
    }
    if (matchLabels(deny.node_labels, nodeLabels, traits)) {
      return {allowed: false, role: name, reason: `role ${JSON.stringify(name)} denies access to nodes with labels ${describeLabels(nodeLabels)}`}
    }
  }
  const loginRoles: string[] = []
  const labelRoles: string[] = []
  for (const role of roles) {
    const name = role.metadata.name
    const allowsLogin = logins(role.spec.allow.logins, traits).includes(login)
    const allowsLabels = matchLabels(role.spec.allow.node_labels, nodeLabels, traits)
    if (allowsLogin && allowsLabels) {
      return {allowed: true, role: name, reason: `role ${JSON.stringify(name)} allows login ${JSON.stringify(login)} on nodes with labels ${describeLabels(nodeLabels)}`}
    }
    if (allowsLogin) loginRoles.push(name)
    if (allowsLabels) labelRoles.push(name)
  }
  let reason: string
  if (loginRoles.length === 0 && labelRoles.length === 0) {
    reason = `no role allows login ${JSON.stringify(login)} or matches node labels ${describeLabels(nodeLabels)}`
  } else if (loginRoles.length === 0) {
    reason = `no role allows login ${JSON.stringify(login)} (node labels matched by ${quoteList(labelRoles)})`
  } else if (labelRoles.length === 0) {
    reason = `no role's node_labels match labels ${describeLabels(nodeLabels)} (login allowed by ${quoteList(loginRoles)})`
  } else {
    reason = `no single role allows both login ${JSON.stringify(login)} (allowed by ${quoteList(loginRoles)}) and node labels ${describeLabels(nodeLabels)} (matched by ${quoteList(labelRoles)})`
  }
  return {allowed: false, reason}
}

/** checkAccessToNode, throwing AccessDeniedError("access to server denied") when refused. */
export function assertAccessToNode(request: NodeAccessRequest): AccessDecision {
  const decision = checkAccessToNode(request)
  if (!decision.allowed) throw new AccessDeniedError(NODE_ACCESS_DENIED, {cause: decision.reason})
  return decision
}

/** Whether a node shows up for this user at all (`tsh ls`): labels only, whatever the login. */
export function canSeeNode({roles, traits, nodeLabels}: Omit<NodeAccessRequest, 'login'>): boolean {
  if (roles.some((role) => matchLabels(role.spec.deny.node_labels, nodeLabels, traits))) return false
  return roles.some((role) => matchLabels(role.spec.allow.node_labels, nodeLabels, traits))
}

// ---- user certificates ----------------------------------------------------------------------

export interface UserCertRequest {
  user: {name: string; traits?: Traits}
  roles: readonly Role[]
  /** Absent or 0: the default (12h). */
  requestedTtlMs?: number
  clusterName: string
  /** The client's address as auth saw it; required when a role pins the source IP. */
  clientAddr?: string
}

export interface UserCertParams {
  username: string
  principals: string[]
  ttlMs: number
  permitAgentForwarding: boolean
  permitPortForwarding: boolean
  permitX11Forwarding: boolean
  /** A role pins the source IP: the certificate gets critical option source-address. */
  pinSourceIp: boolean
  /** The address to pin, when pinSourceIp. */
  sourceAddress?: string
  roles: string[]
  traits: Traits
  routeToCluster: string
}

/**
 * What a user certificate carries. principals = union of allow.logins (traits expanded) minus
 * any deny login; TTL = requested or 12h, capped by the smallest max_session_ttl, at least 1m;
 * a permission extension when any role allows it. AccessDeniedError when no logins remain.
 */
export function computeUserCertParams({user, roles, requestedTtlMs, clusterName, clientAddr}: UserCertRequest): UserCertParams {
  const traits = user.traits ?? {}
  if (requestedTtlMs !== undefined && (!Number.isFinite(requestedTtlMs) || requestedTtlMs < 0)) {
    throw new BadParameterError(`invalid certificate TTL ${requestedTtlMs}: expected a positive duration`)
  }
  const denied = new Set(roles.flatMap((role) => logins(role.spec.deny.logins, traits)))
  const principals = [...new Set(roles.flatMap((role) => logins(role.spec.allow.logins, traits)))].filter((l) => !denied.has(l))
  if (principals.length === 0) throw new AccessDeniedError(NO_LOGINS)

  const maxTtl = Math.min(...roles.map((role) => roleMaxSessionTtlMs(role)))
  const wanted = requestedTtlMs ? requestedTtlMs : DEFAULT_CERT_TTL_MS
  const ttlMs = Math.max(Math.min(wanted, maxTtl), MIN_CERT_TTL_MS)

  const pinSourceIp = roles.some((role) => role.spec.options.pin_source_ip === true)
  const params: UserCertParams = {
    username: user.name,
    principals,
    ttlMs,
    permitAgentForwarding: roles.some((role) => role.spec.options.forward_agent === true),
    permitPortForwarding: roles.some((role) => role.spec.options.port_forwarding !== false),
    permitX11Forwarding: roles.some((role) => role.spec.options.permit_x11_forwarding === true),
    pinSourceIp,
    roles: roles.map((role) => role.metadata.name),
    traits,
    routeToCluster: clusterName,
  }
  if (pinSourceIp) {
    if (!clientAddr) throw new AccessDeniedError('source IP pinning is enabled for this user but the client address is unknown')
    params.sourceAddress = clientAddr
  }
  return params
}

/** A role's max_session_ttl in ms (30h when unset). */
export function roleMaxSessionTtlMs(role: Role): number {
  const text = role.spec.options?.max_session_ttl || DEFAULT_ROLE_OPTIONS.max_session_ttl
  const ms = parseDuration(text)
  return ms > 0 ? ms : parseDuration(DEFAULT_ROLE_OPTIONS.max_session_ttl)
}

// ---- API resources --------------------------------------------------------------------------

function ruleApplies(rule: RoleRule, resource: string, verb: string): boolean {
  return (rule.resources.includes('*') || rule.resources.includes(resource)) && (rule.verbs.includes('*') || rule.verbs.includes(verb))
}

/** A rule's condition in `context`: true without one; undefined when it needs what the context lacks. */
function ruleHolds(rule: RoleRule, context: WhereContext): boolean | undefined {
  return rule.where === undefined ? true : whereHolds(compiledWhere(rule.where), context)
}

function ruleText(verb: string, resource: string, rule: RoleRule): string {
  return `${verb} on ${resource}${rule.where === undefined ? '' : ` where ${rule.where}`}`
}

/**
 * May these roles perform `verb` on resources of kind `resource`? Deny rules win. A rule with a
 * `where` counts only where its condition holds in `context` (the user, and the resource asked
 * about). Without the resource in the context a condition on it is unknown: such an allow does not
 * allow, such a deny denies, and the refusal is `conditional` — allowed for some resources, not
 * all: ask again with each one. Without any context this is "allowed for every resource?".
 */
export function checkResourceAccess(roles: readonly Role[], resource: string, verb: string, context: WhereContext = {}): AccessDecision {
  let unknownDeny: {name: string; rule: RoleRule} | undefined
  for (const role of roles) {
    for (const rule of role.spec.deny.rules) {
      if (!ruleApplies(rule, resource, verb)) continue
      const holds = ruleHolds(rule, context)
      const name = role.metadata.name
      if (holds === true) return {allowed: false, role: name, reason: `role ${JSON.stringify(name)} denies ${ruleText(verb, resource, rule)}`}
      if (holds === undefined) unknownDeny ??= {name, rule}
    }
  }
  let unknownAllow: {name: string; rule: RoleRule} | undefined
  const unmet: string[] = []
  for (const role of roles) {
    for (const rule of role.spec.allow.rules) {
      if (!ruleApplies(rule, resource, verb)) continue
      const holds = ruleHolds(rule, context)
      const name = role.metadata.name
      if (holds === true && unknownDeny === undefined) return {allowed: true, role: name, reason: `role ${JSON.stringify(name)} allows ${ruleText(verb, resource, rule)}`}
      if (holds === false) unmet.push(`role ${JSON.stringify(name)} allows it only where ${rule.where}`)
      else unknownAllow ??= {name, rule} // its own condition unknown, or an unknown deny may override it
    }
  }
  if (unknownDeny !== undefined && unknownAllow !== undefined) {
    return {allowed: false, conditional: true, role: unknownDeny.name, reason: `role ${JSON.stringify(unknownDeny.name)} denies ${ruleText(verb, resource, unknownDeny.rule)}`}
  }
  if (unknownAllow !== undefined) {
    return {allowed: false, conditional: true, role: unknownAllow.name, reason: `role ${JSON.stringify(unknownAllow.name)} allows only ${ruleText(verb, resource, unknownAllow.rule)}`}
  }
  return {allowed: false, reason: `no role allows ${verb} on ${resource}${unmet.length > 0 ? ` here: ${unmet.join('; ')}` : ''}`}
}

/** checkResourceAccess, throwing AccessDeniedError(`access denied to perform action "create" on "user"`). */
export function assertResourceAccess(roles: readonly Role[], resource: string, verb: string): AccessDecision {
  const decision = checkResourceAccess(roles, resource, verb)
  if (!decision.allowed) {
    throw new AccessDeniedError(`access denied to perform action ${JSON.stringify(verb)} on ${JSON.stringify(resource)}`, {cause: decision.reason})
  }
  return decision
}

// ---- formatting -----------------------------------------------------------------------------

function describeLabels(labels: Record<string, string>): string {
  return Object.keys(labels).length === 0 ? '(none)' : formatLabels(labels)
}

function quoteList(names: string[]): string {
  return names.map((n) => JSON.stringify(n)).join(', ')
}
