import {Args} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {withAuth} from '../../tctl/connect.js'
import {authFlags} from '../../tctl/flags.js'
import {parseRmRef, RM_FORMS} from '../../tctl/resources.js'

export default class Rm extends BaseCommand {
  static override summary = 'Delete a resource.'
  static override description = `Deletes one resource, named as ${RM_FORMS}.`
  static override examples = ['<%= config.bin %> rm role/example', '<%= config.bin %> rm user/alice', '<%= config.bin %> rm token/0123456789abcdef0123456789abcdef', '<%= config.bin %> rm node/5f1b2a3c-0d4e-4f60-8a7b-9c0d1e2f3a4b', '<%= config.bin %> rm lock/2b5fb6a5-5f53-4d1b-9f6a-3c7f0e4e9d21']
  static override args = {ref: Args.string({description: `The resource: ${RM_FORMS}`, required: true})}
  static override flags = {...authFlags}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Rm)
    const ref = parseRmRef(args.ref)
    await withAuth(flags, async (api) => {
      if (ref.kind === 'role') await api.deleteRole(ref.name)
      else if (ref.kind === 'user') await api.deleteUser(ref.name)
      else if (ref.kind === 'node') await api.deleteNode(ref.name)
      else if (ref.kind === 'lock') await api.deleteLock(ref.name)
      else await api.deleteToken(ref.name)
    })
    this.out(`${ref.kind} ${JSON.stringify(ref.name)} has been deleted\n`)
  }
}
