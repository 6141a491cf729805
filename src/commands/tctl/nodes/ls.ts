import {nodesData} from '../../../client/nodes/render.js'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {formatFlag, renderData} from '../../../lib/output.js'
import {withAuth} from '../../../tctl/connect.js'
import {authFlags} from '../../../tctl/flags.js'
import {nodesTable} from '../../../tctl/render.js'

export default class NodesLs extends BaseCommand {
  static override summary = 'List the nodes online in the cluster.'
  static override description =
    'Lists the nodes whose presence record is current (a node that stopped announcing itself disappears within 10 minutes), sorted by host name. ' +
    'Labels include command labels; nodes reached through a reverse tunnel show "⟵ Tunnel" as their address.'
  static override examples = ['<%= config.bin %> nodes ls', '<%= config.bin %> nodes ls --format json']
  static override flags = {format: formatFlag(), ...authFlags}

  async run(): Promise<void> {
    const {flags} = await this.parse(NodesLs)
    const nodes = await withAuth(flags, (api) => api.listNodes())
    this.out(renderData(flags.format, nodesData(nodes), () => nodesTable(nodes)))
  }
}
