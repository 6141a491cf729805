import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {loadConfigFile, parseConfig} from '../../../src/config/index.js'
import {BadParameterError, NotFoundError} from '../../../src/lib/errors.js'

const PIN = `sha256:${'ab'.repeat(32)}`

// REFERENCE.md's example, with real values where it shows placeholders.
const REFERENCE_EXAMPLE = `teleport:
  nodename: node-1                 # default: the hostname
  data_dir: /var/lib/teleport
  auth_token: join-me
  ca_pin: ${PIN}
  auth_servers: [10.0.0.1:3025]    # or a proxy's web address, for joining through the proxy
  log: {output: stderr, severity: INFO}
auth_service:
  enabled: true
  listen_addr: 0.0.0.0:3025
  cluster_name: example.com
  tokens: ["node:abc123", "proxy:def456"]   # static tokens, never expire
  authentication: {type: local, second_factor: otp}
  session_recording: node          # node | node-sync | proxy | proxy-sync | off
proxy_service:
  enabled: true
  listen_addr: 0.0.0.0:3023        # SSH
  web_listen_addr: 0.0.0.0:3080    # HTTPS
  tunnel_listen_addr: 0.0.0.0:3024
  public_addr: proxy.example.com:3080
  https_keypairs: [{key_file: /path/key.pem, cert_file: /path/cert.pem}]
ssh_service:
  enabled: true
  listen_addr: 0.0.0.0:3022
  labels: {env: staging}
  commands:
  - {name: arch, command: [uname, -p], period: 1h}
`

/** The message of the BadParameterError parseConfig throws for `text`. */
function refusal(text: string, file = 'teleport.yaml'): string {
  try {
    parseConfig(text, file)
  } catch (err) {
    assert.ok(err instanceof BadParameterError, `expected BadParameterError, got ${String(err)}`)
    return err.message
  }
  assert.fail('expected the config to be refused')
}


const DEFAULT_LIMITS = {login_grace_time: undefined, max_startups: 256, per_source_max_startups: 32, max_waiting: 4096, per_source_max_waiting: 1024}
describe('parseConfig: defaults', () => {
  test('an empty file is every default', () => {
    for (const text of ['', '# nothing here\n', 'teleport:\n', 'teleport: {}\nauth_service: ~\n']) {
      const fc = parseConfig(text, 't.yaml')
      assert.equal(fc.version, 'v3')
      assert.equal(fc.teleport.nodename, undefined, 'nodename is settled at merge (hostname)')
      assert.equal(fc.teleport.data_dir, '/var/lib/teleport')
      assert.equal(fc.teleport.auth_token, undefined)
      assert.deepEqual(fc.teleport.ca_pin, [])
      assert.deepEqual(fc.teleport.auth_servers, [])
      assert.deepEqual(fc.teleport.log, {output: 'stderr', severity: 'INFO'})
      assert.equal(fc.auth_service.enabled, true)
      assert.deepEqual(fc.auth_service.listen_addr, {host: '0.0.0.0', port: 3025})
      assert.equal(fc.auth_service.cluster_name, undefined)
      assert.deepEqual(fc.auth_service.tokens, [])
      assert.deepEqual(fc.auth_service.authentication, {type: 'local', second_factor: 'otp'})
      assert.equal(fc.auth_service.session_recording, 'node')
      assert.equal(fc.proxy_service.enabled, true)
      assert.deepEqual(fc.proxy_service.listen_addr, {host: '0.0.0.0', port: 3023})
      assert.deepEqual(fc.proxy_service.web_listen_addr, {host: '0.0.0.0', port: 3080})
      assert.deepEqual(fc.proxy_service.tunnel_listen_addr, {host: '0.0.0.0', port: 3024})
      assert.deepEqual(fc.proxy_service.public_addr, [])
      assert.deepEqual(fc.proxy_service.https_keypairs, [])
      assert.equal(fc.ssh_service.enabled, true)
      // Unset: 0.0.0.0:3022, or a reverse tunnel for a node joining through a proxy (decided at start).
      assert.equal(fc.ssh_service.listen_addr, undefined)
      assert.deepEqual(fc.ssh_service.labels, {})
      assert.deepEqual(fc.ssh_service.commands, [])
    }
  })
  test('an empty value, ~ and "" all mean "not set"', () => {
    const fc = parseConfig('teleport:\n  data_dir:\n  auth_token: ""\n  ca_pin: ~\nauth_service:\n  listen_addr: null\n', 't.yaml')
    assert.equal(fc.teleport.data_dir, '/var/lib/teleport')
    assert.equal(fc.teleport.auth_token, undefined)
    assert.deepEqual(fc.teleport.ca_pin, [])
    assert.deepEqual(fc.auth_service.listen_addr, {host: '0.0.0.0', port: 3025})
  })
  test('a listen address without a port takes the service default', () => {
    const fc = parseConfig('auth_service: {listen_addr: 127.0.0.1}\nssh_service: {listen_addr: "[::1]"}\n', 't.yaml')
    assert.deepEqual(fc.auth_service.listen_addr, {host: '127.0.0.1', port: 3025})
    assert.deepEqual(fc.ssh_service.listen_addr, {host: '::1', port: 3022})
  })
})

describe('parseConfig: the REFERENCE.md example', () => {
  test('parses to the right values', () => {
    const fc = parseConfig(REFERENCE_EXAMPLE, '/etc/teleport.yaml')
    assert.deepEqual(fc.teleport, {
      nodename: 'node-1',
      data_dir: '/var/lib/teleport',
      auth_token: 'join-me',
      ca_pin: [PIN],
      auth_servers: [{host: '10.0.0.1', port: 3025}],
      storage: {
        type: 'sqlite',
        path: undefined,
        peers: undefined,
        prefix: undefined,
        tls_cert_file: undefined,
        tls_key_file: undefined,
        tls_ca_file: undefined,
        insecure: false,
        username: undefined,
        password_file: undefined,
        audit_events_uri: [],
        audit_sessions_uri: undefined,
      },
      log: {output: 'stderr', severity: 'INFO'},
    })
    assert.deepEqual(fc.auth_service, {
      enabled: true,
      listen_addr: {host: '0.0.0.0', port: 3025},
      cluster_name: 'example.com',
      tokens: [
        {roles: ['node'], token: 'abc123'},
        {roles: ['proxy'], token: 'def456'},
      ],
      authentication: {type: 'local', second_factor: 'otp'},
      session_recording: 'node',
      proxy_checks_host_keys: true,
      web_idle_timeout: 30 * 60_000,
      proxy_listener_mode: 'separate',
      connection_limits: DEFAULT_LIMITS,
    })
    assert.deepEqual(fc.proxy_service, {
      enabled: true,
      listen_addr: {host: '0.0.0.0', port: 3023},
      web_listen_addr: {host: '0.0.0.0', port: 3080},
      tunnel_listen_addr: {host: '0.0.0.0', port: 3024},
      public_addr: [{host: 'proxy.example.com', port: 3080}],
      https_keypairs: [{key_file: '/path/key.pem', cert_file: '/path/cert.pem'}],
      connection_limits: DEFAULT_LIMITS,
    })
    assert.deepEqual(fc.ssh_service, {
      enabled: true,
      listen_addr: {host: '0.0.0.0', port: 3022},
      labels: {env: 'staging'},
      commands: [{name: 'arch', command: ['uname', '-p'], period: 3_600_000}],
      connection_limits: DEFAULT_LIMITS,
    })
  })
  test('version: v3 at the top is allowed; other versions are not', () => {
    assert.equal(parseConfig('version: v3\n', 't.yaml').version, 'v3')
    assert.match(refusal('version: v9\n'), /^teleport\.yaml:1: version: invalid value "v9"; expected one of v1, v2, v3/)
  })
  test('Teleport spellings: enabled: yes/no, lower-case severity, ca_pin as a list, several public addresses', () => {
    const fc = parseConfig(
      `teleport:\n  log: {severity: warning}\n  ca_pin: [${PIN.toUpperCase().replace('SHA256', 'sha256')}]\n` +
        'auth_service: {enabled: no}\nproxy_service:\n  enabled: "off"\n  public_addr: [a.example.com, "b.example.com:443"]\nssh_service: {enabled: Yes}\n',
      't.yaml',
    )
    assert.equal(fc.teleport.log.severity, 'WARN')
    assert.deepEqual(fc.teleport.ca_pin, [PIN], 'pins are normalised to lower case')
    assert.equal(fc.auth_service.enabled, false)
    assert.equal(fc.proxy_service.enabled, false)
    assert.equal(fc.ssh_service.enabled, true)
    assert.deepEqual(fc.proxy_service.public_addr, [
      {host: 'a.example.com', port: 3080},
      {host: 'b.example.com', port: 443},
    ])
  })
  test('scalars keep their source text: a numeric token or label stays as written', () => {
    const fc = parseConfig('teleport: {auth_token: 0123, nodename: 42}\nssh_service: {labels: {rack: 007, ok: true}}\n', 't.yaml')
    assert.equal(fc.teleport.auth_token, '0123')
    assert.equal(fc.teleport.nodename, '42')
    assert.deepEqual(fc.ssh_service.labels, {rack: '007', ok: 'true'})
  })
  test('anchors and aliases resolve', () => {
    const fc = parseConfig('ssh_service:\n  labels: &l {env: prod}\n  commands:\n  - {name: a, command: &c [uname], period: 30s}\n  - {name: b, command: *c}\n', 't.yaml')
    assert.deepEqual(fc.ssh_service.commands, [
      {name: 'a', command: ['uname'], period: 30_000},
      {name: 'b', command: ['uname'], period: 3_600_000},
    ])
  })
})

describe('parseConfig: refusals name the file, the line and the key', () => {
  test('an alias bomb is refused in one sentence, before it is expanded', () => {
    // 10^6 labels from six lines: the loader used to expand them all (100% CPU, unbounded memory).
    const levels = ['l0: &l0 [a,a,a,a,a,a,a,a,a,a]', ...[1, 2, 3, 4, 5].map((i) => `l${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(',')}]`)]
    const text = `x:\n${levels.map((l) => `  ${l}`).join('\n')}\nssh_service:\n  labels: {bomb: *l5}\n`
    assert.equal(refusal(text), 'teleport.yaml: YAML aliases expand to too many values (more than 100 copies)')
  })
  test('a typo in a key, with a suggestion', () => {
    const text = 'teleport:\n  nodename: a\n\nauth_service:\n  enabled: true\n  cluster_name: x\n  listen_adr: 0.0.0.0:3025\n'
    assert.equal(refusal(text, '/etc/teleport.yaml'), '/etc/teleport.yaml:7: unknown key "auth_service.listen_adr" (did you mean "listen_addr"?)')
    assert.equal(refusal('auth_servce:\n  enabled: true\n'), 'teleport.yaml:1: unknown key "auth_servce" (did you mean "auth_service"?)')
    assert.equal(refusal('teleport:\n  log:\n    sevrity: INFO\n'), 'teleport.yaml:3: unknown key "teleport.log.sevrity" (did you mean "severity"?)')
  })
  test('an unknown key with nothing close gets no suggestion', () => {
    assert.equal(refusal('kubernetes_service: {enabled: true}\n'), 'teleport.yaml:1: unknown key "kubernetes_service"')
    assert.equal(refusal('teleport:\n  __proto__: x\n'), 'teleport.yaml:2: unknown key "teleport.__proto__"')
  })
  test('an unknown key inside a list entry', () => {
    assert.equal(
      refusal('ssh_service:\n  commands:\n  - name: a\n    command: [b]\n    perod: 1h\n'),
      'teleport.yaml:5: unknown key "ssh_service.commands[0].perod" (did you mean "period"?)',
    )
  })
  test('wrong types', () => {
    assert.equal(refusal('teleport:\n  nodename: n\n  data_dir: [a, b]\n'), 'teleport.yaml:3: teleport.data_dir: expected a string, got a list')
    const labels = 'teleport: {}\nssh_service:\n  enabled: true\n  labels:\n    env:\n      - a\n'
    assert.equal(refusal(labels, '/etc/teleport.yaml'), '/etc/teleport.yaml:6: ssh_service.labels.env: expected a string, got a list')
    assert.equal(refusal('ssh_service:\n  labels: [a]\n'), 'teleport.yaml:2: ssh_service.labels: expected a map, got a list')
    assert.equal(refusal('teleport: yes\n'), 'teleport.yaml:1: teleport: expected a map, got a string')
    assert.equal(refusal('auth_service:\n  tokens: node:abc\n'), 'teleport.yaml:2: auth_service.tokens: expected a list, got a string')
    assert.equal(refusal('ssh_service:\n  commands: [{name: a, command: uname -p}]\n'), 'teleport.yaml:2: ssh_service.commands[0].command: expected a list, got a string')
    assert.equal(refusal('- teleport\n'), 'teleport.yaml:1: top level: expected a map, got a list')
    assert.match(refusal('auth_service:\n  enabled: maybe\n'), /^teleport\.yaml:2: auth_service\.enabled: invalid boolean "maybe"; expected yes\/no or true\/false$/)
  })
  test('bad enum values', () => {
    assert.equal(
      refusal('auth_service:\n  session_recording: nod\n'),
      'teleport.yaml:2: auth_service.session_recording: invalid value "nod"; expected one of node, node-sync, proxy, proxy-sync, off (did you mean "node"?)',
    )
    assert.equal(refusal('auth_service:\n  web_idle_timeout: 30s\n'), 'teleport.yaml:2: auth_service.web_idle_timeout: invalid idle timeout "30s": must be at least 1m')
    assert.match(refusal('auth_service:\n  authentication: {type: github}\n'), /^teleport\.yaml:2: auth_service\.authentication\.type: invalid value "github"; expected one of local$/)
    assert.match(refusal('auth_service:\n  authentication:\n    second_factor: u2f\n'), /^teleport\.yaml:3: auth_service\.authentication\.second_factor: invalid value "u2f"; expected one of off, otp, on, optional/)
    assert.match(refusal('teleport:\n  log: {severity: LOUD}\n'), /^teleport\.yaml:2: teleport\.log\.severity: invalid value "LOUD"; expected one of DEBUG, INFO, WARN, ERROR/)
  })
  test('bad durations', () => {
    assert.equal(
      refusal('ssh_service:\n  commands:\n  - name: arch\n    command: [uname]\n    period: 1 hour\n'),
      'teleport.yaml:5: ssh_service.commands[0].period: invalid duration "1 hour": expected a string like "8h", "30m" or "1h30m"',
    )
    assert.match(refusal('ssh_service:\n  commands: [{name: a, command: [b], period: 10ms}]\n'), /^teleport\.yaml:2: ssh_service\.commands\[0\]\.period: invalid period "10ms": must be at least 1s$/)
  })
  test('connection_limits: Teleport-style keys in each service, read as numbers and a duration', () => {
    const fc = parseConfig('proxy_service:\n  connection_limits:\n    login_grace_time: 2m\n    per_source_max_startups: 64\n    per_source_max_waiting: 0\n', 't.yaml')
    assert.deepEqual(fc.proxy_service.connection_limits, {...DEFAULT_LIMITS, login_grace_time: 120_000, per_source_max_startups: 64, per_source_max_waiting: 0})
    assert.deepEqual(fc.ssh_service.connection_limits, DEFAULT_LIMITS)
  })
  test('bad connection_limits: one line naming the key and what it takes', () => {
    assert.equal(refusal('proxy_service:\n  connection_limits:\n    max_startups: 0\n'), 'teleport.yaml:3: proxy_service.connection_limits.max_startups: invalid count "0": expected a whole number, at least 1')
    assert.equal(refusal('ssh_service:\n  connection_limits: {per_source_max_waiting: -1}\n'), 'teleport.yaml:2: ssh_service.connection_limits.per_source_max_waiting: invalid count "-1": expected a whole number, at least 0')
    assert.equal(refusal('auth_service:\n  connection_limits: {max_waiting: lots}\n'), 'teleport.yaml:2: auth_service.connection_limits.max_waiting: invalid count "lots": expected a whole number, at least 0')
    assert.equal(refusal('proxy_service:\n  connection_limits: {login_grace_time: 500ms}\n'), 'teleport.yaml:2: proxy_service.connection_limits.login_grace_time: invalid login grace time "500ms": must be at least 1s')
    assert.match(refusal('proxy_service:\n  connection_limits: {max_startup: 10}\n'), /^teleport\.yaml:2: unknown key "proxy_service\.connection_limits\.max_startup" \(did you mean "max_startups"\?\)$/)
  })
  test('durations parse like Go', () => {
    const fc = parseConfig('ssh_service:\n  commands:\n  - {name: a, command: [x], period: 1h30m}\n  - {name: b, command: [x], period: 45s}\n  - {name: c, command: [x], period: 30m}\n', 't.yaml')
    assert.deepEqual(fc.ssh_service.commands.map((c) => c.period), [5_400_000, 45_000, 1_800_000])
  })
  test('bad addresses', () => {
    assert.equal(refusal('auth_service:\n  listen_addr: 0.0.0.0:99999\n'), 'teleport.yaml:2: auth_service.listen_addr: invalid address "0.0.0.0:99999": port must be a number from 0 to 65535')
    assert.equal(refusal('teleport:\n  auth_servers: [10.0.0.1:3025, "auth:x"]\n'), 'teleport.yaml:2: teleport.auth_servers[1]: invalid address "auth:x": port must be a number from 1 to 65535')
    assert.equal(refusal('teleport:\n  auth_servers:\n  - https://auth.example.com\n'), 'teleport.yaml:3: teleport.auth_servers[0]: invalid address "https://auth.example.com": expected host:port, not a URL')
    assert.equal(refusal('proxy_service:\n  public_addr: "bad host:3080"\n'), 'teleport.yaml:2: proxy_service.public_addr: invalid address "bad host:3080": "bad host" is not a valid host name or IP address')
    assert.equal(refusal('proxy_service:\n  web_listen_addr: ":3080"\n'), 'teleport.yaml:2: proxy_service.web_listen_addr: invalid address ":3080": missing host')
  })
  test('bad static token entries', () => {
    assert.equal(
      refusal('auth_service:\n  tokens:\n  - node:abc\n  - nodeabc\n'),
      'teleport.yaml:4: auth_service.tokens[1]: invalid token entry "nodeabc": expected "role[,role]:token", e.g. "node:abc123"',
    )
    assert.equal(
      refusal('auth_service:\n  tokens: ["node,prxy:abc"]\n'),
      'teleport.yaml:2: auth_service.tokens[0]: invalid token entry "node,prxy:abc": unknown role "prxy"; expected node, proxy, auth, trusted_cluster',
    )
    assert.match(refusal('auth_service:\n  tokens: ["node:"]\n'), /tokens\[0\]: invalid token entry "node:": empty token/)
    const fc = parseConfig('auth_service:\n  tokens: ["Node, Proxy,trusted_cluster:s3cret:with:colons"]\n', 't.yaml')
    assert.deepEqual(fc.auth_service.tokens, [{roles: ['node', 'proxy', 'trusted_cluster'], token: 's3cret:with:colons'}])
  })
  test('bad CA pins', () => {
    assert.equal(
      refusal('teleport:\n  ca_pin: sha256:abcd\n'),
      'teleport.yaml:2: teleport.ca_pin: invalid CA pin "sha256:abcd": expected sha256:<64 hex digits>, as "tctl status" prints it',
    )
    assert.match(refusal(`teleport:\n  ca_pin:\n  - ${PIN}\n  - md5:${'a'.repeat(64)}\n`), /^teleport\.yaml:4: teleport\.ca_pin\[1\]: invalid CA pin/)
  })
  test('missing and duplicate entries in lists of maps', () => {
    assert.equal(refusal('ssh_service:\n  commands:\n  - {command: [uname], period: 1h}\n'), 'teleport.yaml:3: ssh_service.commands[0]: missing key "name"')
    assert.equal(refusal('proxy_service:\n  https_keypairs:\n  - key_file: /k.pem\n'), 'teleport.yaml:3: proxy_service.https_keypairs[0]: missing key "cert_file"')
    assert.equal(
      refusal('ssh_service:\n  commands:\n  - {name: a, command: [x]}\n  - {name: a, command: [y]}\n'),
      'teleport.yaml:4: ssh_service.commands[1].name: duplicate name "a"',
    )
    assert.equal(refusal('ssh_service:\n  commands: [{name: a, command: []}]\n'), 'teleport.yaml:2: ssh_service.commands[0].command: must not be an empty list')
  })
  test('a bad label key', () => {
    assert.equal(refusal('ssh_service:\n  labels:\n    "bad key": v\n'), 'teleport.yaml:3: ssh_service.labels: invalid label key "bad key": use at most 128 letters, digits and / . _ : * -')
  })
})

describe('parseConfig: malformed YAML', () => {
  test('reports the line and the reason', () => {
    assert.equal(refusal('teleport:\n  nodename: a\n  data_dir: /x\n    bad: indent\n'), 'teleport.yaml:3: invalid YAML: Nested mappings are not allowed in compact mappings')
    assert.match(refusal('teleport:\n  nodename: a\nauth_service:\n  tokens: [a, b\n'), /^teleport\.yaml:\d+: invalid YAML: /)
    assert.equal(refusal('auth_service: {}\nteleport:\n  nodename: a\n  nodename: b\n'), 'teleport.yaml:4: invalid YAML: Map keys must be unique')
    assert.equal(refusal('teleport:\n\tnodename: a\n'), 'teleport.yaml:2: invalid YAML: Tabs are not allowed as indentation')
  })
  test('one document only', () => {
    assert.match(refusal('teleport: {}\n---\nauth_service: {}\n'), /^teleport\.yaml:2: invalid YAML: Source contains multiple documents/)
  })
})

describe('loadConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'teleport-config-'))
  test('reads and names the file in errors', () => {
    const good = join(dir, 'good.yaml')
    writeFileSync(good, REFERENCE_EXAMPLE)
    assert.equal(loadConfigFile(good).auth_service.cluster_name, 'example.com')
    const bad = join(dir, 'bad.yaml')
    writeFileSync(bad, 'teleport:\n  data_dir: [x]\n')
    assert.throws(() => loadConfigFile(bad), {name: 'BadParameterError', message: `${bad}:2: teleport.data_dir: expected a string, got a list`})
  })
  test('a missing file is NotFound; a directory is refused', () => {
    assert.throws(() => loadConfigFile(join(dir, 'nope.yaml')), (err: unknown) => err instanceof NotFoundError && /nope\.yaml does not exist/.test(err.message))
    assert.throws(() => loadConfigFile(dir), {name: 'BadParameterError', message: `config file ${dir} is a directory`})
  })
})
