import {BaseCommand} from '../../lib/cli/base-command.js'
import {dataFormatFlag, renderDataLazy} from '../../client/cli-flags.js'

// Start-up matters here (it is benchmarked against bare node): only light modules, loaded lazily.

export default class Status extends BaseCommand {
  static override summary = 'Show the logged-in profiles and their certificates.'
  static override description =
    'For each profile under ~/.tsh ($TELEPORT_HOME), the active one first and marked ">": the proxy, user, cluster, roles, allowed logins, when the certificate expires, and its extensions.\n' +
    'Exits 1 with "Not logged in." when there is no profile.'
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --format json']
  static override flags = {format: dataFormatFlag()}

  async run(): Promise<void> {
    const {flags} = await this.parse(Status)
    const [{FileKeyStore}, {tshHome, notLoggedIn}, {collectStatus, renderStatus, statusData}] = await Promise.all([
      import('../../client/key-store.js'),
      import('../../client/profile.js'),
      import('../../client/status.js'),
    ])
    const profiles = collectStatus(new FileKeyStore(tshHome()))
    if (profiles.length === 0) throw notLoggedIn()
    this.out(await renderDataLazy(flags.format, () => statusData(profiles), () => renderStatus(profiles)))
  }
}
