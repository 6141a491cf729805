import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {clusterFlag, insecureFlag, loginFlag, proxyFlag, userFlag} from '../../client/cli-flags.js'

export default class Join extends BaseCommand {
  static override summary = 'Join a live session on a node.'
  static override description =
    'Joins a session that is running now (see "tsh sessions ls"): you first get the screen as it is, then its output as it happens. ' +
    'As an observer (the default) or a moderator your keystrokes do not reach the session; Ctrl-C leaves it, and a moderator pressing t ' +
    'terminates it. As a peer you type into it like its owner. The owner\'s terminal size drives the session.\n\n' +
    'The node checks your roles\' join_sessions policies against the owner\'s roles: without one you may join only your own sessions, as a peer. ' +
    'tsh connects to the session\'s node through the proxy as the session\'s login (-l to connect as another login your roles allow); ' +
    'the login only gets you onto the node, the join itself is decided by join_sessions.\n\n' +
    'Exit status: the session\'s when it ends while you are in it, 0 when you leave, 255 when the node refuses the join.'
  static override examples = [
    '<%= config.bin %> join 6b5f9a5e-1c1e-4d2b-9c51-0d1f3c2a7e11',
    '<%= config.bin %> join -m moderator 6b5f9a5e-1c1e-4d2b-9c51-0d1f3c2a7e11',
    '<%= config.bin %> join --mode peer 6b5f9a5e-1c1e-4d2b-9c51-0d1f3c2a7e11',
  ]
  static override args = {
    'session-id': Args.string({description: 'The session to join (its ID, from "tsh sessions ls")', required: true}),
  }
  static override flags = {
    mode: Flags.string({char: 'm', description: 'Participant mode', options: ['observer', 'peer', 'moderator'], default: 'observer'}),
    login: loginFlag,
    cluster: clusterFlag,
    proxy: proxyFlag,
    user: userFlag,
    insecure: insecureFlag,
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Join)
    const [{identityForCommand}, {joinSession, parseJoinArgs, proxyJoinRoute}] = await Promise.all([import('../../client/login-on-demand.js'), import('../../client/join/join.js')])
    const joinArgs = parseJoinArgs(args['session-id'], flags.mode, {...(flags.login ? {login: flags.login} : {}), ...(flags.cluster ? {cluster: flags.cluster} : {})})
    const identity = await identityForCommand(flags)
    const log = flags.debug ? (line: string) => process.stderr.write(`DEBUG [tsh] ${line}\n`) : undefined
    const route = proxyJoinRoute(identity, {...(joinArgs.cluster ? {cluster: joinArgs.cluster} : {}), ...(log ? {log} : {})})
    const status = await joinSession(joinArgs, {stdin: process.stdin, stdout: process.stdout, stderr: process.stderr}, route, log ? {log} : {})
    if (status !== 0) this.exit(status)
  }
}
