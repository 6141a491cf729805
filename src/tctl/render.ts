import type {ClusterStatus, JoinTokenInfo, NodeInfo, UserTokenInfo} from '../api/auth-api.js'
import {lockTargetString, type Lock} from '../services/models/lock.js'
import {formatLabels, nodeLabels} from '../services/models/node.js'
import type {User} from '../services/models/user.js'
import {renderTable} from '../lib/output.js'
import {safeText} from '../lib/safe-text.js'
import {formatDuration} from '../services/duration.js'

// The text tctl prints, as pure functions of the data (unit-tested without a cluster).

/** "1h", "8h", "15m", "1h30m": a remaining time rounded to the minute, as people say it. */
export function humanDuration(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000))
  if (minutes === 0) return `${Math.max(0, Math.round(ms / 1000))}s`
  const h = Math.floor(minutes / 60)
  const m = minutes % 60
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}`
}

function validFor(expires: string, now: Date): string {
  return humanDuration(new Date(expires).getTime() - now.getTime())
}

function proxyNote(proxyAddr: string): string {
  return proxyAddr
    ? `NOTE: Make sure ${proxyAddr} points at a Teleport proxy which users can access.\n`
    : 'NOTE: no proxy address is known to the auth service; replace the host in the URL with one that points at a Teleport proxy which users can access.\n'
}

/** `tctl users add`. */
export function userCreatedMessage(name: string, invite: UserTokenInfo, now = new Date()): string {
  return (
    `User ${JSON.stringify(name)} has been created but requires a password. Share this URL with the user to complete user setup, link is valid for ${validFor(invite.expires, now)}:\n` +
    `${invite.url}\n\n` +
    proxyNote(invite.proxyAddr)
  )
}

/** `tctl users reset`. */
export function userResetMessage(name: string, reset: UserTokenInfo, now = new Date()): string {
  return (
    `User ${JSON.stringify(name)} has been reset. Share this URL with the user to complete password reset, link is valid for ${validFor(reset.expires, now)}:\n` +
    `${reset.url}\n\n` +
    proxyNote(reset.proxyAddr)
  )
}

/** `tctl users ls --format json|yaml` (and the user `users add` prints): Teleport's snake_case. */
export function userData(u: User): Record<string, unknown> {
  return {name: u.name, roles: u.roles, traits: u.traits, created_at: u.createdAt, ...(u.locked ? {locked: {until: u.locked.until, reason: u.locked.reason}} : {})}
}

export function usersTable(users: User[]): string {
  const rows = [...users]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((u) => [u.name, u.roles.join(','), (u.traits.logins ?? []).join(','), u.locked ? `locked until ${u.locked.until}` : ''])
  const withStatus = rows.some((r) => r[3])
  return withStatus ? renderTable(['User', 'Roles', 'Logins', 'Status'], rows) : renderTable(['User', 'Roles', 'Logins'], rows.map((r) => r.slice(0, 3)))
}

export interface TokenAdded {
  token: string
  roles: string[]
  expires?: string
  /** How many hosts may join with it (each once, for all of its roles). */
  uses: number
  caPins: string[]
  authServer: string
}

/** Minutes left, rounded: "This token will expire in 15 minutes." */
export function minutesLeft(expires: string | undefined, now: Date): number | undefined {
  if (!expires) return undefined
  return Math.max(0, Math.round((new Date(expires).getTime() - now.getTime()) / 60_000))
}

function usesLine(uses: number): string {
  return `This token can be used ${uses === 1 ? 'once' : `${uses} times`}.\n`
}

function expiryPhrase(expires: string | undefined, now: Date): string {
  const minutes = minutesLeft(expires, now)
  if (minutes === undefined) return 'never expire'
  return `expire in ${minutes} minute${minutes === 1 ? '' : 's'}`
}

/** `tctl tokens add`: the text REFERENCE.md shows. */
export function tokenAddedMessage(t: TokenAdded, now = new Date()): string {
  const hostRoles = t.roles.filter((r) => r !== 'trusted_cluster')
  if (hostRoles.length === 0) {
    return (
      `The cluster invite token: ${t.token}\n` +
      `This token will ${expiryPhrase(t.expires, now)}.\n` +
      usesLine(t.uses) +
      '\n' +
      'Use this token when defining a trusted cluster resource on a remote cluster.\n'
    )
  }
  const pins = t.caPins.map((pin) => `   --ca-pin=${pin} \\\n`).join('')
  return (
    `The invite token: ${t.token}\n` +
    `This token will ${expiryPhrase(t.expires, now)}.\n` +
    usesLine(t.uses) +
    '\n' +
    'Run this on the new node to join the cluster:\n\n' +
    '> teleport start \\\n' +
    `   --roles=${hostRoles.join(',')} \\\n` +
    `   --token=${t.token} \\\n` +
    pins +
    `   --auth-server=${t.authServer}\n\n` +
    'Please note:\n\n' +
    `  - This invitation token will ${expiryPhrase(t.expires, now)}\n` +
    `  - ${t.authServer} must be reachable from the new node\n`
  )
}

/** `tctl tokens add --format json|yaml`. */
export function tokenAddedData(t: TokenAdded): Record<string, unknown> {
  return {token: t.token, roles: t.roles, expires: t.expires ?? null, uses: t.uses, ca_pins: t.caPins, auth_server: t.authServer}
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** Go's time.RFC822 in UTC, as the reference prints token expiry: "21 Nov 26 17:00 UTC". */
export function rfc822(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${p(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${p(date.getUTCFullYear() % 100)} ${p(date.getUTCHours())}:${p(date.getUTCMinutes())} UTC`
}

/** `tctl tokens ls --format json|yaml`. */
export function tokensData(tokens: JoinTokenInfo[]): Record<string, unknown>[] {
  return tokens.map((t) => ({token: t.token, roles: t.roles, expires: t.expires ?? null, static: t.static, ...(t.usesLeft !== undefined ? {uses_left: t.usesLeft} : {})}))
}

export function tokensTable(tokens: JoinTokenInfo[]): string {
  if (tokens.length === 0) return 'No active tokens found.\n'
  // The auth service's order: static tokens (config order), then dynamic ones soonest first.
  const rows = tokens.map((t) => [t.token, t.roles.join(','), t.expires ? rfc822(new Date(t.expires)) : 'never'])
  return renderTable(['Token', 'Type', 'Expiry Time (UTC)'], rows)
}

export function nodesTable(nodes: NodeInfo[]): string {
  const rows = [...nodes]
    .sort((a, b) => a.hostname.localeCompare(b.hostname) || a.name.localeCompare(b.name))
    .map((n) => [n.hostname, n.name, n.tunnel && !n.addr ? '⟵ Tunnel' : n.addr, formatLabels(nodeLabels(n)), n.version])
  return renderTable(['Host', 'UUID', 'Public Address', 'Labels', 'Version'], rows)
}

/** `name: value` lines with the values aligned. */
export function renderPairs(pairs: Array<[string, string]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length + 1))
  return pairs.map(([k, v]) => `${(k + ':').padEnd(width)} ${safeText(v)}`.trimEnd()).join('\n') + '\n'
}

/** `tctl status --format json|yaml`. */
export function statusData(s: ClusterStatus): Record<string, unknown> {
  return {
    cluster_name: s.clusterName,
    server_version: s.serverVersion,
    ca_pins: s.caPins,
    authorities: s.authorities.map((a) => ({
      type: a.type,
      fingerprints: a.fingerprints,
      rotation_phase: a.rotationPhase,
      ...(a.pins ? {pins: a.pins} : {}),
      ...(a.rotation
        ? {
            rotation: {
              state: a.rotation.state,
              mode: a.rotation.mode,
              ...(a.rotation.started ? {started: a.rotation.started} : {}),
              ...(a.rotation.gracePeriodMs ? {grace_period: formatDuration(a.rotation.gracePeriodMs)} : {}),
              ...(a.rotation.lastRotated ? {last_rotated: a.rotation.lastRotated} : {}),
              ...(a.rotation.schedule ? {schedule: {update_clients: a.rotation.schedule.updateClients, update_servers: a.rotation.schedule.updateServers, standby: a.rotation.schedule.standby}} : {}),
            },
          }
        : {}),
    })),
    counts: s.counts,
  }
}

export function statusText(s: ClusterStatus): string {
  const pairs: Array<[string, string]> = [
    ['Cluster', s.clusterName],
    ['Version', s.serverVersion],
    ['CA pin', s.caPins.join(', ')],
  ]
  for (const type of ['user', 'host'] as const) {
    const ca = s.authorities.find((a) => a.type === type)
    if (!ca) continue
    const label = `${type === 'user' ? 'User' : 'Host'} CA`
    pairs.push([label, `${ca.fingerprints.join(', ')} (rotation: ${ca.rotationPhase})`])
    // While rotating: how far (Teleport's words), and the pin of each key trusted, the signing one first.
    if (ca.rotation?.state === 'in_progress') {
      const grace = ca.rotation.gracePeriodMs ? `, grace period ${formatDuration(ca.rotation.gracePeriodMs)}` : ''
      const next = ca.rotation.schedule ? `, next phase at ${nextScheduled(ca.rotationPhase, ca.rotation.schedule)}` : ''
      pairs.push([`${label} rotation`, `in progress (${ca.rotation.mode}), current phase: "${ca.rotationPhase}", started ${ca.rotation.started ?? '?'}${grace}${next}`])
      if (ca.pins) pairs.push([`${label} pins`, ca.pins.join(', ')])
    }
  }
  pairs.push(['Users', String(s.counts.users)], ['Roles', String(s.counts.roles)], ['Nodes', String(s.counts.nodes)], ['Tokens', String(s.counts.tokens)])
  return renderPairs(pairs)
}

function nextScheduled(phase: string, schedule: {updateClients: string; updateServers: string; standby: string}): string {
  return phase === 'init' ? schedule.updateClients : phase === 'update_clients' ? schedule.updateServers : schedule.standby
}

/** What `tctl auth rotate` prints for each CA moved (Teleport's line). */
export function rotatedMessage(done: {type: string; phase: string}[]): string {
  const phases = [...new Set(done.map((d) => d.phase))]
  const to = phases.length === 1 ? `"${phases[0]}"` : done.map((d) => `"${d.phase}" (${d.type} CA)`).join(', ')
  return `Updated rotation phase to ${to}. To check status use 'tctl status'`
}

/** "ssh-ed25519 AAAA..." without any comment. */
function bareKey(line: string): string {
  return line.trim().split(/\s+/).slice(0, 2).join(' ')
}

/**
 * `tctl auth export`: the user CA as plain public key lines (a file sshd's TrustedUserCAKeys
 * reads), the host CA as known_hosts lines for any host name (`@cert-authority * ...`).
 */
export function caExportText(keys: {user: string[]; host: string[]}, type?: 'user' | 'host'): string {
  const lines: string[] = []
  if (type !== 'host') lines.push(...keys.user.map(bareKey))
  if (type !== 'user') lines.push(...keys.host.map((k) => `@cert-authority * ${bareKey(k)} type=host`))
  return lines.map((l) => l + '\n').join('')
}

/** `tctl get locks --format text`: Teleport's lock table. */
export function locksTable(locks: Lock[]): string {
  return renderTable(['ID', 'Target', 'Message', 'Expires'], locks.map((l) => [l.metadata.name, lockTargetString(l.spec.target), l.spec.message ?? '', l.spec.expires ?? 'never']))
}

/** `tctl lock`. */
export function lockCreatedMessage(lock: Lock): string {
  return `Created a lock with name ${JSON.stringify(lock.metadata.name)}.\n`
}
