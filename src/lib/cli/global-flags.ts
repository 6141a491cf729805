import type {ToolName} from './tools.js'

// Where argv's words go. Flags that, as with Teleport's tools, may come before the command (`tctl -c f users ls`,
// `tsh --proxy=p ls`). oclif only parses flags after the command, so they are moved there.

/** Global flags that take a value, per tool (both spellings). Others are boolean. */
const VALUED: Record<ToolName, string[]> = {
  tsh: ['--proxy', '--user', '-l', '--login', '--ttl', '-c', '--cluster', '--add-keys-to-agent'],
  tctl: ['-c', '--config', '--auth-server', '-i', '--identity'],
  teleport: ['-c', '--config'],
}

/**
 * Moves flags placed before the command to just after the command's words (never to the end,
 * where `tsh ssh host cmd` would pass them to the remote command).
 */
export function hoistLeadingFlags(tool: ToolName, argv: string[], commandIds: readonly string[]): string[] {
  const leading: string[] = []
  let i = 0
  while (i < argv.length && argv[i].startsWith('-') && argv[i] !== '--') {
    const arg = argv[i]
    if (arg === '--help' || arg === '-h' || arg === '--version') return argv
    leading.push(arg)
    if (!arg.includes('=') && VALUED[tool].includes(arg) && i + 1 < argv.length) leading.push(argv[++i])
    i++
  }
  if (leading.length === 0) return argv
  const rest = argv.slice(i)
  const words = commandWordCount(rest, commandIds)
  if (words === 0) return argv
  return [...rest.slice(0, words), ...leading, ...rest.slice(words)]
}

/** How many leading words of argv name a command ("proxy ssh host" → 2); 0 for none. */
export function commandWordCount(argv: string[], commandIds: readonly string[]): number {
  const ids = new Set(commandIds)
  let words = 0
  for (let k = 1; k <= argv.length; k++) if (ids.has(argv.slice(0, k).join(':'))) words = k
  return words
}

/**
 * For pass-through commands (`tsh ssh host cmd --help`): true when a help flag belongs to the
 * remote command, i.e. comes after the first positional argument; oclif would show help.
 */
export function helpBelongsToRemote(args: string[]): boolean {
  const positional = args.findIndex((a) => !a.startsWith('-'))
  if (positional < 0) return false
  const help = args.findIndex((a) => a === '--help' || a === '-h')
  const separator = args.indexOf('--')
  return help > positional && (separator < 0 || help < separator)
}
