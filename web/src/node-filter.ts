import type {WebNode} from '../../src/api/web-ui-routes.js'

// The node list's search box: words separated by spaces, all of which must match. A word with
// `=` is a label filter (`env=prod`: the label env is prod; `env=`: the node has a label env);
// any other word matches, ignoring case, part of the hostname, address, id or a label.

export function matchesNode(node: WebNode, search: string): boolean {
  return search
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .every((word) => {
      const eq = word.indexOf('=')
      if (eq > 0) {
        const [name, value] = [word.slice(0, eq), word.slice(eq + 1)]
        return node.labels.some((l) => l.name === name && (value === '' || l.value === value))
      }
      const text = word.toLowerCase()
      return [node.hostname, node.addr, node.id, ...node.labels.map((l) => `${l.name}=${l.value}`)].some((s) => s.toLowerCase().includes(text))
    })
}
