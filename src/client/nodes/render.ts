import {renderTable} from '../../lib/output.js'
import {safeText} from '../../lib/safe-text.js'
import type {NodeInfo} from '../../api/auth-api.js'
import {formatLabels, nodeLabels, sortNodes} from './labels.js'

// What `tsh ls` prints, as pure functions of the node list.

export const TUNNEL_ADDRESS = '⟵ Tunnel'

export function nodeAddress(node: Pick<NodeInfo, 'addr' | 'tunnel'>): string {
  return node.tunnel ? TUNNEL_ADDRESS : node.addr
}

/** `OpenSSH` for a registered plain sshd, `Teleport` for our nodes. */
export function nodeType(node: Pick<NodeInfo, 'subKind'>): string {
  return node.subKind === 'openssh' ? 'OpenSSH' : 'Teleport'
}

/**
 * `Node Name | Address | Labels`; verbose adds the node ID and type after the name and the sessions open on
 * each node before the labels (`sessions` by host id; left empty when unknown: not allowed to see).
 */
export function nodesText(nodes: readonly NodeInfo[], options: {verbose?: boolean; sessions?: ReadonlyMap<string, number>} = {}): string {
  const {sessions} = options
  const rows = sortNodes(nodes).map((n) => {
    const labels = formatLabels(nodeLabels(n))
    return options.verbose ? [n.hostname, n.name, nodeType(n), nodeAddress(n), sessions ? String(sessions.get(n.name) ?? 0) : '', labels] : [n.hostname, nodeAddress(n), labels]
  })
  const headers = options.verbose ? ['Node Name', 'Node ID', 'Type', 'Address', 'Sessions', 'Labels'] : ['Node Name', 'Address', 'Labels']
  return renderTable(headers, rows)
}

/** `-f names`: one host name per line. */
export function nodesNames(nodes: readonly NodeInfo[]): string {
  return sortNodes(nodes)
    .map((n) => safeText(n.hostname) + '\n')
    .join('')
}

/**
 * The `-f json|yaml` view of nodes, for tsh and tctl alike: sorted, snake_case like Teleport's
 * JSON; `labels` as the node set them, `all_labels` with command labels merged (what the table
 * shows and roles match).
 */
export function nodesData(nodes: readonly NodeInfo[]): object[] {
  return sortNodes(nodes).map((n) => ({
    name: n.name,
    hostname: n.hostname,
    addr: n.addr,
    ...(n.tunnel ? {tunnel: true} : {}),
    ...(n.subKind ? {sub_kind: n.subKind} : {}),
    labels: n.labels ?? {},
    cmd_labels: n.cmdLabels ?? {},
    all_labels: nodeLabels(n),
    version: n.version,
    ...(n.expires ? {expires: n.expires} : {}),
  }))
}
