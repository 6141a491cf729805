import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {colors, formatFlag} from '../../../lib/output.js'
import {withAuth} from '../../../tctl/connect.js'
import {DEFAULT_EVENTS_LIMIT, eventsJsonLines, eventsQuery, eventsTable, findEvents} from '../../../tctl/events.js'
import {authFlags} from '../../../tctl/flags.js'

export default class EventsLs extends BaseCommand {
  static override summary = 'Search the audit log.'
  static override description =
    'Lists audit events newest first: by default those of the last 24 hours, at most 50. ' +
    '--from and --to take RFC 3339 times or UTC days (YYYY-MM-DD; a day given to --to includes the whole day). ' +
    'Text output is a table (Time, Type, Code, User, Summary; failures in red on a terminal); --format json prints one event per line, as the log file holds them. ' +
    'When more events match than --limit, a note on stderr says so. ' +
    'Allowed with the admin identity on the auth host, or with --identity for a user whose roles allow listing events (the built-in auditor role).'
  static override examples = [
    '<%= config.bin %> events ls',
    '<%= config.bin %> events ls --type user.login --user alice --format json',
    '<%= config.bin %> events ls --from 2026-11-20 --to 2026-11-21 --type session.start,session.end',
    '<%= config.bin %> events ls --sid 5c5b6f4e-2c4c-4c1a-9f7e-0d3b4f6f8a11 --limit 500',
    '<%= config.bin %> events ls --identity auditor.pem --auth-server auth.example.com:3025 --type auth',
  ]
  static override flags = {
    from: Flags.string({description: 'Oldest time to include: RFC 3339 or YYYY-MM-DD (UTC) [default: 24 hours before --to]'}),
    to: Flags.string({description: 'Newest time to include: RFC 3339 or YYYY-MM-DD (UTC, the whole day) [default: now]'}),
    type: Flags.string({description: 'Only events of this type (e.g. user.login); repeat or comma-separate for several', multiple: true}),
    user: Flags.string({description: 'Only events of this Teleport user'}),
    sid: Flags.string({description: 'Only events of this session id'}),
    limit: Flags.integer({description: 'At most this many events', default: DEFAULT_EVENTS_LIMIT}),
    format: formatFlag(['text', 'json']),
    ...authFlags,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(EventsLs)
    const query = eventsQuery(flags, new Date())
    const {events, more} = await withAuth(flags, (api) => findEvents(api, query, flags.limit))
    this.out(flags.format === 'json' ? eventsJsonLines(events) : eventsTable(events, colors().red))
    if (more) process.stderr.write(`More events match than --limit ${flags.limit} shows: raise --limit or narrow --from/--to.\n`)
  }
}
