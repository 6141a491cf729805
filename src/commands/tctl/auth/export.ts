import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {withAuth} from '../../../tctl/connect.js'
import {authFlags} from '../../../tctl/flags.js'
import {caExportText} from '../../../tctl/render.js'

export default class AuthExport extends BaseCommand {
  static override summary = 'Export the cluster\'s CA public keys for OpenSSH.'
  static override description =
    '--type=user prints the user CA as plain public key lines: save them as the file sshd_config\'s TrustedUserCAKeys names, and sshd accepts Teleport user certificates. ' +
    '--type=host prints the host CA as a known_hosts line, "@cert-authority * <key> type=host": the "*" pattern matches any host name or IP address, so ssh trusts every host certificate the cluster signs. ' +
    'Without --type both are printed, user CA first. During a CA rotation every trusted key is printed.'
  static override examples = [
    '<%= config.bin %> auth export --type=user > /etc/ssh/teleport_user_ca.pub',
    '<%= config.bin %> auth export --type=host >> ~/.ssh/known_hosts',
  ]
  static override flags = {
    type: Flags.string({description: 'Which CA: user or host [default: both]', options: ['user', 'host']}),
    ...authFlags,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(AuthExport)
    const keys = await withAuth(flags, (api) => api.getCAKeys())
    this.out(caExportText(keys, flags.type as 'user' | 'host' | undefined))
  }
}
