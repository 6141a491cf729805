import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {clusterFlag, insecureFlag, loginFlag, proxyFlag, userFlag} from '../../client/cli-flags.js'

// Thin: the command line is read by parseSshArgs (OpenSSH's rules: options stop at the host, the
// remote command is never parsed), the work is runSsh. The flags below document it for help,
// man pages and completion.

export default class Ssh extends BaseCommand {
  static override strict = false
  static override summary = 'Run a shell or a command on a node, through the proxy.'
  static override description =
    'Connects to the node through the cluster\'s proxy (end to end: the proxy relays encrypted bytes) with your certificate, ' +
    'and opens a login shell, or runs COMMAND. The host may be a node name, ID or address, or a label selector (key=value,...): ' +
    'with a command, it runs on every matching node in parallel, each output line prefixed with [node]; without one, on the first match.\n\n' +
    'The login is the part before the last "@" (logins may contain "@"), else -l/--login ($TELEPORT_LOGIN), else your OS user name. ' +
    'Options stop at the host, as with OpenSSH, so "tsh ssh node ls -l" runs "ls -l"; more options may follow the host before the command.\n\n' +
    'Exit status: the remote command\'s. 255 when it was killed by a signal, when the connection ended without a status, or after the ~. escape ' +
    '(as OpenSSH); 1 for tsh\'s own errors. With several nodes, 0 if all succeeded, else the first failing node\'s status.\n\n' +
    'With no login, or an expired certificate, it first asks for the password and OTP code on the terminal, as "tsh login" would for the profile\'s proxy and user, then connects; without a terminal it fails saying to run "tsh login". So do scp, ls, join and play.\n\n' +
    'On an interactive terminal session, at the start of a line: ~. disconnects, ~? lists the escapes, ~~ sends a ~.\n\n' +
    '-o takes OpenSSH options: ForwardAgent, RequestTTY, Port, User and EscapeChar are honoured; options about known_hosts files, ' +
    'keepalives, connection sharing and authentication methods are accepted and ignored (they do not apply); others are ignored with a warning. ' +
    'So are -q, -4, -6, -C and -x; -V prints the version. Invoked through a link named "ssh", this is the command that runs.'
  static override examples = [
    '<%= config.bin %> ssh root@node-1',
    '<%= config.bin %> ssh node-1 uptime',
    "<%= config.bin %> ssh root@env=staging 'systemctl is-active nginx'",
    '<%= config.bin %> ssh -L 8080:localhost:80 -N node-1',
    '<%= config.bin %> ssh -D 1080 node-1',
    '<%= config.bin %> ssh -A -t alice@node-1 sudo -i',
    '<%= config.bin %> ssh -o StrictHostKeyChecking=no -p 3022 node-1 id -un',
  ]
  static override args = {
    destination: Args.string({description: '[login@]host, a node ID, or labels key=value,...', required: true}),
    command: Args.string({description: 'Command (and its arguments) to run instead of a shell', required: false}),
  }
  static override flags = {
    port: Flags.integer({char: 'p', description: 'SSH port on the node [default: the node\'s own]'}),
    login: loginFlag,
    forward: Flags.string({char: 'L', description: 'Forward a local port: [bind_address:]port:host:hostport', multiple: true}),
    'remote-forward': Flags.string({char: 'R', description: 'Forward a port on the node to here: [bind_address:]port:host:hostport', multiple: true}),
    'dynamic-forward': Flags.string({char: 'D', description: 'A local SOCKS5 proxy through the node: [bind_address:]port', multiple: true}),
    'no-remote-exec': Flags.boolean({char: 'N', description: 'Run no command or shell (port forwarding only; stops on Ctrl-C)'}),
    'no-stdin': Flags.boolean({char: 'n', description: 'Do not read stdin (the node sees end of file)'}),
    'forward-agent': Flags.boolean({char: 'A', description: "Forward tsh's own key and certificate to the node as an SSH agent (-o ForwardAgent=yes forwards $SSH_AUTH_SOCK instead)"}),
    tty: Flags.boolean({char: 't', description: 'Ask for a terminal even with a command (twice: even when stdin is not a terminal)'}),
    'no-tty': Flags.boolean({char: 'T', description: 'Never ask for a terminal'}),
    option: Flags.string({char: 'o', description: 'OpenSSH option, Key=Value', multiple: true}),
    escape: Flags.string({char: 'e', description: 'Escape character (default ~), ^X, or none'}),
    cluster: clusterFlag,
    proxy: proxyFlag,
    user: userFlag,
    insecure: insecureFlag,
  }

  async run(): Promise<void> {
    const [{parseSshArgs, versionRequested}, {identityForCommand}] = await Promise.all([import('../../client/ssh/args.js'), import('../../client/login-on-demand.js')])
    if (versionRequested(this.argv)) {
      // OpenSSH prints its version on stderr for -V.
      const {versionInfo, versionLine} = await import('../../lib/version.js')
      process.stderr.write(versionLine(versionInfo()) + '\n')
      return
    }
    const args = parseSshArgs(this.argv, process.env)
    const identity = await identityForCommand(args)
    const {runSsh} = await import('../../client/ssh/run-ssh.js')
    const log = args.debug ? (line: string) => process.stderr.write(`DEBUG [tsh] ${line}\n`) : undefined
    const status = await runSsh(args, identity, {stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env}, log ? {log} : {})
    if (status !== 0) this.exit(status)
  }
}
