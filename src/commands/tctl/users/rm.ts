import {Args} from '@oclif/core'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {UsageError} from '../../../lib/errors.js'
import {withAuth} from '../../../tctl/connect.js'
import {authFlags, splitList} from '../../../tctl/flags.js'

export default class UsersRm extends BaseCommand {
  static override summary = 'Delete users.'
  static override description = 'Deletes one or more users (comma-separated). They cannot log in again, and their certificates are refused at once: the auth API, proxies and nodes refuse them and end their running sessions within seconds.'
  static override examples = ['<%= config.bin %> users rm alice', '<%= config.bin %> users rm alice,bob']
  static override args = {names: Args.string({description: 'User name, or several separated by commas', required: true})}
  static override flags = {...authFlags}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(UsersRm)
    const names = splitList(args.names)
    if (names.length === 0) throw new UsageError('a user name is required')
    await withAuth(flags, async (api) => {
      for (const name of names) {
        await api.deleteUser(name)
        this.out(`User ${JSON.stringify(name)} has been deleted\n`)
      }
    })
  }
}
