import {Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {dataFormatFlag, insecureFlag, proxyFlag, renderDataLazy, ttlFlag, userFlag} from '../../client/cli-flags.js'

// Heavy modules (undici, the prompt library, sshpk) are imported inside run(): the command
// module itself loads with every `tsh login --help`.

export default class Login extends BaseCommand {
  static override summary = 'Log in to a cluster and get a short-lived SSH certificate.'
  static override description =
    'Asks the proxy how to log in, makes a new Ed25519 key pair on this machine (the private key never leaves it), prompts on the terminal for the password and, when the cluster asks for one, the OTP code, and trades them for a certificate.\n' +
    'Key, certificate, the cluster\'s host CA (~/.tsh/known_hosts) and the profile are stored under ~/.tsh ($TELEPORT_HOME), the private key in the OS keychain instead with --key-store=keychain, and the key is loaded into the SSH agent ($SSH_AUTH_SOCK) per --add-keys-to-agent.\n' +
    'Defaults for --proxy, --user, --add-keys-to-agent and --key-store come from ~/.tsh/config/config.yaml (over $TELEPORT_GLOBAL_TSH_CONFIG or /etc/tsh.yaml). tsh ssh, scp, ls, join and play run this same login when there is none or the certificate has expired.\n' +
    'With a valid login for the proxy and user already, prints the status without prompting. Without a terminal the login fails: passwords are never read from flags or the environment.\n' +
    'The proxy\'s HTTPS certificate is verified against the system\'s trusted CAs, or against the certificate pinned in ~/.tsh at the first login; --insecure skips the check (and says so) and pins what the proxy presents.'
  static override examples = [
    '<%= config.bin %> login --proxy=proxy.example.com:3080 --user=alice',
    '<%= config.bin %> login --proxy=localhost --insecure --ttl=60',
    '<%= config.bin %> login --add-keys-to-agent=no',
    '<%= config.bin %> login --proxy=proxy.example.com --key-store=keychain',
  ]
  static override flags = {
    proxy: proxyFlag,
    user: userFlag,
    ttl: ttlFlag,
    insecure: insecureFlag,
    auth: Flags.string({description: 'Authentication connector (only local users: password and OTP)', default: 'local', options: ['local']}),
    'add-keys-to-agent': Flags.string({
      char: 'k',
      env: 'TELEPORT_ADD_KEYS_TO_AGENT',
      description: 'Load the key into the SSH agent: auto (unless it is gpg-agent), yes, no, or only (in the agent, not on disk) [default: add_keys_to_agent in the config file, else auto]',
      options: ['auto', 'no', 'yes', 'only'],
    }),
    'key-store': Flags.string({
      description: 'Where to keep the private key: file (~/.tsh/keys), keychain (the OS keychain; fails if none answers), auto (the keychain when one answers, else file) [default: key_store in the config file, else where the current login keeps it, else file]. With a valid login already, its key is moved there.',
      options: ['auto', 'file', 'keychain'],
    }),
    format: dataFormatFlag(),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Login)
    const [{loginWithConfig}, {hasTerminal, terminalPrompter}, {collectStatus, renderStatus, statusData}, {withSpinner}] = await Promise.all([
      import('../../client/login-flow.js'),
      import('../../client/prompts.js'),
      import('../../client/status.js'),
      import('../../lib/progress/spinner.js'),
    ])
    const stderr = (line: string) => process.stderr.write(line + '\n')
    const {store} = await loginWithConfig({
      ...(flags.proxy ? {proxy: flags.proxy} : {}),
      ...(flags.user ? {user: flags.user} : {}),
      ...(flags.ttl !== undefined ? {ttlMinutes: flags.ttl} : {}),
      insecure: flags.insecure,
      authType: flags.auth,
      ...(flags['add-keys-to-agent'] ? {addKeysToAgent: flags['add-keys-to-agent'] as 'auto' | 'no' | 'yes' | 'only'} : {}),
      ...(flags['key-store'] ? {keyStore: flags['key-store'] as 'auto' | 'file' | 'keychain'} : {}),
      ...(hasTerminal() ? {prompter: terminalPrompter()} : {}),
      warn: stderr,
      debug: flags.debug ? (line) => stderr(`DEBUG: ${line}`) : () => {},
      waiting: (text, work) => withSpinner(text, () => work()),
    })
    const profiles = collectStatus(store)
    this.out(await renderDataLazy(flags.format, () => statusData(profiles), () => renderStatus(profiles)))
  }
}
