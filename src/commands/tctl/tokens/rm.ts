import {Args} from '@oclif/core'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {withAuth} from '../../../tctl/connect.js'
import {authFlags} from '../../../tctl/flags.js'

export default class TokensRm extends BaseCommand {
  static override summary = 'Delete a join token.'
  static override description = 'Deletes a dynamic join token so no new host can join with it. Hosts that already joined keep their certificates. Static tokens are removed from the config file instead.'
  static override examples = ['<%= config.bin %> tokens rm 0123456789abcdef0123456789abcdef']
  static override args = {token: Args.string({description: 'The token value', required: true})}
  static override flags = {...authFlags}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(TokensRm)
    await withAuth(flags, (api) => api.deleteToken(args.token))
    this.out(`Token ${args.token} has been deleted\n`)
  }
}
