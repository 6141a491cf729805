import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {withSpinner} from '../../../lib/progress/spinner.js'
import {parseDuration} from '../../../services/duration.js'
import {withAuth} from '../../../tctl/connect.js'
import {authFlags} from '../../../tctl/flags.js'
import {rotatedMessage} from '../../../tctl/render.js'

export default class AuthRotate extends BaseCommand {
  static override summary = 'Rotate a certificate authority of the cluster.'
  static override description =
    'Phases: standby → init → update_clients → update_servers → standby, or rollback before the last step. ' +
    'init makes a new CA key, trusted beside the old one but not used; update_clients signs with the new key (both trusted); ' +
    'update_servers has nodes and proxies present host certificates from the new key; the final standby drops the old key, so certificates it signed are refused. ' +
    'Without --manual the rotation starts at init and moves on by itself, the grace period split evenly over the phases. ' +
    'Without --type both the user and the host CA are rotated.'
  static override examples = [
    '<%= config.bin %> auth rotate --type=user --grace-period=48h',
    '<%= config.bin %> auth rotate --type=host --manual --phase=init',
    '<%= config.bin %> auth rotate --type=host --manual --phase=update_clients',
    '<%= config.bin %> auth rotate --type=host --manual --phase=rollback',
  ]
  static override flags = {
    type: Flags.string({description: 'Which CA to rotate [default: both]', options: ['user', 'host']}),
    manual: Flags.boolean({description: 'Move through the phases by hand with --phase instead of over the grace period'}),
    phase: Flags.string({description: 'With --manual: the phase to go to', options: ['init', 'update_clients', 'update_servers', 'standby', 'rollback']}),
    'grace-period': Flags.string({description: 'How long both keys stay trusted, e.g. 48h [default: 30h]'}),
    ...authFlags,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(AuthRotate)
    const gracePeriodMs = flags['grace-period'] === undefined ? undefined : parseDuration(flags['grace-period'])
    const which = flags.type ? `the ${flags.type} CA` : 'the user and host CAs'
    const done = await withSpinner(`Rotating ${which}…`, () =>
      withAuth(flags, (api) =>
        api.rotateCA({
          ...(flags.type ? {type: flags.type as 'user' | 'host'} : {}),
          ...(flags.phase ? {phase: flags.phase as 'init'} : {}),
          manual: flags.manual,
          ...(gracePeriodMs !== undefined ? {gracePeriodMs} : {}),
        }),
      ),
    )
    this.out(rotatedMessage(done))
  }
}
