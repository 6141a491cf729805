import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {UsageError} from '../../../lib/errors.js'
import {withAuth} from '../../../tctl/connect.js'
import {authFlags, splitList} from '../../../tctl/flags.js'

export default class UsersUpdate extends BaseCommand {
  static override summary = 'Change a user\'s roles or logins.'
  static override description =
    'Replaces the user\'s roles (--set-roles) and/or SSH logins (--set-logins); the password and second factor are kept. ' +
    'Certificates already issued keep their old roles until they expire.'
  static override examples = ['<%= config.bin %> users update alice --set-roles=access,editor', '<%= config.bin %> users update alice --set-logins=alice,ubuntu']
  static override args = {name: Args.string({description: 'User name', required: true})}
  static override flags = {
    'set-roles': Flags.string({description: 'Comma-separated roles replacing the current ones'}),
    'set-logins': Flags.string({description: 'Comma-separated OS logins replacing the current ones (an empty value removes them all)'}),
    ...authFlags,
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(UsersUpdate)
    if (flags['set-roles'] === undefined && flags['set-logins'] === undefined) throw new UsageError('nothing to change: give --set-roles and/or --set-logins')
    const roles = flags['set-roles'] === undefined ? undefined : splitList(flags['set-roles'])
    if (roles && roles.length === 0) throw new UsageError('--set-roles needs at least one role')
    const logins = flags['set-logins'] === undefined ? undefined : splitList(flags['set-logins'])
    const updated = await withAuth(flags, async (api) => {
      const user = await api.getUser(args.name)
      const traits = {...user.traits}
      if (logins) {
        if (logins.length) traits.logins = logins
        else delete traits.logins
      }
      return api.upsertUser({name: user.name, roles: roles ?? user.roles, traits})
    })
    let text = `User ${JSON.stringify(updated.name)} has been updated:\n`
    if (roles) text += `\tNew roles: ${updated.roles.join(',')}\n`
    if (logins) text += `\tNew logins: ${(updated.traits.logins ?? []).join(',')}\n`
    this.out(text)
  }
}
