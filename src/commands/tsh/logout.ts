import {Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {UsageError} from '../../lib/errors.js'

export default class Logout extends BaseCommand {
  static override summary = 'Delete the keys, certificates and profiles tsh keeps, and take its keys out of the SSH agent.'
  static override description =
    'Without flags, logs out every user from every proxy. With --proxy and --user, only that user from that proxy.\n' +
    'Private keys kept in the OS keychain (tsh login --key-store=keychain) are deleted from it; when the keychain is locked or not running, the rest is still logged out and a warning gives the command that removes the entry. Keys tsh loaded into the SSH agent ($SSH_AUTH_SOCK, comment "teleport:<user>") are removed too, and a running "tsh agent" for the login exits. ~/.tsh/known_hosts (public CA keys only) is kept.\n' +
    'These two flags deliberately have no environment twins, so that TELEPORT_PROXY or TELEPORT_USER in the environment never narrows a full logout.'
  static override examples = ['<%= config.bin %> logout', '<%= config.bin %> logout --proxy=proxy.example.com --user=alice']
  static override flags = {
    proxy: Flags.string({description: 'Proxy to log out from (with --user)', helpGroup: 'GLOBAL'}),
    user: Flags.string({description: 'User to log out (with --proxy)', helpGroup: 'GLOBAL'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Logout)
    if (Boolean(flags.proxy) !== Boolean(flags.user)) {
      throw new UsageError('--proxy and --user go together', {hint: 'give both to log out one user, or neither to log out everyone'})
    }
    const [{openKeyStore}, {logoutAll, logoutUser}] = await Promise.all([import('../../client/open-key-store.js'), import('../../client/logout.js')])
    // Private keys in the OS keychain are deleted there too.
    const store = openKeyStore()
    const opts = {
      debug: flags.debug ? (line: string) => process.stderr.write(`DEBUG: ${line}\n`) : undefined,
      warn: (line: string) => process.stderr.write(`${line}\n`),
    }
    if (flags.proxy && flags.user) {
      const {proxyHost} = await logoutUser(store, flags.proxy, flags.user, opts)
      this.out(`Logged out ${flags.user} from ${proxyHost}.\n`)
      return
    }
    await logoutAll(store, opts)
    this.out('Logged out all users from all proxies.\n')
  }
}
