// ~/.tsh/known_hosts: one "@cert-authority" line per host CA key of each cluster, which both
// OpenSSH (through `tsh config`) and tsh itself read to trust the cluster's host certificates:
//
//   @cert-authority proxy.example.com,example.com,*.example.com ssh-ed25519 AAAA... type=host

export interface KnownHostsEntry {
  patterns: string[]
  /** "ssh-ed25519 AAAA..." */
  key: string
}

/** The lines that trust `caKeys` for a cluster reached through `proxyHost`. */
export function certAuthorityLines(proxyHost: string, cluster: string, caKeys: string[]): string[] {
  const patterns = [...new Set([proxyHost, cluster, `*.${cluster}`])].join(',')
  return caKeys.map((k) => `@cert-authority ${patterns} ${k.trim().split(/\s+/).slice(0, 2).join(' ')} type=host`)
}

export function parseCertAuthorityLine(line: string): KnownHostsEntry | undefined {
  const parts = line.trim().split(/\s+/)
  if (parts[0] !== '@cert-authority' || parts.length < 4) return undefined
  return {patterns: parts[1]!.split(','), key: `${parts[2]} ${parts[3]}`}
}

function belongsTo(entry: KnownHostsEntry, cluster: string): boolean {
  return entry.patterns.includes(`*.${cluster}`)
}

/** Replaces the cluster's @cert-authority lines with new ones; every other line is kept as it was. */
export function mergeKnownHosts(existing: string, proxyHost: string, cluster: string, caKeys: string[]): string {
  const kept = existing.split('\n').filter((line) => {
    if (!line.trim()) return false
    const entry = parseCertAuthorityLine(line)
    return !(entry && belongsTo(entry, cluster))
  })
  return [...kept, ...certAuthorityLines(proxyHost, cluster, caKeys)].join('\n') + '\n'
}

/** Host CA keys ("ssh-ed25519 AAAA...") trusted for a cluster. */
export function hostCAsOf(knownHosts: string, cluster: string): string[] {
  const out: string[] = []
  for (const line of knownHosts.split('\n')) {
    const entry = parseCertAuthorityLine(line)
    if (entry && belongsTo(entry, cluster) && !out.includes(entry.key)) out.push(entry.key)
  }
  return out
}
