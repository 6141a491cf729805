import {Args} from '@oclif/core'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {clusterFlag, proxyFlag, userFlag} from '../../../client/cli-flags.js'

// OpenSSH starts this for every connection (ProxyCommand): keep the start light.

export default class ProxySsh extends BaseCommand {
  static override summary = 'Carry an OpenSSH connection to a node through the proxy (ProxyCommand).'
  static override description =
    'Connects to the cluster\'s proxy with your certificate, asks it for a route to HOST (subsystem proxy:HOST:PORT@CLUSTER), ' +
    'and pipes that route to stdin and stdout, so that OpenSSH can speak to the node through it. ' +
    'A ".<proxy host>" or ".<cluster>" suffix on the host is removed first (ssh_config matches cluster hosts by suffix). ' +
    'Errors go to stderr and exit 1; the proxy\'s own message (such as the ambiguous-host table) is printed as it is.\n\n' +
    'With no login, or an expired certificate, it asks for the password and OTP code on the controlling terminal (/dev/tty: stdin and stdout are OpenSSH\'s), so "ssh node.cluster" logs in again and connects; with no terminal it fails on stderr saying to run "tsh login".\n\n' +
        '"tsh config" writes an ssh_config block that uses it.'
  static override examples = [
    'ssh -o ProxyCommand="<%= config.bin %> proxy ssh %r@%h:%p" root@node-1',
    '<%= config.bin %> proxy ssh --cluster=example.com --proxy=proxy.example.com:3080 root@node-1.example.com:3022',
  ]
  static override args = {
    target: Args.string({description: '[login@]host[:port], as OpenSSH\'s %r@%h:%p', required: true}),
  }
  static override flags = {cluster: clusterFlag, proxy: proxyFlag, user: userFlag}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(ProxySsh)
    const [{identityForCommand}, {controllingTerminalPrompter}, {parseProxyTarget, runProxyCommand}] = await Promise.all([
      import('../../../client/login-on-demand.js'),
      import('../../../client/prompts.js'),
      import('../../../client/connect/proxy-command.js'),
    ])
    const target = parseProxyTarget(args.target)
    // stdin and stdout are OpenSSH's stream: a login on demand asks on the controlling terminal.
    const identity = await identityForCommand(flags, controllingTerminalPrompter())
    const log = flags.debug ? (line: string) => process.stderr.write(`DEBUG [tsh] ${line}\n`) : undefined
    const status = await runProxyCommand(identity, target, {...(flags.cluster ? {cluster: flags.cluster} : {}), ...(log ? {log} : {})}, {
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
    })
    if (status !== 0) this.exit(status)
  }
}

