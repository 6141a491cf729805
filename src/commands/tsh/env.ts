import {Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {dataFormatFlag, proxyFlag, renderDataLazy} from '../../client/cli-flags.js'

export default class Env extends BaseCommand {
  static override summary = 'Print commands that pin later tsh commands to the current profile.'
  static override description =
    'Prints "export TELEPORT_PROXY=..." and "export TELEPORT_CLUSTER=..." for the current profile (or the one --proxy names), for eval in a shell; --unset prints the matching unset commands.'
  static override examples = ['eval "$(<%= config.bin %> env)"', 'eval "$(<%= config.bin %> env --unset)"', '<%= config.bin %> env --format json']
  static override flags = {
    unset: Flags.boolean({description: 'Print commands that clear the variables instead'}),
    proxy: proxyFlag,
    format: dataFormatFlag(),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Env)
    const {envVariables, renderEnvExports, renderEnvUnset} = await import('../../client/shell-env.js')
    if (flags.unset) {
      this.out(await renderDataLazy(flags.format, () => ['TELEPORT_PROXY', 'TELEPORT_CLUSTER'], () => renderEnvUnset()))
      return
    }
    const {loadProfile} = await import('../../client/profile.js')
    const vars = envVariables(loadProfile(flags.proxy))
    this.out(await renderDataLazy(flags.format, () => vars, () => renderEnvExports(vars)))
  }
}
