import {BaseCommand} from '../../../lib/cli/base-command.js'
import {clusterFlag, dataFormatFlag, insecureFlag, proxyFlag, renderDataLazy, userFlag} from '../../../client/cli-flags.js'

export default class SessionsLs extends BaseCommand {
  static override summary = 'List the live sessions you may see.'
  static override description =
    'Lists the sessions running now on the cluster\'s nodes, oldest first: ID, State (PENDING, RUNNING), User (who started it), Login (the OS user it runs as), ' +
    'Hostname, Participants (who is attached now) and Created. ' +
    'You see the sessions your roles let you see, as for session recordings: the built-in access role shows the sessions you started or take part in, ' +
    'the auditor role every session; without either the command is refused. ' +
    'A session leaves the list when it ends, or within a minute when its node stops answering.'
  static override examples = [
    '<%= config.bin %> sessions ls',
    '<%= config.bin %> sessions ls --format json',
    '<%= config.bin %> sessions ls -f yaml',
    '<%= config.bin %> sessions ls -f json | jq -r \'.[] | select(.hostname == "db-1") | .session_id\'',
  ]
  static override flags = {
    format: dataFormatFlag(),
    cluster: clusterFlag,
    proxy: proxyFlag,
    user: userFlag,
    insecure: insecureFlag,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(SessionsLs)
    const [{loadCurrentIdentity}, {authApiViaProxy}, render] = await Promise.all([
      import('../../../client/profile.js'),
      import('../../../client/connect/auth-via-proxy.js'),
      import('../../../client/sessions/render.js'),
    ])
    const identity = loadCurrentIdentity({...(flags.proxy ? {proxy: flags.proxy} : {}), ...(flags.user ? {user: flags.user} : {})})
    const api = authApiViaProxy(identity, flags.cluster ? {cluster: flags.cluster} : {})
    let trackers
    try {
      trackers = await api.listSessionTrackers()
    } finally {
      await api.close().catch(() => {})
    }
    this.out(await renderDataLazy(flags.format, () => render.sessionsData(trackers), () => render.sessionsText(trackers)))
  }
}
