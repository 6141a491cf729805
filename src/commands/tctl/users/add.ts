import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {UsageError} from '../../../lib/errors.js'
import {formatFlag, renderData} from '../../../lib/output.js'
import {withAuth} from '../../../tctl/connect.js'
import {authFlags, splitList} from '../../../tctl/flags.js'
import {userCreatedMessage, userData} from '../../../tctl/render.js'

export default class UsersAdd extends BaseCommand {
  static override summary = 'Create a user and print a sign-up link.'
  static override description =
    'Creates a local user with the given roles and SSH logins, and prints an invite URL (valid for 1h) on the proxy where the user sets a password and enrolls a second factor.\n' +
    'The logins become the user\'s "logins" trait, which the built-in "access" role expands through {{internal.logins}}.'
  static override examples = [
    '<%= config.bin %> users add alice --roles=access --logins=root,alice',
    '<%= config.bin %> users add bob --roles=access,editor --logins=bob --format json',
  ]
  static override args = {name: Args.string({description: 'User name', required: true})}
  static override flags = {
    roles: Flags.string({description: 'Comma-separated roles to assign (e.g. access,editor)', required: true}),
    logins: Flags.string({description: 'Comma-separated OS logins the user may use on nodes (the "logins" trait)'}),
    format: formatFlag(),
    ...authFlags,
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(UsersAdd)
    const roles = splitList(flags.roles)
    if (roles.length === 0) throw new UsageError('--roles needs at least one role, e.g. --roles=access')
    const logins = splitList(flags.logins)
    const traits: Record<string, string[]> = logins.length ? {logins} : {}
    const {user, invite} = await withAuth(flags, (api) => api.createUser({name: args.name, roles, traits}))
    this.out(
      renderData(flags.format, {user: userData(user), invite: {url: invite.url, expires: invite.expires, proxy_addr: invite.proxyAddr}}, () =>
        userCreatedMessage(user.name, invite),
      ),
    )
  }
}
