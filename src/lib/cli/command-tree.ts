import type {Command} from '@oclif/core'

// The command tree of one tool as the user types it ("proxy ssh"), shared by the completion
// scripts and the man pages so both always match the commands that exist.

export interface FlagInfo {
  name: string
  char?: string
  summary?: string
  options?: string[]
  takesValue: boolean
  helpGroup?: string
  default?: unknown
}

export interface CommandInfo {
  /** Words after the tool name, e.g. "proxy ssh". */
  path: string
  summary: string
  description?: string
  usage: string
  examples: string[]
  flags: FlagInfo[]
  args: {name: string; description?: string; required?: boolean}[]
}

type CachedCommand = Command.Cached | Command.Loadable

export function toCommandInfo(bin: string, command: CachedCommand): CommandInfo {
  const path = command.id.split(':').join(' ')
  const flags: FlagInfo[] = Object.values(command.flags ?? {})
    .filter((f) => !f.hidden)
    .map((f) => ({
      name: f.name,
      char: f.char,
      summary: f.summary ?? f.description,
      options: f.type === 'option' && f.options ? [...f.options] : undefined,
      takesValue: f.type === 'option',
      helpGroup: f.helpGroup,
      default: f.default,
    }))
  flags.push({name: 'help', summary: 'Show help for this command', takesValue: false, helpGroup: 'GLOBAL'})
  const args = Object.values(command.args ?? {}).map((a) => ({name: a.name, description: a.description, required: a.required}))
  const usageParts = [bin, path, ...args.map((a) => (a.required ? a.name.toUpperCase() : `[${a.name.toUpperCase()}]`))]
  if (flags.length > 1) usageParts.push('[FLAGS]')
  const render = (s: string) => s.replaceAll('<%= config.bin %>', bin).replaceAll('<%= command.id %>', path)
  const examples = (command.examples ?? []).map((e) => render(typeof e === 'string' ? e : e.command))
  const summary = command.summary ?? command.description?.split('\n')[0] ?? ''
  return {path, summary: render(summary), description: command.description && render(command.description), usage: usageParts.join(' '), examples, flags, args}
}

/** Child words under a path: subtopics and commands. "" is the tool's root. */
export function childrenByPath(commands: CommandInfo[]): Map<string, Map<string, string>> {
  const children = new Map<string, Map<string, string>>()
  for (const command of commands) {
    const words = command.path.split(' ')
    for (let i = 0; i < words.length; i++) {
      const parent = words.slice(0, i).join(' ')
      const map = children.get(parent) ?? new Map<string, string>()
      const isLeaf = i === words.length - 1
      if (isLeaf || !map.has(words[i])) map.set(words[i], isLeaf ? command.summary : `${words.slice(0, i + 1).join(' ')} commands`)
      children.set(parent, map)
    }
  }
  return children
}
