import {Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {UsageError} from '../../lib/errors.js'
import {withAuth} from '../../tctl/connect.js'
import {authFlags, parseTtlFlag} from '../../tctl/flags.js'
import {lockCreatedMessage} from '../../tctl/render.js'

export default class Lock extends BaseCommand {
  static override summary = 'Lock a user, a role or a node out of the cluster.'
  static override description =
    'Creates a lock: the auth service, proxies and nodes refuse the target within seconds, and running sessions of a locked user, role or node are ended ' +
    'with the message. The lock holds until it expires (--ttl) or is removed with "tctl rm lock/<id>". List locks with "tctl get locks".'
  static override examples = [
    '<%= config.bin %> lock --user=alice --message="Suspicious activity, call security" --ttl=10h',
    '<%= config.bin %> lock --role=contractor',
    '<%= config.bin %> lock --node=5c9d6b8e-1c3a-4a6e-9a43-1b2c3d4e5f60 --message="under maintenance"',
  ]
  static override flags = {
    user: Flags.string({description: 'Name of the user to lock'}),
    role: Flags.string({description: 'Name of the role to lock (every user holding it)'}),
    node: Flags.string({description: 'UUID of the node to lock'}),
    message: Flags.string({description: 'Message shown to the locked-out users'}),
    ttl: Flags.string({description: 'How long the lock holds, e.g. 1h, 30m [default: until removed]'}),
    ...authFlags,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Lock)
    const target = {...(flags.user ? {user: flags.user} : {}), ...(flags.role ? {role: flags.role} : {}), ...(flags.node ? {node: flags.node} : {})}
    if (Object.keys(target).length === 0) throw new UsageError('name what to lock: --user, --role or --node', {hint: 'e.g. tctl lock --user=alice --ttl=1h'})
    const ttlMs = parseTtlFlag(flags.ttl)
    const lock = await withAuth(flags, (api) => api.createLock({target, ...(flags.message ? {message: flags.message} : {}), ...(ttlMs !== undefined ? {ttlMs} : {})}))
    this.out(lockCreatedMessage(lock))
  }
}
