import {Args} from '@oclif/core'
import {BaseCommand} from './base-command.js'
import {toCommandInfo} from './command-tree.js'
import {completionScript, type Shell} from './completion.js'

// `completion bash|zsh` for every tool. A factory, not a base class: oclif reads a command's
// args from the class's own properties, so each tool gets a class of its own.
export function makeCompletionCommand() {
  return class Completion extends BaseCommand {
    static override summary = 'Print a shell completion script.'
    static override description =
      'Prints a bash or zsh script that completes commands, flags and flag values.\n' +
      'Load it in every new shell by adding the source line of the examples to ~/.bashrc or ~/.zshrc.'
    static override examples = [
      "echo 'source <(<%= config.bin %> completion bash)' >> ~/.bashrc",
      "echo 'source <(<%= config.bin %> completion zsh)' >> ~/.zshrc",
    ]
    static override args = {shell: Args.string({description: 'bash or zsh', options: ['bash', 'zsh'], required: true})}

    async run(): Promise<void> {
      const {args} = await this.parse(Completion)
      const commands = this.config.commands.filter((c) => !c.hidden).map((c) => toCommandInfo(this.config.bin, c))
      this.out(completionScript(args.shell as Shell, this.config.bin, commands))
    }
  }
}
