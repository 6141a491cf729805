import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {safeText} from '../../lib/safe-text.js'
import {clusterFlag, insecureFlag, proxyFlag, userFlag} from '../../client/cli-flags.js'

// Thin: parseScpArgs reads the line as OpenSSH's scp would, runScp copies over SFTP.

export default class Scp extends BaseCommand {
  static override strict = false
  static override summary = 'Copy files to or from a node, through the proxy.'
  static override description =
    'Copies files and, with -r, directories between this machine and a node, over SFTP through the cluster\'s proxy. ' +
    'The remote side is written [login@]host:path (a colon before any slash); a relative path or "host:" is relative to the login\'s home directory. ' +
    'Exactly one side is remote; several sources need an existing destination directory.\n\n' +
    'New files get the source\'s permissions (less the receiving umask); -p also keeps modification and access times and the exact mode. ' +
    'A progress line is shown on stderr when it is a terminal, unless -q. An error names the path; the copy goes on with the next source and tsh exits 1.'
  static override examples = [
    '<%= config.bin %> scp notes.txt root@node-1:/tmp/',
    '<%= config.bin %> scp -r ./site node-1:www',
    '<%= config.bin %> scp -p node-1:/var/log/syslog .',
    '<%= config.bin %> scp -P 3022 -q a.bin b.bin node-1:/srv/in/',
  ]
  static override args = {
    paths: Args.string({description: 'Sources, then the destination: local paths or [login@]host:path', required: true}),
  }
  static override flags = {
    recursive: Flags.boolean({char: 'r', description: 'Copy directories recursively'}),
    port: Flags.integer({char: 'P', description: 'SSH port on the node [default: the node\'s own]'}),
    preserve: Flags.boolean({char: 'p', description: 'Keep modification and access times and modes'}),
    quiet: Flags.boolean({char: 'q', description: 'No progress display'}),
    login: Flags.string({env: 'TELEPORT_LOGIN', description: 'Remote login when the path names none [default: your OS user name]'}),
    option: Flags.string({char: 'o', description: 'OpenSSH option, Key=Value (accepted for compatibility)', multiple: true}),
    cluster: clusterFlag,
    proxy: proxyFlag,
    user: userFlag,
    insecure: insecureFlag,
  }

  async run(): Promise<void> {
    const [{parseScpArgs}, {identityForCommand}] = await Promise.all([import('../../client/scp/args.js'), import('../../client/login-on-demand.js')])
    const args = parseScpArgs(this.argv, process.env)
    const identity = await identityForCommand(args)
    const {runScp} = await import('../../client/scp/run-scp.js')
    const log = args.debug ? (line: string) => process.stderr.write(`DEBUG [tsh] ${line}\n`) : undefined
    const errors = await runScp(args, identity, {stderr: process.stderr}, log ? {log} : {})
    if (errors.length > 0) {
      for (const line of errors) process.stderr.write(`ERROR: ${safeText(line)}\n`)
      this.exit(1)
    }
  }
}
