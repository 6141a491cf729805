import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {Command, Config, Interfaces, Plugin, run} from '@oclif/core'
import {compareCodeUnits} from '../compare.js'
import {UsageError} from '../errors.js'
import {commandWordCount, helpBelongsToRemote, hoistLeadingFlags} from './global-flags.js'
import {debugRequested, reportError} from './handle-error.js'
import {resolvePersonality, TOOLS, type ToolName} from './tools.js'

// The multi-call entrypoint. One package, one oclif.manifest.json holding every command under
// its tool's prefix ("tsh:proxy:ssh"); at start we load only the invoked tool's commands with
// the prefix removed, and name the CLI after the tool, so help, usage lines, errors and
// completion all read as `tsh ...`, never `teleport tsh ...`.

type Manifest = Interfaces.Manifest

/** Each command's module by full id ("tsh:proxy:ssh"), imported only when that command runs. */
export type CommandModules = Record<string, () => Promise<{default: Command.Class}>>

/** The root plugin, narrowed to one tool's commands. */
class ToolPlugin extends Plugin {
  constructor(
    opts: Interfaces.PluginOptions,
    private readonly tool: ToolName,
    private readonly commandModules?: CommandModules,
  ) {
    super(opts)
  }

  /**
   * The command's own module, from the map bin/run.js passes. A root without one (the nested-topic
   * test fixture, whose package.json finds commands by file pattern) leaves it to oclif.
   */
  private async loadCommand(id: string): Promise<Command.Class> {
    const load = this.commandModules?.[`${this.tool}:${id}`]
    if (!load) return this.findCommand(id, {must: true})
    const command = (await load()).default
    command.id = id
    command.plugin = this
    return command
  }

  override async load(): Promise<void> {
    await super.load()
    if (!this.hasManifest) {
      throw new Error(`oclif.manifest.json is missing under ${this.root}; run "npm run build"`)
    }
    const prefix = `${this.tool}:`
    const commands: Manifest['commands'] = {}
    for (const [id, command] of Object.entries(this.manifest.commands)) {
      if (!id.startsWith(prefix)) continue
      const localId = id.slice(prefix.length)
      commands[localId] = {...command, id: localId, aliases: command.aliases.map((a) => a.replace(prefix, '')), hiddenAliases: (command.hiddenAliases ?? []).map((a) => a.replace(prefix, ''))}
    }
    this.manifest = {...this.manifest, commands}
    this.commandIDs = Object.keys(commands)
    this.commands = Object.values(commands)
      .map((c) => ({...c, load: async () => this.loadCommand(c.id), pluginAlias: this.alias, pluginType: this.type}))
      .sort((a, b) => compareCodeUnits(a.id, b.id))
  }
}

/**
 * A tool's rewrite of its command line before oclif parses it (tsh's aliases), given the tool's
 * command ids; {exitCode} when it ran the command itself.
 */
export type ArgvHook = (argv: string[], commandIds: readonly string[]) => Promise<{argv: string[]} | {exitCode: number}>

export interface EntryOptions {
  /** Package root holding package.json and oclif.manifest.json. */
  root: string
  /** The name the process was invoked as (basename of argv[1]). */
  invokedAs: string
  argv: string[]
  /** Where each command's class is imported from (the bundle's COMMAND_MODULES). */
  commandModules?: CommandModules
  /** Per tool; only that tool's runs call it. */
  argvHooks?: Partial<Record<ToolName, ArgvHook>>
}

/** Options from which oclif builds the config of one tool (the plugin loaded once, here). */
async function toolConfigOptions(root: string, tool: ToolName, commandModules?: CommandModules): Promise<{options: Interfaces.LoadOptions; commandIds: string[]; passThroughIds: Set<string>}> {
  const pjson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as Interfaces.PJSON
  const toolPjson = {
    ...pjson,
    oclif: {
      ...pjson.oclif,
      bin: tool,
      dirname: 'teleport',
      description: rootDescription(tool),
      // Ours, whichever package root holds the commands (oclif resolves these against the root).
      helpClass: relativeToRoot(root, './help.js'),
      hooks: {command_not_found: relativeToRoot(root, './not-found-hook.js')},
      plugins: [],
      topics: toolTopics(pjson.oclif.topics ?? {}, tool),
    },
  } as Interfaces.PJSON
  const plugin = new ToolPlugin({root, isRoot: true, pjson: toolPjson, type: 'core'}, tool, commandModules)
  await plugin.load()
  const passThroughIds = new Set(plugin.commands.filter((c) => c.strict === false).map((c) => c.id))
  return {options: {root, pjson: toolPjson, plugins: new Map([[plugin.name, plugin]])}, commandIds: plugin.commandIDs, passThroughIds}
}

/** package.json names topics with their tool prefix ("tctl:users"); each tool sees its own, unprefixed. */
function toolTopics(topics: Record<string, {description?: string}>, tool: ToolName): Record<string, {description?: string}> {
  const prefix = `${tool}:`
  return Object.fromEntries(Object.entries(topics).filter(([name]) => name.startsWith(prefix)).map(([name, topic]) => [name.slice(prefix.length), topic]))
}

function relativeToRoot(root: string, sibling: string): string {
  return path.relative(root, fileURLToPath(new URL(sibling, import.meta.url)))
}

export async function loadToolConfig(root: string, tool: ToolName): Promise<Config> {
  return Config.load((await toolConfigOptions(root, tool)).options)
}

/** First line: the summary; the rest becomes the root help's DESCRIPTION section. */
function rootDescription(tool: ToolName): string {
  return [
    TOOLS[tool].summary,
    `Run "${tool} COMMAND --help" for a command's flags and examples; "man ${tool}" for the manual.`,
    '',
    'Shell completion:',
    `  bash: echo 'source <(${tool} completion bash)' >> ~/.bashrc`,
    `  zsh:  echo 'source <(${tool} completion zsh)' >> ~/.zshrc`,
  ].join('\n')
}

export async function main(opts: EntryOptions): Promise<number> {
  const debug = debugRequested(opts.argv)
  try {
    const personality = resolvePersonality(opts.invokedAs, opts.argv)
    if (!personality) {
      throw new UsageError(`run this program as tsh, tctl or teleport (invoked as "${opts.invokedAs}")`, {
        hint: 'for example: node bin/run.js tsh --help',
      })
    }
    let argv = personality.argv
    // `tsh --version` answers like `tsh version`, in the tool's own voice.
    if (argv[0] === '--version' || argv[0] === '-v') argv = ['version', ...argv.slice(1)]
    const {options, commandIds, passThroughIds} = await toolConfigOptions(opts.root, personality.tool, opts.commandModules)
    const hook = opts.argvHooks?.[personality.tool]
    if (hook) {
      const rewritten = await hook(argv, commandIds)
      if ('exitCode' in rewritten) return rewritten.exitCode
      argv = rewritten.argv
    }
    argv = hoistLeadingFlags(personality.tool, argv, commandIds)
    const words = commandWordCount(argv, commandIds)
    const id = argv.slice(0, words).join(':')
    if (words > 0 && passThroughIds.has(id) && helpBelongsToRemote(argv.slice(words))) {
      // oclif shows help for --help anywhere before `--`; here it is the remote command's flag.
      await (await Config.load(options)).runCommand(id, argv.slice(words))
    } else {
      await run(argv, options)
    }
    return 0
  } catch (err) {
    return reportError(err, debug)
  }
}
