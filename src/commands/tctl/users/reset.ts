import {Args} from '@oclif/core'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {formatFlag, renderData} from '../../../lib/output.js'
import {withAuth} from '../../../tctl/connect.js'
import {authFlags} from '../../../tctl/flags.js'
import {userResetMessage} from '../../../tctl/render.js'

export default class UsersReset extends BaseCommand {
  static override summary = 'Reset a user\'s password and second factor.'
  static override description =
    'Removes the user\'s password and second-factor device at once and prints a reset URL (valid for 8h) on the proxy where the user sets new ones.'
  static override examples = ['<%= config.bin %> users reset alice']
  static override args = {name: Args.string({description: 'User name', required: true})}
  static override flags = {format: formatFlag(), ...authFlags}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(UsersReset)
    const reset = await withAuth(flags, (api) => api.resetUser(args.name))
    this.out(renderData(flags.format, {user: reset.user, url: reset.url, expires: reset.expires, proxy_addr: reset.proxyAddr}, () => userResetMessage(args.name, reset)))
  }
}
