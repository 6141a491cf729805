import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {clusterFlag, dataFormatFlag, insecureFlag, proxyFlag, renderDataLazy, userFlag} from '../../../client/cli-flags.js'
import {MAX_SEARCH_LIMIT} from '../../../events/emitter.js'

export default class RecordingsLs extends BaseCommand {
  // Teleport's spelling too; hidden so help and man pages list the command once.
  static override hiddenAliases = ['tsh:recordings:list']
  static override summary = 'List session recordings.'
  static override description =
    'Lists the recorded sessions your roles allow you to see, newest first: ID, Type (ssh for a shell, ssh exec for a command), ' +
    'Participants, Hostname and Timestamp (when the session started, UTC). By default those that ended in the last 24 hours, at most 50. ' +
    '--from-utc and --to-utc take RFC 3339 times or UTC days (YYYY-MM-DD; a day given to --to-utc includes the whole day); ' +
    '--last takes a window before --to-utc (24h, 30m, 7d). --format json and yaml print the session.end events themselves. ' +
    'When more recordings match than --limit, a note on stderr says so. Play one with tsh play <ID>.'
  static override examples = [
    '<%= config.bin %> recordings ls',
    '<%= config.bin %> recordings ls --last 7d --limit 200',
    '<%= config.bin %> recordings ls --from-utc 2026-11-20 --to-utc 2026-11-21',
    '<%= config.bin %> recordings ls --format json | jq -r \'.[] | select(.server_hostname == "db-1") | .sid\'',
  ]
  static override flags = {
    'from-utc': Flags.string({description: 'Oldest session end to include: RFC 3339 or YYYY-MM-DD (UTC) [default: --last before --to-utc]'}),
    'to-utc': Flags.string({description: 'Newest session end to include: RFC 3339 or YYYY-MM-DD (UTC, the whole day) [default: now]'}),
    last: Flags.string({description: 'How far back from --to-utc to look: 24h, 30m, 7d [default: 24h]'}),
    limit: Flags.integer({description: 'At most this many recordings', default: 50, min: 1, max: MAX_SEARCH_LIMIT}),
    format: dataFormatFlag(['text', 'json', 'yaml']),
    cluster: clusterFlag,
    proxy: proxyFlag,
    user: userFlag,
    insecure: insecureFlag,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(RecordingsLs)
    const [{recordingsRange}, {findRecordings, recordingsTable}, {connectRecordings}] = await Promise.all([
      import('../../../client/recordings/time-range.js'),
      import('../../../client/recordings/list.js'),
      import('../../../client/recordings/connect.js'),
    ])
    const range = recordingsRange(flags, new Date())
    const api = await connectRecordings(flags)
    let found
    try {
      found = await findRecordings(api, range, flags.limit)
    } finally {
      await api.close().catch(() => {})
    }
    this.out(await renderDataLazy(flags.format, () => found.events, () => recordingsTable(found.events)))
    if (found.more) process.stderr.write(`More recordings match than --limit ${flags.limit} shows: raise --limit or narrow --from-utc/--to-utc/--last.\n`)
  }
}
