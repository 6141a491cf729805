import {UsageError} from '../../lib/errors.js'

// Label selectors, `k=v[,k=v]` (REFERENCE.md): `tsh ls env=prod`, `tsh ssh root@env=prod` and the
// proxy's node lookup all read them here. A host holding `=` is a selector; every selector label
// must be on the node with exactly that value; an empty selector matches every node.

export type LabelSelector = Record<string, string>

export function isLabelSelector(host: string): boolean {
  return host.includes('=')
}

/** `env=prod,team=db` (also as separate arguments: `env=prod team=db`); empty parts are skipped. */
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

/** The selector a host names; undefined when it names a host instead, or is not a valid selector. */
export function selectorOfHost(host: string): LabelSelector | undefined {
  if (!isLabelSelector(host)) return undefined
  try {
    return parseLabelSelector(host)
  } catch {
    return undefined
  }
}

/** `labels` are a node's static and command labels together (nodeLabels). */
export function matchesSelector(labels: Record<string, string>, selector: LabelSelector): boolean {
  return Object.entries(selector).every(([key, value]) => Object.hasOwn(labels, key) && labels[key] === value)
}
