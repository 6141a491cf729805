import {Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'

export default class Start extends BaseCommand {
  static override summary = 'Start the Teleport service(s).'
  static override description =
    'Starts the services named by --roles (or enabled in the config file) in this process, and runs until SIGINT or SIGTERM.\n' +
    'The config file is --config, or /etc/teleport.yaml when it exists; flags override it. State lives in the data dir.'
  static override examples = [
    '<%= config.bin %> start --roles=auth --data-dir=./data',
    '<%= config.bin %> start --config=/etc/teleport.yaml',
    '<%= config.bin %> start --roles=node --token=<token> --ca-pin=sha256:<hex> --auth-server=10.0.0.1:3025 --labels=env=staging',
    '<%= config.bin %> start --roles=node --token=<token> --ca-pin=sha256:<hex> --auth-server=proxy.example.com:3080 --no-listen',
  ]
  static override flags = {
    config: Flags.string({char: 'c', description: 'Path to a configuration file (default /etc/teleport.yaml when it exists)', env: 'TELEPORT_CONFIG_FILE'}),
    roles: Flags.string({description: 'Comma-separated services to run: auth, proxy, node'}),
    'data-dir': Flags.string({description: 'Data directory for state (default /var/lib/teleport)'}),
    nodename: Flags.string({description: 'Name of this host (default: the hostname)'}),
    token: Flags.string({description: 'Join token, or the path of a file holding it'}),
    'ca-pin': Flags.string({description: 'CA pin (sha256:<hex>) to validate the auth server when joining', multiple: true}),
    'auth-server': Flags.string({description: 'Address of the auth server (host:port)', multiple: true}),
    labels: Flags.string({description: 'Node labels: env=staging,team=db'}),
    'listen-ip': Flags.string({description: 'IP address every service listens on (ports unchanged)'}),
    'no-listen': Flags.boolean({description: "Node: open no port; dial a reverse tunnel to the proxy given as --auth-server (its web address) instead"}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Start)
    // The daemon is loaded only when starting, so other commands stay quick.
    const {loadTeleportConfig} = await import('../../config/index.js')
    const {startProcess, runUntilSignalled} = await import('../../daemon/process.js')
    const {createLogger} = await import('../../lib/log.js')
    const {withSpinner} = await import('../../lib/progress/spinner.js')
    const config = loadTeleportConfig({
      config: flags.config,
      roles: flags.roles,
      dataDir: flags['data-dir'],
      nodename: flags.nodename,
      token: flags.token,
      caPin: flags['ca-pin'],
      authServer: flags['auth-server'],
      labels: flags.labels,
      listenIp: flags['listen-ip'],
      noListen: flags['no-listen'],
      debug: flags.debug,
    })
    const log = createLogger(config.log)
    log.info(`Starting Teleport with ${config.configFile ? `config file ${config.configFile}` : 'no config file'}, roles ${config.roles.join(',')}.`)
    // On a terminal, the slow steps (keys, joining) show a spinner until their log lines replace it.
    const running = await startProcess(config, log, undefined, (text, work) => withSpinner(text, () => work()))
    await runUntilSignalled(running, log)
  }
}
