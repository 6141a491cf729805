import type {AdminAuthApi, JoinTokenInfo, NodeInfo, OpenSSHNodeSpec, ProxyInfo} from '../api/auth-api.js'
import {openSSHNodeFromResource} from '../services/models/node.js'
import {parseJoinRoles} from '../services/models/join-token.js'
import {lockFromResource, type Lock} from '../services/models/lock.js'
import {lineOfField, parseResources, type Resource} from '../services/models/resource.js'
import {validateRole, type Role} from '../services/models/role.js'
import {userFromResource, userToResource} from '../services/models/user.js'
import {AlreadyExistsError, BadParameterError, NotFoundError, UsageError, UserError} from '../lib/errors.js'

// Resources for `tctl get`, `tctl create` and `tctl rm`: references (`role/admin`, `users`),
// fetching them as resources, and a create that checks every document before applying any.

export type RefKind = 'role' | 'user' | 'token' | 'node' | 'lock' | 'proxy'
/** Proxies announce themselves and remove their records when they stop: printed, never removed by hand. */
export type RmKind = Exclude<RefKind, 'proxy'>

export interface ResourceRef {
  kind: RefKind
  /** Absent: every resource of the kind. */
  name?: string
}

const KIND_WORDS: Record<string, RefKind> = {
  role: 'role',
  roles: 'role',
  user: 'user',
  users: 'user',
  token: 'token',
  tokens: 'token',
  node: 'node',
  nodes: 'node',
  lock: 'lock',
  locks: 'lock',
  proxy: 'proxy',
  proxies: 'proxy',
}

export const GET_FORMS = 'roles, role/<name>, users, user/<name>, tokens, token/<token>, nodes, node/<uuid>, locks, lock/<id>, proxies, proxy/<uuid>'
export const RM_FORMS = 'role/<name>, user/<name>, token/<token>, node/<uuid> or lock/<id>'

/** `roles`, `role/admin`, several separated by commas. */
export function parseGetRefs(text: string): ResourceRef[] {
  const refs = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((part) => {
      const slash = part.indexOf('/')
      const word = (slash < 0 ? part : part.slice(0, slash)).toLowerCase()
      const name = slash < 0 ? undefined : part.slice(slash + 1)
      const kind = KIND_WORDS[word]
      if (!kind || name === '') throw new UsageError(`invalid resource reference ${JSON.stringify(part)}; expected ${GET_FORMS}`)
      return name === undefined ? {kind} : {kind, name}
    })
  if (refs.length === 0) throw new UsageError(`a resource reference is required; expected ${GET_FORMS}`)
  return refs
}

/** `role/<name>`, `user/<name>`, `token/<token>`, `node/<uuid>` or `lock/<id>`. */
export function parseRmRef(text: string): {kind: RmKind; name: string} {
  const slash = text.indexOf('/')
  const kind = slash > 0 ? KIND_WORDS[text.slice(0, slash).toLowerCase()] : undefined
  const name = slash > 0 ? text.slice(slash + 1) : ''
  if (!kind || kind === 'proxy' || name === '') throw new UsageError(`invalid resource reference ${JSON.stringify(text)}; expected ${RM_FORMS}`)
  return {kind, name}
}

export function tokenToResource(t: JoinTokenInfo): Resource<{roles: string[]; static?: boolean}> {
  return {
    kind: 'token',
    version: 'v2',
    metadata: {name: t.token, ...(t.expires ? {expires: t.expires} : {})},
    spec: {roles: [...t.roles], ...(t.static ? {static: true} : {})},
  }
}

export function nodeToResource(n: NodeInfo): Resource {
  return {
    kind: 'node',
    ...(n.subKind ? {sub_kind: n.subKind} : {}),
    version: 'v2',
    metadata: {name: n.name, ...(Object.keys(n.labels ?? {}).length ? {labels: n.labels} : {}), ...(n.expires ? {expires: n.expires} : {})},
    spec: {
      hostname: n.hostname,
      addr: n.addr,
      version: n.version,
      ...(Object.keys(n.cmdLabels ?? {}).length ? {cmd_labels: n.cmdLabels} : {}),
      ...(n.tunnel ? {use_tunnel: true} : {}),
    },
  }
}

/** Teleport's `proxy` resource: what a proxy announces of itself. */
export function proxyToResource(p: ProxyInfo): Resource {
  return {
    kind: 'proxy',
    version: 'v2',
    metadata: {name: p.name, expires: p.expires},
    spec: {hostname: p.hostname, addr: p.addr, public_addr: p.publicAddr, version: p.version},
  }
}

/** Only the envelope: whatever else a server might send never reaches the output. */
function roleResource(role: Role): Resource {
  return {kind: 'role', version: role.version, metadata: role.metadata, spec: role.spec}
}

function lockResource(lock: Lock): Resource {
  return {kind: 'lock', version: lock.version, metadata: lock.metadata, spec: lock.spec}
}

export async function fetchResources(api: AdminAuthApi, refs: ResourceRef[]): Promise<Resource[]> {
  const out: Resource[] = []
  for (const ref of refs) {
    switch (ref.kind) {
      case 'role':
        if (ref.name) out.push(roleResource(await api.getRole(ref.name)))
        else out.push(...(await api.listRoles()).sort(byName).map(roleResource))
        break
      case 'user':
        if (ref.name) out.push(userToResource(await api.getUser(ref.name)))
        else out.push(...(await api.listUsers()).sort(byName).map(userToResource))
        break
      case 'token': {
        const tokens = await api.listTokens()
        if (ref.name) {
          const found = tokens.find((t) => t.token === ref.name)
          if (!found) throw new NotFoundError('join token not found')
          out.push(tokenToResource(found))
        } else out.push(...tokens.map(tokenToResource))
        break
      }
      case 'lock':
        if (ref.name) out.push(lockResource(await api.getLock(ref.name)))
        else out.push(...(await api.listLocks()).map(lockResource))
        break
      case 'node': {
        const nodes = await api.listNodes()
        if (ref.name) {
          const found = nodes.find((n) => n.name === ref.name || n.hostname === ref.name)
          if (!found) throw new NotFoundError(`node ${JSON.stringify(ref.name)} is not found`)
          out.push(nodeToResource(found))
        } else out.push(...nodes.sort((a, b) => a.hostname.localeCompare(b.hostname)).map(nodeToResource))
        break
      }
      case 'proxy': {
        const proxies = await api.listProxies()
        if (ref.name) {
          const found = proxies.find((p) => p.name === ref.name || p.hostname === ref.name)
          if (!found) throw new NotFoundError(`proxy ${JSON.stringify(ref.name)} is not found`)
          out.push(proxyToResource(found))
        } else out.push(...proxies.map(proxyToResource))
        break
      }
    }
  }
  return out
}

function byName<T extends {name?: string; metadata?: {name: string}}>(a: T, b: T): number {
  return (a.name ?? a.metadata?.name ?? '').localeCompare(b.name ?? b.metadata?.name ?? '')
}

// ---- tctl create ----------------------------------------------------------------------------

export type PlannedResource =
  | {kind: 'role'; name: string; role: Role}
  | {kind: 'user'; name: string; user: {name: string; roles: string[]; traits: Record<string, string[]>}}
  | {kind: 'token'; name: string; token: {roles: string[]; expires?: string}}
  | {kind: 'lock'; name: string; lock: Lock}
  | {kind: 'node'; name: string; node: OpenSSHNodeSpec}

/**
 * Parses and validates every document of a `tctl create` file; nothing touches the cluster.
 * Errors name the file (and the document when there are several).
 */
export function planCreate(text: string, source: string): PlannedResource[] {
  const resources = parseResources(text, {source})
  const seen = new Set<string>()
  return resources.map((resource, index) => {
    const at = resources.length > 1 ? `${source}: document ${index + 1}: ` : `${source}: `
    const key = `${resource.kind}/${resource.metadata.name}`
    if (seen.has(key)) throw new BadParameterError(`${at}${resource.kind} ${JSON.stringify(resource.metadata.name)} appears more than once in the file`)
    seen.add(key)
    try {
      return planOne(resource)
    } catch (err) {
      if (!(err instanceof UserError)) throw err
      // A field the check names is found in the file, so the message can say on which line.
      const field = /\b(spec(?:\.[A-Za-z_]+|\[\d+\])+)/.exec(err.message)?.[1]
      const line = field ? lineOfField(text, index, field) : undefined
      throw new BadParameterError(`${at}${line ? `line ${line}: ` : ''}${err.message}`, {hint: err.hint})
    }
  })
}

function planOne(resource: Resource): PlannedResource {
  const name = resource.metadata.name
  switch (resource.kind) {
    case 'role':
      return {kind: 'role', name, role: validateRole(resource)}
    case 'user':
      return {kind: 'user', name, user: userFromResource(resource)}
    case 'token': {
      if (resource.version !== 'v2') throw new BadParameterError(`token: unsupported version ${JSON.stringify(resource.version)}; expected v2`)
      const spec = resource.spec as Record<string, unknown>
      for (const key of Object.keys(spec)) {
        // `static` is what `tctl get tokens` writes for config-file tokens; it is output only.
        if (key !== 'roles' && key !== 'static') throw new BadParameterError(`token: spec.${key}: unknown field; expected roles`)
      }
      if (!Array.isArray(spec.roles) || spec.roles.length === 0) throw new BadParameterError('token: spec.roles: expected a list such as [node]')
      const roles = parseJoinRoles(spec.roles.map(String).join(","))
      return {kind: 'token', name, token: {roles, ...(resource.metadata.expires ? {expires: resource.metadata.expires} : {})}}
    }
    case 'lock':
      return {kind: 'lock', name, lock: lockFromResource(resource)}
    case 'node':
      return {kind: 'node', name, node: openSSHNodeFromResource(resource)}
    default:
      throw new BadParameterError(`unknown resource kind ${JSON.stringify(resource.kind)}`)
  }
}

/**
 * Checks the plan against the cluster: without `force` nothing may exist yet; users' roles must
 * exist or come from the same file; tokens must not be expired. Throws before anything is applied.
 */
export async function checkCreate(api: AdminAuthApi, plan: PlannedResource[], source: string, force: boolean, now = new Date()): Promise<Set<string>> {
  const existing = new Set<string>()
  const needs = (kind: string) => plan.some((p) => p.kind === kind)
  const roleNames = needs('role') || needs('user') ? new Set((await api.listRoles()).map((r) => r.metadata.name)) : new Set<string>()
  const userNames = needs('user') ? new Set((await api.listUsers()).map((u) => u.name)) : new Set<string>()
  const tokens = needs('token') ? new Set((await api.listTokens()).map((t) => t.token)) : new Set<string>()
  const locks = needs('lock') ? new Set((await api.listLocks()).map((l) => l.metadata.name)) : new Set<string>()
  const nodes = needs('node') ? new Set((await api.listNodes()).map((n) => n.name)) : new Set<string>()
  for (const [i, p] of plan.entries()) {
    const at = plan.length > 1 ? `${source}: document ${i + 1}: ` : `${source}: `
    const exists = {role: roleNames, user: userNames, token: tokens, lock: locks, node: nodes}[p.kind].has(p.name)
    if (exists) {
      if (!force) throw new AlreadyExistsError(`${p.kind} ${JSON.stringify(p.name)} already exists`, {hint: 'use --force to overwrite it'})
      existing.add(`${p.kind}/${p.name}`)
    }
    if (p.kind === 'user') {
      for (const role of p.user.roles) {
        if (!roleNames.has(role) && !plan.some((q) => q.kind === 'role' && q.name === role)) {
          throw new BadParameterError(`${at}user ${JSON.stringify(p.name)}: role ${JSON.stringify(role)} is not found`, {hint: 'list roles with "tctl get roles"'})
        }
      }
    }
    if (p.kind === 'token' && p.token.expires && new Date(p.token.expires) <= now) {
      throw new BadParameterError(`${at}token: metadata.expires is in the past`)
    }
    if (p.kind === 'lock' && p.lock.spec.expires && new Date(p.lock.spec.expires) <= now) {
      throw new BadParameterError(`${at}lock: spec.expires is in the past`)
    }
  }
  return existing
}

/** Applies a checked plan: roles first (users may need them), then users, tokens, locks. */
export async function applyCreate(api: AdminAuthApi, plan: PlannedResource[], existing: Set<string>, force: boolean, now = () => new Date()): Promise<string[]> {
  const order: Record<PlannedResource['kind'], number> = {role: 0, user: 1, token: 2, lock: 3, node: 4}
  const messages: string[] = []
  for (const p of [...plan].sort((a, b) => order[a.kind] - order[b.kind])) {
    const updated = existing.has(`${p.kind}/${p.name}`)
    switch (p.kind) {
      case 'role':
        await api.upsertRole(p.role, {create: !force})
        break
      case 'user':
        await api.upsertUser(p.user, {create: !force})
        break
      case 'token': {
        if (updated) await api.deleteToken(p.name)
        const ttlMs = p.token.expires ? new Date(p.token.expires).getTime() - now().getTime() : undefined
        await api.addToken({roles: p.token.roles, token: p.name, ...(ttlMs !== undefined ? {ttlMs} : {})})
        break
      }
      case 'lock':
        await api.upsertLock(p.lock)
        break
      case 'node':
        await api.registerOpenSSHNode(p.name, p.node, {create: !force})
        break
    }
    messages.push(`${p.kind} ${JSON.stringify(p.name)} has been ${updated ? 'updated' : 'created'}`)
  }
  return messages
}
