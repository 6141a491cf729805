import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {UsageError} from '../../lib/errors.js'
import {clusterFlag, dataFormatFlag, insecureFlag, loginFlag, proxyFlag, userFlag} from '../../client/cli-flags.js'

export default class Bench extends BaseCommand {
  static override strict = false
  static override summary = 'Measure how fast the cluster runs SSH sessions.'
  static override description =
    'Starts a session on a node at a fixed rate for a while (--rate per second for --duration), each one a whole "tsh ssh": a new connection ' +
    'through the proxy, both authentications, the command and its exit status. Requests start on schedule whether or not earlier ones finished, ' +
    'so a slow cluster shows as latency. Prints how many requests were made and failed (with the reasons) and the latency at the 25th to 100th ' +
    'percentile. A command that exits non-zero counts as failed. --interactive types the command into a shell on a pseudo-terminal instead of ' +
    'running it directly. --export also writes the whole latency distribution to a file in --path.'
  static override examples = [
    '<%= config.bin %> bench root@node-1 true',
    '<%= config.bin %> bench --rate 10 --duration 10s root@node-1 ls /',
    '<%= config.bin %> bench --interactive --duration 30s -l root node-1 "echo hello"',
    '<%= config.bin %> bench --export --path ./results root@node-1 uptime',
    '<%= config.bin %> bench -f json root@node-1 true | jq .histogram',
  ]
  static override args = {
    host: Args.string({description: 'The node: [login@]host', required: true}),
    command: Args.string({description: 'The command to run (the rest of the line)', required: true}),
  }
  static override flags = {
    rate: Flags.integer({description: 'Requests started per second', default: 10, min: 1, max: 1000}),
    duration: Flags.string({description: 'How long to start requests for (Go duration: 10s, 1m)', default: '1s'}),
    interactive: Flags.boolean({description: 'Run the command in a shell on a pseudo-terminal'}),
    export: Flags.boolean({description: 'Also write the whole latency distribution to a file'}),
    path: Flags.string({description: 'Directory for --export\'s file', default: '.'}),
    format: dataFormatFlag(),
    login: loginFlag,
    cluster: clusterFlag,
    proxy: proxyFlag,
    user: userFlag,
    insecure: insecureFlag,
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(Bench)
    const [{loadCurrentIdentity}, {splitLoginHost, localUserName}, {parseDuration}, {runBench}, {sshBenchRequest}, render, {renderDataLazy}, {systemClock}] = await Promise.all([
      import('../../client/profile.js'),
      import('../../client/ssh/args.js'),
      import('../../services/duration.js'),
      import('../../client/bench/run-bench.js'),
      import('../../client/bench/ssh-request.js'),
      import('../../client/bench/render.js'),
      import('../../client/cli-flags.js'),
      import('../../lib/clock.js'),
    ])
    const [destination, ...words] = argv as string[]
    let durationMs: number
    try {
      durationMs = parseDuration(flags.duration)
    } catch {
      throw new UsageError(`invalid --duration "${flags.duration}": expected a duration such as 10s or 1m`)
    }
    if (durationMs <= 0) throw new UsageError('--duration must be more than 0s')
    const target = splitLoginHost(destination!)
    const identity = loadCurrentIdentity({...(flags.proxy ? {proxy: flags.proxy} : {}), ...(flags.user ? {user: flags.user} : {})})
    const login = target.login ?? flags.login ?? (process.env.TELEPORT_LOGIN || undefined) ?? localUserName()
    const request = sshBenchRequest(identity, {host: target.host, login, command: words.join(' '), interactive: flags.interactive, ...(flags.cluster ? {cluster: flags.cluster} : {})})
    const result = await runBench({rate: flags.rate, durationMs, clock: systemClock, request})
    if (flags.export) {
      const {exportDistribution} = await import('../../client/bench/export.js')
      process.stderr.write(`Latency distribution written to ${exportDistribution(flags.path, result.histogram)}\n`)
    }
    this.out(await renderDataLazy(flags.format, () => render.benchJson(result), () => render.renderBenchText(result)))
    if (result.failed > 0) this.exit(1)
  }
}
