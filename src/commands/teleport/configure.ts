import {Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'

export default class Configure extends BaseCommand {
  static override summary = 'Print a commented sample configuration file.'
  static override description = 'Prints a teleport.yaml covering every key this version supports, each with a comment and its default. Redirect it into a file and edit.'
  static override examples = ['<%= config.bin %> configure > /etc/teleport.yaml', '<%= config.bin %> configure --cluster-name=example.com --data-dir=/var/lib/teleport']
  static override flags = {
    'cluster-name': Flags.string({description: 'Set auth_service.cluster_name in the sample'}),
    'data-dir': Flags.string({description: 'Set teleport.data_dir in the sample'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Configure)
    const {sampleConfig} = await import('../../config/index.js')
    const values: Record<string, string> = {}
    if (flags['cluster-name']) values['auth_service.cluster_name'] = flags['cluster-name']
    if (flags['data-dir']) values['teleport.data_dir'] = flags['data-dir']
    this.out(sampleConfig({values}))
  }
}
