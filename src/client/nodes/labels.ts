import {UsageError} from '../../lib/errors.js'
import type {NodeInfo} from '../../api/auth-api.js'

// Node labels as tsh shows and matches them: static labels plus the current value of each
// command label, and `k=v,...` selectors (`tsh ls env=prod`, `tsh ssh root@env=prod uptime`).

export type LabelSelector = Record<string, string>

/** A host argument holding `=` selects nodes by label instead of naming one. */
export function isLabelSelector(host: string): boolean {
  return host.includes('=')
}

/** `env=prod,team=db` (also as separate arguments: `env=prod team=db`). */
export function parseLabelSelector(texts: string | readonly string[]): LabelSelector {
  const selector: LabelSelector = {}
  const parts = (typeof texts === 'string' ? [texts] : texts).flatMap((t) => t.split(','))
  for (const part of parts) {
    const trimmed = part.trim()
    if (trimmed === '') continue
    const eq = trimmed.indexOf('=')
    if (eq <= 0) throw new UsageError(`"${trimmed}" is not a label selector`, {hint: 'write labels as key=value, separated by commas'})
    selector[trimmed.slice(0, eq).trim()] = trimmed.slice(eq + 1).trim()
  }
  return selector
}

/** Static labels and command label results together (a command label wins a name clash, as in Teleport). */
export function allNodeLabels(node: Pick<NodeInfo, 'labels' | 'cmdLabels'>): Record<string, string> {
  const labels: Record<string, string> = {...node.labels}
  for (const [key, value] of Object.entries(node.cmdLabels ?? {})) labels[key] = value.result
  return labels
}

/** Every selector label must be on the node with exactly that value. An empty selector matches all. */
export function matchesSelector(node: Pick<NodeInfo, 'labels' | 'cmdLabels'>, selector: LabelSelector): boolean {
  const labels = allNodeLabels(node)
  return Object.entries(selector).every(([key, value]) => Object.hasOwn(labels, key) && labels[key] === value)
}

/** `k=v` pairs sorted by key, comma-joined. */
export function formatLabels(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',')
}

/** By host name, then node ID (host names need not be unique). */
export function sortNodes<T extends Pick<NodeInfo, 'hostname' | 'name'>>(nodes: readonly T[]): T[] {
  return [...nodes].sort((a, b) => cmp(a.hostname, b.hostname) || cmp(a.name, b.name))
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
