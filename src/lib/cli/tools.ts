// The three tools behind the one entrypoint, and the names the entrypoint may be invoked as.

export type ToolName = 'tsh' | 'tctl' | 'teleport'

export const TOOLS: Record<ToolName, {summary: string}> = {
  tsh: {summary: "Teleport's client: log in to a cluster and reach its nodes over SSH."},
  tctl: {summary: "Teleport's admin tool: manage users, roles, join tokens, nodes and the cluster's certificate authorities."},
  teleport: {summary: 'The Teleport daemon: runs the auth, proxy and node services in any combination.'},
}

/** Multi-call aliases: invoked through a link with this name, act as this tool command. */
const ALIASES: Record<string, {tool: ToolName; prefix: string[]}> = {
  ssh: {tool: 'tsh', prefix: ['ssh']},
  scp: {tool: 'tsh', prefix: ['scp']},
}

export function isToolName(name: string): name is ToolName {
  return Object.hasOwn(TOOLS, name)
}

/**
 * Decide which tool runs from the name the process was invoked as.
 * Invoked under its own file name (`node bin/run.js tsh ...`), the first argument names the tool.
 */
export function resolvePersonality(invokedAs: string, argv: string[]): {tool: ToolName; argv: string[]} | undefined {
  const name = invokedAs.replace(/\.(c|m)?js$/, '')
  if (isToolName(name)) return {tool: name, argv}
  const alias = ALIASES[name]
  if (alias) return {tool: alias.tool, argv: [...alias.prefix, ...argv]}
  const [first, ...rest] = argv
  if (first && isToolName(first)) return {tool: first, argv: rest}
  return undefined
}
