import {Args} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {UsageError} from '../../lib/errors.js'
import {formatFlag} from '../../lib/output.js'
import {withAuth} from '../../tctl/connect.js'
import {authFlags} from '../../tctl/flags.js'
import {locksTable} from '../../tctl/render.js'
import {fetchResources, GET_FORMS, parseGetRefs} from '../../tctl/resources.js'
import type {Lock} from '../../services/locks.js'
import {stringifyResources} from '../../services/models/resource.js'

export default class Get extends BaseCommand {
  static override summary = 'Print resources as YAML or JSON.'
  static override description =
    `Prints resources in the form "tctl create -f" reads: YAML documents separated by "---" (default), or a JSON list. ` +
    `References: ${GET_FORMS}; several may be joined with commas. Passwords, second-factor secrets and CA private keys are never printed. ` +
    'Locks can also be printed as a table (--format text).'
  static override examples = [
    '<%= config.bin %> get roles',
    '<%= config.bin %> get role/access > access.yaml',
    '<%= config.bin %> get users --format json',
    '<%= config.bin %> get role/editor,user/alice',
    '<%= config.bin %> get locks --format text',
    '<%= config.bin %> get proxies',
  ]
  static override args = {ref: Args.string({description: `What to print: ${GET_FORMS}`, required: true})}
  static override flags = {format: formatFlag(['yaml', 'json', 'text']), ...authFlags}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Get)
    const refs = parseGetRefs(args.ref)
    if (flags.format === 'text' && refs.some((r) => r.kind !== 'lock')) throw new UsageError('--format text is only available for locks; use yaml or json')
    const resources = await withAuth(flags, (api) => fetchResources(api, refs))
    if (flags.format === 'text') this.out(locksTable(resources as Lock[]))
    else if (flags.format === 'json') this.out(stringifyResources(resources, 'json'))
    else if (resources.length > 0) this.out(stringifyResources(resources, 'yaml'))
  }
}
