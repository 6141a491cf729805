import {BaseCommand} from '../../../lib/cli/base-command.js'
import {formatFlag, renderData} from '../../../lib/output.js'
import {withAuth} from '../../../tctl/connect.js'
import {authFlags} from '../../../tctl/flags.js'
import {tokensData, tokensTable} from '../../../tctl/render.js'

export default class TokensLs extends BaseCommand {
  static override summary = 'List join tokens.'
  static override description =
    'Lists the join tokens that are valid now: static ones from the config file (auth_service.tokens, shown as expiring "never") and dynamic ones from "tokens add" that have uses left, soonest to expire first (--format json shows the uses left).'
  static override examples = ['<%= config.bin %> tokens ls', '<%= config.bin %> tokens ls --format yaml']
  static override flags = {format: formatFlag(), ...authFlags}

  async run(): Promise<void> {
    const {flags} = await this.parse(TokensLs)
    const tokens = await withAuth(flags, (api) => api.listTokens())
    this.out(renderData(flags.format, tokensData(tokens), () => tokensTable(tokens)))
  }
}
