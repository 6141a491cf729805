import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {UsageError} from '../../../lib/errors.js'
import {formatFlag, renderData} from '../../../lib/output.js'
import {withAuth} from '../../../tctl/connect.js'
import {authFlags, parseTtlFlag, splitList} from '../../../tctl/flags.js'
import {tokenAddedData, tokenAddedMessage} from '../../../tctl/render.js'
import {MAX_JOIN_TOKEN_USES} from '../../../services/models/join-token.js'

export default class TokensAdd extends BaseCommand {
  static override summary = 'Create an invite token for a new node or proxy.'
  static override description =
    'Creates a join token (32 hex characters unless --value is given) and prints the "teleport start" command that joins a new host with it, ' +
    'including the CA pin the host checks the auth server against. Tokens expire after 15 minutes by default; --ttl may shorten that or lengthen it up to the configured maximum.\n' +
    'A token lets one host join (with all the roles it is for) unless --uses lets more hosts join with it.\n' +
    'The --auth-server address printed is --auth-server when given, else the auth service\'s listen address (a 0.0.0.0 listener is shown as this host\'s first network address).'
  static override examples = [
    '<%= config.bin %> tokens add --type=node',
    '<%= config.bin %> tokens add --type=node,proxy --ttl=1h',
    '<%= config.bin %> tokens add --type=node --uses=10 --ttl=1h',
    '<%= config.bin %> tokens add --type=node --format json',
  ]
  static override flags = {
    type: Flags.string({description: 'Roles the token lets a host join as, comma-separated: node, proxy, auth, trusted_cluster', required: true}),
    ttl: Flags.string({description: 'How long the token is valid, e.g. 15m, 1h [default: 15m]'}),
    value: Flags.string({description: 'Use this token value instead of a random one'}),
    uses: Flags.integer({description: 'How many hosts may join with the token [default: 1]', min: 1, max: MAX_JOIN_TOKEN_USES}),
    format: formatFlag(),
    ...authFlags,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(TokensAdd)
    const roles = splitList(flags.type).map((r) => r.toLowerCase())
    if (roles.length === 0) throw new UsageError('--type needs at least one role, e.g. --type=node')
    const ttlMs = parseTtlFlag(flags.ttl)
    const added = await withAuth(flags, async (api, target) => {
      const ping = await api.ping()
      const token = await api.addToken({roles, ...(ttlMs !== undefined ? {ttlMs} : {}), ...(flags.value ? {token: flags.value} : {}), ...(flags.uses !== undefined ? {uses: flags.uses} : {})})
      return {token: token.token, roles: token.roles, ...(token.expires ? {expires: token.expires} : {}), uses: token.usesLeft ?? 1, caPins: ping.caPins, authServer: target.advertise}
    })
    this.out(renderData(flags.format, tokenAddedData(added), () => tokenAddedMessage(added)))
  }
}
