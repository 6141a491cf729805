import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {clusterFlag, dataFormatFlag, insecureFlag, proxyFlag, renderDataLazy, userFlag} from '../../client/cli-flags.js'

export default class Ls extends BaseCommand {
  static override strict = false
  static override summary = 'List the nodes you can reach.'
  static override description =
    'Lists the cluster\'s online nodes that your roles allow you to reach, sorted by name: Node Name, Address and Labels ' +
    '(static and command labels, key=value, comma-separated). Nodes behind a reverse tunnel show "⟵ Tunnel" as their address. ' +
    'Label arguments (key=value, comma-separated or one per argument) keep only the nodes carrying all of them.'
  static override examples = [
    '<%= config.bin %> ls',
    '<%= config.bin %> ls env=staging,team=db',
    '<%= config.bin %> ls -v',
    '<%= config.bin %> ls --format json',
    '<%= config.bin %> ls -f names | xargs -n1 -I{} <%= config.bin %> ssh root@{} uptime',
  ]
  static override args = {
    labels: Args.string({description: 'Label selector: key=value[,key=value...]', required: false}),
  }
  static override flags = {
    verbose: Flags.boolean({char: 'v', description: 'Also show each node\'s ID and how many sessions are open on it (those you may see)'}),
    format: dataFormatFlag(['text', 'json', 'yaml', 'names']),
    cluster: clusterFlag,
    proxy: proxyFlag,
    user: userFlag,
    insecure: insecureFlag,
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(Ls)
    const [{identityForCommand}, {authApiViaProxy}, {matchesSelector, parseLabelSelector}, render, {openSessionCounts}] = await Promise.all([
      import('../../client/login-on-demand.js'),
      import('../../client/connect/auth-via-proxy.js'),
      import('../../client/nodes/labels.js'),
      import('../../client/nodes/render.js'),
      import('../../client/sessions/counts.js'),
    ])
    const selector = parseLabelSelector(argv as string[])
    const identity = await identityForCommand(flags)
    const api = authApiViaProxy(identity, flags.cluster ? {cluster: flags.cluster} : {})
    let nodes
    let sessions: Map<string, number> | undefined
    try {
      nodes = (await api.listNodes()).filter((n) => matchesSelector(n, selector))
      if (flags.verbose && flags.format === 'text') sessions = await openSessionCounts(api)
    } finally {
      await api.close().catch(() => {})
    }
    if (flags.format === 'names') return this.out(render.nodesNames(nodes))
    this.out(await renderDataLazy(flags.format, () => render.nodesData(nodes), () => render.nodesText(nodes, {verbose: flags.verbose, sessions})))
  }
}
