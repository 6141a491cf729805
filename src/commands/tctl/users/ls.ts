import {BaseCommand} from '../../../lib/cli/base-command.js'
import {formatFlag, renderData} from '../../../lib/output.js'
import {withAuth} from '../../../tctl/connect.js'
import {authFlags} from '../../../tctl/flags.js'
import {userData, usersTable} from '../../../tctl/render.js'

export default class UsersLs extends BaseCommand {
  static override summary = 'List users.'
  static override description = 'Lists the cluster\'s local users with their roles and logins, sorted by name. Locked users show when the lock ends.'
  static override examples = ['<%= config.bin %> users ls', '<%= config.bin %> users ls --format json']
  static override flags = {format: formatFlag(), ...authFlags}

  async run(): Promise<void> {
    const {flags} = await this.parse(UsersLs)
    const users = await withAuth(flags, (api) => api.listUsers())
    this.out(renderData(flags.format, users.map(userData), () => usersTable(users)))
  }
}
