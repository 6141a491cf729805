import {readFileSync} from 'node:fs'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {UsageError} from '../../lib/errors.js'
import {fileError} from '../../lib/file-errors.js'
import {withAuth} from '../../tctl/connect.js'
import {authFlags} from '../../tctl/flags.js'
import {applyCreate, checkCreate, planCreate} from '../../tctl/resources.js'

export default class Create extends BaseCommand {
  static override summary = 'Create or update resources from a YAML or JSON file.'
  static override description =
    'Reads roles, users, join tokens and locks (kind: role | user | token | lock; several documents separated by "---", or a JSON list) and creates them. ' +
    'Every document is checked first, against the file and against the cluster; if any is invalid, or already exists without --force, nothing is applied. ' +
    'With --force existing resources are replaced (a user keeps their password and second factor).'
  static override examples = [
    '<%= config.bin %> create -f role.yaml',
    '<%= config.bin %> create --force -f role.yaml',
    '<%= config.bin %> get role/access > access.yaml && <%= config.bin %> create --force -f access.yaml',
  ]
  // No positional FILE: oclif fills a missing positional argument from piped standard input.
  static override flags = {
    filename: Flags.string({char: 'f', description: 'The file to read ("-" for standard input)'}),
    force: Flags.boolean({description: 'Overwrite resources that already exist'}),
    ...authFlags,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Create)
    const file = flags.filename
    if (!file) throw new UsageError('a file is required: tctl create -f FILE')
    const text = readInput(file)
    const source = file === '-' ? 'standard input' : file
    const plan = planCreate(text, source)
    const messages = await withAuth(flags, async (api) => {
      const existing = await checkCreate(api, plan, source, flags.force)
      return applyCreate(api, plan, existing, flags.force)
    })
    this.out(messages.map((m) => m + '\n').join(''))
  }
}

function readInput(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8')
  } catch (err) {
    throw fileError(err, file)
  }
}
