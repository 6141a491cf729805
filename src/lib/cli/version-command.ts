import {BaseCommand} from './base-command.js'
import {formatFlag, renderData} from '../output.js'
import {versionInfo, versionLine} from '../version.js'

// `version` for every tool; a factory for the reason given in completion-command.ts.
export function makeVersionCommand() {
  return class Version extends BaseCommand {
    static override summary = 'Print the version.'
    static override description = 'Prints the product version and the runtime it runs on.'
    static override examples = ['<%= config.bin %> version', '<%= config.bin %> version --format json']
    static override flags = {format: formatFlag()}

    async run(): Promise<void> {
      const {flags} = await this.parse(Version)
      const info = versionInfo()
      this.out(renderData(flags.format, info, () => versionLine(info) + '\n'))
    }
  }
}
