import {matchesSelector as matchesLabels, type LabelSelector} from '../../services/models/label-selector.js'
import {nodeLabels} from '../../services/models/node.js'
import type {NodeInfo} from '../../api/auth-api.js'
import {compareCodeUnits} from '../../lib/compare.js'

// Node labels as tsh shows and matches them: static labels plus the current value of each
// command label, and `k=v,...` selectors (`tsh ls env=prod`, `tsh ssh root@env=prod uptime`).

export {isLabelSelector, parseLabelSelector, type LabelSelector} from '../../services/models/label-selector.js'
export {formatLabels, nodeLabels} from '../../services/models/node.js'

/** Every selector label must be on the node with exactly that value. An empty selector matches all. */
export function matchesSelector(node: Pick<NodeInfo, 'labels' | 'cmdLabels'>, selector: LabelSelector): boolean {
  return matchesLabels(nodeLabels(node), selector)
}

/** By host name, then node ID (host names need not be unique). */
export function sortNodes<T extends Pick<NodeInfo, 'hostname' | 'name'>>(nodes: readonly T[]): T[] {
  return [...nodes].sort((a, b) => compareCodeUnits(a.hostname, b.hostname) || compareCodeUnits(a.name, b.name))
}
