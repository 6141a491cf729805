import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {
  defaultConfigPath,
  loadTeleportConfig,
  mergeConfig,
  parseConfig,
  type StartFlags,
} from '../../../src/config/index.js'
import {BadParameterError, NotFoundError} from '../../../src/lib/errors.js'

const PIN_A = `sha256:${'a'.repeat(64)}`
const PIN_B = `sha256:${'b'.repeat(64)}`
const opts = {hostname: 'host-1', cwd: '/work'}
const file = (text: string) => parseConfig(text, 'teleport.yaml')
const merge = (text: string | undefined, flags: StartFlags = {}) =>
  mergeConfig(text === undefined ? undefined : file(text), flags, {...opts, configFile: text === undefined ? undefined : '/etc/teleport.yaml'})

describe('mergeConfig: no file, no flags', () => {
  test('all three services on their default ports, named after the host', () => {
    const cfg = merge(undefined)
    assert.deepEqual(cfg, {
      configFile: undefined,
      roles: ['auth', 'proxy', 'node'],
      nodename: 'host-1',
      dataDir: '/var/lib/teleport',
      authToken: undefined,
      caPins: [],
      authServers: [{host: '127.0.0.1', port: 3025}],
      storage: {type: 'sqlite', path: '/var/lib/teleport/backend.db'},
      log: {output: 'stderr', severity: 'INFO'},
      auth: {
        enabled: true,
        listenAddr: {host: '0.0.0.0', port: 3025},
        clusterName: 'host-1',
        staticTokens: [],
        authentication: {type: 'local', secondFactor: 'otp'},
        sessionRecording: 'node',
        proxyChecksHostKeys: true,
        webIdleTimeoutMs: 30 * 60_000,
        proxyListenerMode: 'separate',
        connectionLimits: {maxTotal: 256, maxPerSource: 32, maxWaiting: 4096, maxWaitingPerSource: 1024},
      },
      proxy: {
        enabled: true,
        sshListenAddr: {host: '0.0.0.0', port: 3023},
        webListenAddr: {host: '0.0.0.0', port: 3080},
        tunnelListenAddr: {host: '0.0.0.0', port: 3024},
        publicAddrs: [],
        httpsKeyPairs: [],
        connectionLimits: {maxTotal: 256, maxPerSource: 32, maxWaiting: 4096, maxWaitingPerSource: 1024},
      },
      ssh: {enabled: true, listenAddr: {host: '0.0.0.0', port: 3022}, reverseTunnel: 'auto', labels: {}, commands: [], connectionLimits: {maxTotal: 256, maxPerSource: 32, maxWaiting: 4096, maxWaitingPerSource: 1024}},
    })
  })
  test('the real hostname when none is given', async () => {
    const {hostname} = await import('node:os')
    assert.equal(mergeConfig(undefined, {}).nodename, hostname())
  })
})

describe('mergeConfig: connection_limits', () => {
  test("each service's limits for its listeners; the grace time only when the file sets it", () => {
    const cfg = merge('proxy_service:\n  connection_limits: {login_grace_time: 90s, max_startups: 512, per_source_max_startups: 8, max_waiting: 100, per_source_max_waiting: 50}\n')
    assert.deepEqual(cfg.proxy.connectionLimits, {graceMs: 90_000, maxTotal: 512, maxPerSource: 8, maxWaiting: 100, maxWaitingPerSource: 50})
    assert.equal('graceMs' in cfg.ssh.connectionLimits, false, 'the node keeps its own default')
  })
})

describe('mergeConfig: teleport.storage', () => {
  test('SQLite in the data dir by default; a relative path is under data_dir; Teleport\'s dir is sqlite', () => {
    assert.deepEqual(merge('teleport:\n  data_dir: /d\n').storage, {type: 'sqlite', path: '/d/backend.db'})
    assert.deepEqual(merge('teleport:\n  data_dir: /d\n  storage: {type: sqlite, path: state/cluster.db}\n').storage, {type: 'sqlite', path: '/d/state/cluster.db'})
    assert.deepEqual(merge('teleport:\n  storage: {type: dir, path: /srv/b.db}\n').storage, {type: 'sqlite', path: '/srv/b.db'})
    assert.deepEqual(merge('teleport:\n  storage: {type: memory}\n').storage, {type: 'memory'})
  })
  test('audit_events_uri and audit_sessions_uri: file:// directories the auth servers share; other forms refused naming the key', () => {
    const auth = merge('teleport:\n  storage:\n    audit_events_uri: [file:///mnt/teleport/events/]\n    audit_sessions_uri: file://localhost/mnt/teleport/records\n').auth
    assert.equal(auth.auditEventsDir, '/mnt/teleport/events')
    assert.equal(auth.auditSessionsDir, '/mnt/teleport/records')
    assert.equal(merge('teleport:\n  storage: {audit_events_uri: file:///e}\n').auth.auditEventsDir, '/e', 'one URI without a list')
    const none = merge('teleport:\n  data_dir: /d\n').auth
    assert.ok(!('auditEventsDir' in none) && !('auditSessionsDir' in none), 'the data dir by default')
    assert.throws(() => merge('teleport:\n  storage: {audit_events_uri: [dynamodb://events]}\n'), /teleport\.storage: audit_events_uri: "dynamodb:\/\/events" is not a file:\/\/ URI of a directory; only file:\/\/ is supported/)
    assert.throws(() => merge('teleport:\n  storage: {audit_sessions_uri: /mnt/records}\n'), /audit_sessions_uri: "\/mnt\/records" is not a file:\/\/ URI/)
    assert.throws(() => merge('teleport:\n  storage: {audit_events_uri: [file:///a, file:///b]}\n'), /audit_events_uri: give one file:\/\/ URI/)
  })
  test('etcd: peers, prefix (/teleport by default), TLS files and password file under data_dir', () => {
    assert.deepEqual(merge('teleport:\n  storage: {type: etcd, peers: [http://127.0.0.1:2379]}\n').storage, {type: 'etcd', peers: ['http://127.0.0.1:2379'], prefix: '/teleport'})
    const full = [
      'teleport:',
      '  data_dir: /d',
      '  storage:',
      '    type: etcd',
      '    peers: [https://10.0.0.1:2379, https://10.0.0.2:2379]',
      '    prefix: /prod/teleport/',
      '    tls_cert_file: etcd/client.crt',
      '    tls_key_file: /keys/client.key',
      '    tls_ca_file: etcd/ca.crt',
      '    insecure: false',
      '    username: teleport',
      '    password_file: etcd/password',
      '',
    ].join('\n')
    assert.deepEqual(merge(full).storage, {
      type: 'etcd',
      peers: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379'],
      prefix: '/prod/teleport',
      tlsCertFile: '/d/etcd/client.crt',
      tlsKeyFile: '/keys/client.key',
      tlsCaFile: '/d/etcd/ca.crt',
      username: 'teleport',
      passwordFile: '/d/etcd/password',
    })
  })
  test('etcd: each mistake is one line naming the key', () => {
    const refused = (storage: string, pattern: RegExp) =>
      assert.throws(() => merge(`teleport:\n  storage: ${storage}\n`), (err: unknown) => err instanceof BadParameterError && pattern.test(err.message) && !err.message.includes('\n'))
    refused('{type: etcd}', /teleport\.storage: type etcd needs peers/)
    refused('{type: etcd, peers: [10.0.0.1:2379]}', /teleport\.storage: peers: "10\.0\.0\.1:2379" is not an etcd client URL/)
    refused('{type: etcd, peers: [http://a:1], prefix: teleport}', /teleport\.storage: prefix: "teleport" must start with "\/"/)
    refused('{type: etcd, peers: [http://a:1], insecure: yes}', /teleport\.storage: insecure: yes is not supported/)
    refused('{type: etcd, peers: [http://a:1], tls_cert_file: c}', /teleport\.storage: tls_cert_file needs tls_key_file/)
    refused('{type: etcd, peers: [http://a:1], tls_cert_file: c, tls_key_file: k}', /teleport\.storage: tls_cert_file needs tls_ca_file/)
    refused('{type: etcd, peers: [http://a:1], username: u}', /teleport\.storage: username needs password_file/)
    refused('{type: etcd, peers: [http://a:1], path: /x}', /teleport\.storage: an etcd store has no path/)
    refused('{type: sqlite, peers: [http://a:1]}', /teleport\.storage: peers is for etcd/)
  })
  test('an unknown type, or a path for memory, is refused naming the key', () => {
    assert.throws(() => merge('teleport:\n  storage: {type: consul}\n'), (err: unknown) => err instanceof BadParameterError && /teleport\.storage\.type: invalid value "consul"; expected one of sqlite, memory, etcd/.test(err.message))
    assert.throws(() => merge('teleport:\n  storage: {type: memory, path: /x}\n'), (err: unknown) => err instanceof BadParameterError && /teleport\.storage: a memory store has no path/.test(err.message))
  })
})

describe('mergeConfig: roles', () => {
  test("without --roles the file's enabled keys decide; a section that does not say is enabled", () => {
    assert.deepEqual(merge('proxy_service: {enabled: no}\n').roles, ['auth', 'node'])
    const node = merge('teleport: {auth_servers: [10.0.0.1:3025]}\nauth_service: {enabled: false}\nproxy_service: {enabled: "no"}\n')
    assert.deepEqual(node.roles, ['node'])
    assert.equal(node.auth.enabled, false)
    assert.equal(node.proxy.enabled, false)
    assert.equal(node.ssh.enabled, true)
  })
  test('--roles overrides the file', () => {
    const cfg = merge('auth_service: {enabled: no}\nproxy_service: {enabled: no}\n', {roles: 'auth,proxy'})
    assert.deepEqual(cfg.roles, ['auth', 'proxy'])
    assert.deepEqual([cfg.auth.enabled, cfg.proxy.enabled, cfg.ssh.enabled], [true, true, false])
    assert.deepEqual(merge(undefined, {roles: 'node', authServer: ['auth:3025']}).roles, ['node'])
  })
  test('a bad --roles is named', () => {
    assert.throws(() => merge(undefined, {roles: 'auth,prxy'}), {name: 'BadParameterError', message: '--roles: unknown role "prxy"; expected auth, proxy, node'})
    assert.throws(() => merge(undefined, {roles: ''}), {message: '--roles: no roles given; expected one or more of auth, proxy, node'})
  })
  test('a file that disables everything is refused', () => {
    assert.throws(
      () => merge('auth_service: {enabled: no}\nproxy_service: {enabled: no}\nssh_service: {enabled: no}\n'),
      (err: unknown) => err instanceof BadParameterError && /^no services enabled: \/etc\/teleport\.yaml sets enabled: no/.test(err.message) && err.hint === 'enable one, or pass --roles=auth,proxy,node',
    )
  })
})

describe('mergeConfig: flags override the file', () => {
  const text = `teleport:
  nodename: from-file
  data_dir: /srv/teleport
  auth_token: file-token
  ca_pin: ${PIN_A}
  auth_servers: [10.0.0.1:3025]
  log: {severity: WARN}
auth_service: {enabled: no}
proxy_service: {enabled: no}
ssh_service:
  labels: {env: prod, rack: r1}
  commands: [{name: arch, command: [uname, -p], period: 1h}]
`
  test('the file alone', () => {
    const cfg = merge(text)
    assert.equal(cfg.configFile, '/etc/teleport.yaml')
    assert.equal(cfg.nodename, 'from-file')
    assert.equal(cfg.dataDir, '/srv/teleport')
    assert.equal(cfg.authToken, 'file-token')
    assert.deepEqual(cfg.caPins, [PIN_A])
    assert.deepEqual(cfg.authServers, [{host: '10.0.0.1', port: 3025}])
    assert.equal(cfg.log.severity, 'WARN')
    assert.deepEqual(cfg.ssh.labels, {env: 'prod', rack: 'r1'})
    assert.deepEqual(cfg.ssh.commands, [{name: 'arch', command: ['uname', '-p'], periodMs: 3_600_000}])
  })
  test('each flag wins over its key', () => {
    const cfg = merge(text, {
      nodename: 'from-flag',
      dataDir: 'state',
      token: 'flag-token',
      caPin: [`${PIN_A},${PIN_B.toUpperCase().replace('SHA256', 'sha256')}`, PIN_B],
      authServer: ['auth.example.com', '10.0.0.2:4025,10.0.0.3'],
      labels: 'env=staging,team=db,arch=[30m:arch]',
      debug: true,
    })
    assert.equal(cfg.nodename, 'from-flag')
    assert.equal(cfg.dataDir, '/work/state', 'a relative --data-dir resolves against the working directory')
    assert.equal(cfg.authToken, 'flag-token')
    assert.deepEqual(cfg.caPins, [PIN_A, PIN_B, PIN_B])
    assert.deepEqual(cfg.authServers, [
      {host: 'auth.example.com', port: 3025},
      {host: '10.0.0.2', port: 4025},
      {host: '10.0.0.3', port: 3025},
    ])
    assert.deepEqual(cfg.ssh.labels, {env: 'staging', rack: 'r1', team: 'db'}, '--labels adds to the file, its keys win')
    assert.deepEqual(cfg.ssh.commands, [{name: 'arch', command: ['arch'], periodMs: 1_800_000}])
    assert.equal(cfg.log.severity, 'DEBUG')
  })
  test('a static --labels entry replaces a file command label of the same name', () => {
    const cfg = merge(text, {labels: 'arch=x86_64'})
    assert.deepEqual(cfg.ssh.commands, [])
    assert.equal(cfg.ssh.labels.arch, 'x86_64')
  })
  test('--listen-ip rebinds every listener, keeping its port', () => {
    const cfg = merge('auth_service: {listen_addr: "0.0.0.0:4025"}\n', {listenIp: '127.0.0.1'})
    assert.deepEqual(cfg.auth.listenAddr, {host: '127.0.0.1', port: 4025})
    assert.deepEqual(cfg.proxy.sshListenAddr, {host: '127.0.0.1', port: 3023})
    assert.deepEqual(cfg.proxy.webListenAddr, {host: '127.0.0.1', port: 3080})
    assert.deepEqual(cfg.proxy.tunnelListenAddr, {host: '127.0.0.1', port: 3024})
    assert.deepEqual(cfg.ssh.listenAddr, {host: '127.0.0.1', port: 3022})
    assert.deepEqual(cfg.authServers, [{host: '127.0.0.1', port: 4025}])
  })
  test('a node listens where listen_addr says; without one it decides at start; --no-listen always tunnels', () => {
    assert.equal(merge('ssh_service: {listen_addr: "127.0.0.1:4022"}\n', {}).ssh.reverseTunnel, undefined)
    assert.equal(merge('', {}).ssh.reverseTunnel, 'auto')
    assert.equal(merge('ssh_service: {listen_addr: "127.0.0.1:4022"}\n', {noListen: true}).ssh.reverseTunnel, 'always')
  })
  test('bad flag values are named with their flag', () => {
    const cases: Array<[StartFlags, string | RegExp]> = [
      [{labels: 'env=prod,team'}, '--labels: invalid label "team": expected key=value'],
      [{caPin: ['sha256:xyz']}, /^--ca-pin: invalid CA pin "sha256:xyz"/],
      [{caPin: [',']}, '--ca-pin: no value given'],
      [{authServer: ['auth:http']}, '--auth-server: invalid address "auth:http": port must be a number from 1 to 65535'],
      [{listenIp: 'localhost'}, '--listen-ip: invalid IP address "localhost"'],
      [{nodename: '  '}, '--nodename: must not be empty'],
      [{nodename: 'evil\x1b[2J'}, /^--nodename: invalid hostname "evil\\u001b\[2J": use at most 253 letters, digits and - \. _$/],
      [{labels: 'env=a\x1b[2Jb'}, /^--labels: invalid value for label "env": use at most 1024 printable characters, without control characters$/],
      [{token: ''}, '--token: must not be empty'],
      [{dataDir: ''}, '--data-dir: must not be empty'],
    ]
    for (const [flags, message] of cases) {
      assert.throws(() => merge(undefined, flags), (err: unknown) => err instanceof BadParameterError && (typeof message === 'string' ? err.message === message : message.test(err.message)), JSON.stringify(flags))
    }
  })
})

describe('mergeConfig: names a node may not register with', () => {
  test('a nodename or file label auth would refuse stops the start, naming the key', () => {
    assert.throws(() => merge('teleport:\n  nodename: "a b"\n'), {message: /^\/etc\/teleport\.yaml: teleport\.nodename: invalid hostname "a b"/})
    assert.throws(() => merge('ssh_service:\n  labels:\n    env: "x\\ty"\n'), {message: /^\/etc\/teleport\.yaml: ssh_service\.labels: invalid value for label "env"/})
    assert.throws(() => mergeConfig(undefined, {}, {...opts, hostname: 'bad\nname'}), (err: unknown) =>
      err instanceof BadParameterError && err.message.startsWith("this host's name cannot be the node name: invalid hostname") && err.hint === 'set teleport.nodename or pass --nodename')
  })
})

describe('mergeConfig: derived defaults', () => {
  test('cluster_name defaults to the nodename, flag included; the file can set it', () => {
    assert.equal(merge(undefined, {nodename: 'n2'}).auth.clusterName, 'n2')
    assert.equal(merge('teleport: {nodename: n3}\n').auth.clusterName, 'n3')
    assert.equal(merge('auth_service: {cluster_name: example.com}\n', {nodename: 'n2'}).auth.clusterName, 'example.com')
  })
  test('with the auth service on, auth_servers defaults to its own address on loopback', () => {
    assert.deepEqual(merge('auth_service: {listen_addr: "[::]:4025"}\n').authServers, [{host: '::1', port: 4025}])
    assert.deepEqual(merge('auth_service: {listen_addr: "10.1.1.1"}\n').authServers, [{host: '10.1.1.1', port: 3025}])
  })
  test('without the auth service an auth server is required', () => {
    assert.throws(
      () => merge(undefined, {roles: 'node'}),
      (err: unknown) =>
        err instanceof BadParameterError &&
        err.message === 'no auth server to join: this process does not run the auth service' &&
        err.hint === 'set teleport.auth_servers in the config file, or pass --auth-server',
    )
  })
  test('the rest of the file passes through, renamed', () => {
    const cfg = merge(`auth_service:
  tokens: ["node,proxy:abc"]
  authentication: {second_factor: "off"}
  session_recording: proxy-sync
  proxy_checks_host_keys: no
  web_idle_timeout: 1h
proxy_service:
  public_addr: proxy.example.com
  https_keypairs: [{key_file: /k.pem, cert_file: /c.pem}]
teleport:
  log: {output: /var/log/teleport.log}
`)
    assert.deepEqual(cfg.auth.staticTokens, [{roles: ['node', 'proxy'], token: 'abc'}])
    assert.equal(cfg.auth.authentication.secondFactor, 'off')
    assert.equal(cfg.auth.sessionRecording, 'proxy-sync')
    assert.equal(cfg.auth.proxyChecksHostKeys, false)
    assert.equal(cfg.auth.webIdleTimeoutMs, 3_600_000)
    assert.deepEqual(cfg.proxy.publicAddrs, [{host: 'proxy.example.com', port: 3080}])
    assert.deepEqual(cfg.proxy.httpsKeyPairs, [{keyFile: '/k.pem', certFile: '/c.pem'}])
    assert.equal(cfg.log.output, '/var/log/teleport.log')
  })
})

describe('tokens given as file paths', () => {
  const dir = mkdtempSync(join(tmpdir(), 'teleport-merge-'))
  const tokenFile = join(dir, 'join-token')
  writeFileSync(tokenFile, 'from-a-file\n')
  test('auth_token naming a file is that file, trimmed', () => {
    assert.equal(merge(`teleport: {auth_token: ${tokenFile}}\n`).authToken, 'from-a-file')
  })
  test('--token naming a file is that file', () => {
    assert.equal(merge(undefined, {token: tokenFile}).authToken, 'from-a-file')
  })
  test('a path that does not exist is taken as the token itself', () => {
    assert.equal(merge(`teleport: {auth_token: ${join(dir, 'nope')}}\n`).authToken, join(dir, 'nope'))
  })
  test('an empty token file is refused, naming the key', () => {
    const empty = join(dir, 'empty')
    writeFileSync(empty, '')
    assert.throws(() => merge(`teleport: {auth_token: ${empty}}\n`), {message: `/etc/teleport.yaml: teleport.auth_token: ${empty} is empty; expected it to hold a token`})
  })
  test('a static token naming a file is one token per line', () => {
    const many = join(dir, 'many')
    writeFileSync(many, 'one\ntwo\n\n')
    assert.deepEqual(merge(`auth_service: {tokens: ["node:${many}"]}\n`).auth.staticTokens, [
      {roles: ['node'], token: 'one'},
      {roles: ['node'], token: 'two'},
    ])
  })
})

describe('choosing the config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'teleport-path-'))
  const present = join(dir, 'teleport.yaml')
  writeFileSync(present, 'teleport: {nodename: from-env-file}\nproxy_service: {enabled: no}\n')
  test('defaultConfigPath: the override when it exists, else nothing', () => {
    assert.equal(defaultConfigPath({TELEPORT_CONFIG_FILE: present}), present)
    assert.equal(defaultConfigPath({TELEPORT_CONFIG_FILE: join(dir, 'missing.yaml')}), undefined)
    assert.equal(defaultConfigPath({TELEPORT_CONFIG_FILE: ''}), undefined)
    assert.equal(defaultConfigPath({TELEPORT_CONFIG_FILE: dir}), undefined, 'a directory is not a config file')
  })
  test('loadTeleportConfig reads the default file when --config is not given', () => {
    const cfg = loadTeleportConfig({}, {TELEPORT_CONFIG_FILE: present})
    assert.equal(cfg.configFile, present)
    assert.equal(cfg.nodename, 'from-env-file')
    assert.deepEqual(cfg.roles, ['auth', 'node'])
  })
  test('--config wins, and must exist', () => {
    const other = join(dir, 'other.yaml')
    writeFileSync(other, 'teleport: {nodename: from-flag-file}\n')
    assert.equal(loadTeleportConfig({config: other}, {TELEPORT_CONFIG_FILE: present}).nodename, 'from-flag-file')
    assert.throws(() => loadTeleportConfig({config: join(dir, 'nope.yaml')}, {}), NotFoundError)
  })
  test('no file at all: defaults and flags', () => {
    const cfg = loadTeleportConfig({nodename: 'solo', dataDir: '/tmp/solo'}, {TELEPORT_CONFIG_FILE: join(dir, 'missing.yaml')})
    assert.equal(cfg.configFile, undefined)
    assert.deepEqual(cfg.roles, ['auth', 'proxy', 'node'])
    assert.equal(cfg.dataDir, '/tmp/solo')
  })
})
