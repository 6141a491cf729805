import {safeText} from '../lib/safe-text.js'
import type {ParsedCert} from '../sshca/parse.js'
import {parseCert} from '../sshca/parse.js'
import type {KeyStore} from './key-store.js'
import {formatUtc, isExpired, type Profile} from './profile.js'
import {proxyHostOf} from './proxy-addr.js'

// `tsh status`: what each profile's certificate says, active profile first and marked "> ".

export interface ProfileStatus {
  name: string
  active: boolean
  profileUrl: string
  username: string
  cluster: string
  roles: string[]
  traits: Record<string, string[]>
  logins: string[]
  /** null: a certificate without expiry. */
  validUntil: Date | null
  expired: boolean
  extensions: string[]
}

export function profileStatus(name: string, profile: Profile, cert: ParsedCert, active: boolean, now: Date): ProfileStatus {
  return {
    name,
    active,
    profileUrl: `https://${profile.webProxyAddr}`,
    username: profile.user,
    cluster: profile.cluster,
    roles: [...cert.roles].sort(),
    traits: cert.traits,
    logins: cert.principals,
    validUntil: cert.validBefore,
    expired: isExpired(cert, now),
    // teleport-roles / -traits / -route-to-cluster are tsh's own business, not the user's.
    extensions: Object.keys(cert.extensions).filter((e) => !e.startsWith('teleport-')).sort(),
  }
}

/** Every profile with a readable certificate, the active one first, then by name. */
export function collectStatus(store: KeyStore, now: Date = new Date()): ProfileStatus[] {
  const current = store.currentProfile()
  const out: ProfileStatus[] = []
  for (const name of store.profileNames()) {
    const profile = store.readProfile(name)
    if (!profile) continue
    const key = store.readKey(proxyHostOf(profile.webProxyAddr), profile.user, profile.cluster)
    if (!key?.certificate) continue
    let cert: ParsedCert
    try {
      cert = parseCert(key.certificate)
    } catch {
      continue
    }
    out.push(profileStatus(name, profile, cert, name === current, now))
  }
  return out.sort((a, b) => Number(b.active) - Number(a.active) || a.name.localeCompare(b.name))
}

/** Go's time.Duration String() for whole seconds: "12h0m0s", "59m59s", "5s". */
export function goDuration(ms: number): string {
  let s = Math.max(0, Math.round(ms / 1000))
  const h = Math.floor(s / 3600)
  s -= h * 3600
  const m = Math.floor(s / 60)
  s -= m * 60
  if (h > 0) return `${h}h${m}m${s}s`
  if (m > 0) return `${m}m${s}s`
  return `${s}s`
}

const label = (text: string) => text.padEnd(20)

export function renderProfile(p: ProfileStatus, now: Date = new Date()): string {
  let valid: string
  if (p.validUntil === null) valid = 'never expires'
  else if (p.expired) valid = `${formatUtc(p.validUntil)} [EXPIRED]`
  else valid = `${formatUtc(p.validUntil)} [valid for ${goDuration(p.validUntil.getTime() - now.getTime())}]`
  const rows: [string, string][] = [
    ['Profile URL:', p.profileUrl],
    ['Logged in as:', p.username],
    ['Cluster:', p.cluster],
    ['Roles:', p.roles.join(', ')],
    ['Logins:', p.logins.join(', ')],
    ['Valid until:', valid],
    ['Extensions:', p.extensions.join(', ')],
  ]
  return rows.map(([k, v], i) => `${i === 0 && p.active ? '> ' : '  '}${label(k)}${safeText(v)}`.trimEnd()).join('\n') + '\n'
}

export function renderStatus(profiles: ProfileStatus[], now: Date = new Date()): string {
  if (profiles.length === 0) return 'Not logged in.\n'
  return profiles.map((p) => renderProfile(p, now)).join('\n')
}

/** --format json|yaml: Teleport's field names. */
export function statusData(profiles: ProfileStatus[]): {active: Record<string, unknown> | null; profiles: Record<string, unknown>[]} {
  const view = (p: ProfileStatus) => ({
    profile_url: p.profileUrl,
    username: p.username,
    cluster: p.cluster,
    roles: p.roles,
    traits: p.traits,
    logins: p.logins,
    valid_until: p.validUntil ? p.validUntil.toISOString() : null,
    expired: p.expired,
    extensions: p.extensions,
  })
  const active = profiles.find((p) => p.active)
  return {active: active ? view(active) : null, profiles: profiles.filter((p) => !p.active).map(view)}
}
