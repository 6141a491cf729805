import {Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {proxyFlag, userFlag} from '../../client/cli-flags.js'

export default class Agent extends BaseCommand {
  static override summary = 'Serve an SSH agent socket holding the current login.'
  static override description =
    'Starts an ssh-agent compatible socket that offers the certificate and key of the current login (`ssh-add -l` lists the certificate with comment "teleport:<user>"), and prints the shell commands that point SSH_AUTH_SOCK at it, like ssh-agent. It signs for clients but never hands out the key, and refuses keys added to it.\n' +
    'By default it runs in the background; it follows a new login (`tsh login`, or a command logging in on demand), offers nothing while the certificate has expired, and exits after `tsh logout`. With --foreground it stays attached to the terminal instead.\n' +
    '`tsh login` starts one by itself on ~/.tsh/agent.sock when add_keys_to_agent is yes (flag or config file) and no agent is running ($SSH_AUTH_SOCK unset). A private key kept in the OS keychain (--key-store=keychain) is served the same way.'
  static override examples = ['eval "$(<%= config.bin %> agent)"', '<%= config.bin %> agent --foreground --socket=/tmp/tsh-agent.sock']
  static override flags = {
    socket: Flags.string({char: 'a', description: 'Socket path to listen on [default: a new 0700 directory under $TMPDIR]'}),
    foreground: Flags.boolean({char: 'D', description: 'Stay in the foreground instead of detaching'}),
    proxy: proxyFlag,
    user: userFlag,
    'daemon-child': Flags.boolean({hidden: true}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Agent)
    const [{loadCurrentIdentity, tshHome}, {proxyHostOf}, daemon, {startIdentityAgent, identityKeyring}] = await Promise.all([
      import('../../client/profile.js'),
      import('../../client/proxy-addr.js'),
      import('../../client/agent/daemonize.js'),
      import('../../client/agent/identity-agent.js'),
    ])
    const home = tshHome()

    if (flags['daemon-child']) {
      // The detached child: report readiness (or the reason it could not start) to the parent.
      try {
        const agent = await startIdentityAgent({socketPath: flags.socket!, home, ...(flags.proxy ? {proxy: flags.proxy} : {}), ...(flags.user ? {user: flags.user} : {})})
        process.send?.({ready: true, socket: agent.socketPath})
        process.disconnect?.()
        await serveUntilDone(agent)
      } catch (err) {
        process.send?.({error: (err as Error).message})
        process.disconnect?.()
        process.exitCode = 1
      }
      return
    }

    // Fail here, in the user's terminal, rather than in a child nobody watches.
    const identity = loadCurrentIdentity({home, ...(flags.proxy ? {proxy: flags.proxy} : {}), ...(flags.user ? {user: flags.user} : {})})
    identityKeyring(identity)
    const proxy = proxyHostOf(identity.profile.webProxyAddr)
    const user = identity.profile.user
    const socketPath = flags.socket ?? daemon.defaultSocketPath()

    if (flags.foreground) {
      const agent = await startIdentityAgent({socketPath, home, proxy, user})
      this.out(daemon.agentEnvLines(agent.socketPath, process.pid))
      await serveUntilDone(agent)
      return
    }
    const {pid} = await daemon.spawnAgentDaemon({socketPath, proxy, user})
    this.out(daemon.agentEnvLines(socketPath, pid))
  }
}

/** Serve until the identity goes away or a signal asks to stop; remove the socket's temp dir. */
async function serveUntilDone(agent: {socketPath: string; done: Promise<string>; close(): Promise<void>}): Promise<void> {
  const {rmSync} = await import('node:fs')
  const path = await import('node:path')
  const os = await import('node:os')
  const stop = () => void agent.close()
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, stop)
  await agent.done
  const dir = path.dirname(agent.socketPath)
  if (path.dirname(dir) === os.tmpdir() && path.basename(dir).startsWith('tsh-')) rmSync(dir, {recursive: true, force: true})
}
