// The names a joining host may have in its certificate (its node name and extra principals).
// A host certificate is trusted for every name in it, so a joiner may not name what belongs to
// the cluster (teleport.cluster.local, the cluster name, the proxy's address) nor use wildcards;
// that it names no other host's id is checked against the host ids (AuthServer.register). `tctl auth sign --host` (an admin) is not limited by this.
import {isIP} from 'node:net'
import {BadParameterError} from '../lib/errors.js'

export const MAX_JOINER_PRINCIPALS = 32
const DNS_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i

export interface JoinerNames {
  nodeName: string
  additionalPrincipals: string[]
  clusterName: string
  /** Names only another kind of host may hold (the proxy's public host, for a node). */
  reserved: string[]
}

/** The host ids a principal could stand for: `<id>` and `<id>.<cluster>` both name host <id>. */
export function hostIdCandidates(name: string, clusterName: string): string[] {
  const suffix = '.' + clusterName
  return name.endsWith(suffix) ? [name, name.slice(0, -suffix.length)] : [name]
}

/** The principals the joiner asked for, deduplicated; BadParameterError naming the first bad one. */
export function checkJoinerPrincipals(names: JoinerNames): string[] {
  const extra = [...new Set(names.additionalPrincipals)]
  if (extra.length > MAX_JOINER_PRINCIPALS) throw new BadParameterError(`a joining host may ask for at most ${MAX_JOINER_PRINCIPALS} additional principals, not ${extra.length}`)
  for (const [field, name] of [['node name', names.nodeName], ...extra.map((p) => ['principal', p])] as const) {
    const why = principalProblem(name, names)
    if (why) throw new BadParameterError(`${field} ${JSON.stringify(name.slice(0, 64))} ${why}`, {hint: 'a host may be named by DNS names and IP addresses of its own'})
  }
  return extra
}

function principalProblem(name: string, names: JoinerNames): string | undefined {
  if (name.includes('*') || name.includes('?')) return 'is a wildcard'
  if (isIP(name)) return undefined
  if (name.length === 0 || name.length > 253 || !name.split('.').every((label) => DNS_LABEL.test(label))) return 'is not a DNS name or IP address'
  const lower = name.toLowerCase()
  const within = (domain: string) => lower === domain || lower.endsWith('.' + domain)
  if (within('teleport.cluster.local')) return 'is reserved for the cluster\'s own services'
  if (lower === names.clusterName.toLowerCase()) return 'is the cluster name'
  if (names.reserved.some((r) => r.toLowerCase() === lower)) return 'belongs to another service of the cluster'
  return undefined
}
