import {BaseCommand} from '../../lib/cli/base-command.js'
import {formatFlag, renderData} from '../../lib/output.js'
import {withAuth} from '../../tctl/connect.js'
import {authFlags} from '../../tctl/flags.js'
import {statusData, statusText} from '../../tctl/render.js'

export default class Status extends BaseCommand {
  static override summary = 'Show the cluster\'s status.'
  static override description =
    'Prints the cluster name, the auth server\'s version, the CA pin new hosts pass as --ca-pin, the fingerprints and rotation phase of the user and host CAs, and how many users, roles, nodes and tokens exist.'
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --format json']
  static override flags = {format: formatFlag(), ...authFlags}

  async run(): Promise<void> {
    const {flags} = await this.parse(Status)
    const status = await withAuth(flags, (api) => api.status())
    this.out(renderData(flags.format, statusData(status), () => statusText(status)))
  }
}
