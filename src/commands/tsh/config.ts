import {BaseCommand} from '../../lib/cli/base-command.js'
import {proxyFlag} from '../../client/cli-flags.js'

export default class Config extends BaseCommand {
  static override summary = 'Print an ssh_config block for reaching the cluster with stock OpenSSH.'
  static override description =
    'The block points OpenSSH at the files tsh keeps (known_hosts with the cluster\'s host CA, the key and the certificate) and uses "tsh proxy ssh" as the ProxyCommand for every "<node>.<cluster>" host, so ssh, scp, sftp and rsync reach nodes through the proxy.\n' +
    'It never prompts (its output is meant to be redirected); without a login it fails on stderr.'
  static override examples = ['<%= config.bin %> config >> ~/.ssh/config', '<%= config.bin %> config > ssh_config && ssh -F ssh_config root@node1.example.com']
  static override flags = {proxy: proxyFlag}

  async run(): Promise<void> {
    const {flags} = await this.parse(Config)
    const [{loadProfile, tshHome}, {renderSshConfig}, {tshCommandForSshConfig}] = await Promise.all([
      import('../../client/profile.js'),
      import('../../client/ssh-config.js'),
      import('../../client/tsh-invocation.js'),
    ])
    const home = tshHome()
    this.out(renderSshConfig({profile: loadProfile(flags.proxy, home), home, tshCommand: tshCommandForSshConfig()}))
  }
}
