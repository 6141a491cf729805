import assert from 'node:assert/strict'
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {repoRoot, runTool, type CliResult, nobodySkipReason} from '../helpers/cli.js'
import {poll} from '../helpers/eventually.js'
import {freePort, LOGIN, opensshExec, SSHD, startSshd} from '../interop/helpers.js'

// tctl against a real auth service: `teleport start --roles=auth` in its own process, with a
// config file on a free loopback port, driven by the real bin/tctl.

const CLUSTER = 'tctl-e2e.test'
const STATIC_TOKEN = 'static-e2e-token-0123456789'

let dir: string
let config: string
let dataDir: string
let port: number
let daemon: ChildProcess | undefined
let daemonLog = ''

/** tctl with the test's config file, and the machine's own config kept out of it. */
function tctl(args: string[], options: {input?: string; env?: NodeJS.ProcessEnv} = {}): CliResult {
  return runTool('tctl', [...args, '-c', config], {env: {TELEPORT_CONFIG_FILE: '', ...options.env}, ...(options.input !== undefined ? {input: options.input} : {})})
}

function ok(r: CliResult): string {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`)
  assert.equal(r.stderr, '')
  return r.stdout
}

/** A user error: exit 1 (2 for usage), nothing on stdout, exactly one line on stderr. */
function fails(r: CliResult, pattern: RegExp, code = 1): string {
  assert.equal(r.code, code, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`)
  assert.equal(r.stdout, '')
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one stderr line expected:\n${r.stderr}`)
  assert.match(r.stderr, /^ERROR: /)
  assert.match(r.stderr, pattern)
  assert.doesNotMatch(r.stderr, /\bat \S+:\d+:\d+/, 'no stack trace')
  return r.stderr
}

function file(name: string, text: string): string {
  const p = path.join(dir, name)
  writeFileSync(p, text)
  return p
}

function startDaemon(): ChildProcess {
  return spawn(path.join(repoRoot, 'bin', 'teleport'), ['start', '--roles=auth', `--config=${config}`, `--data-dir=${dataDir}`], {
    env: {...process.env, NO_COLOR: '1'},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

const ROLE_DEV = `kind: role
version: v5
metadata:
  name: dev
spec:
  options:
    max_session_ttl: 8h
  allow:
    logins: [dev, '{{internal.logins}}']
    node_labels: {env: test}
`

describe('tctl against a running auth service', {timeout: 600_000}, () => {
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tctl-e2e-'))
    chmodSync(dir, 0o755)
    dataDir = path.join(dir, 'data')
    port = await freePort()
    config = file(
      'teleport.yaml',
      `teleport:
  nodename: tctl-e2e
  data_dir: ${dataDir}
auth_service:
  enabled: yes
  listen_addr: 127.0.0.1:${port}
  cluster_name: ${CLUSTER}
  tokens: ["node:${STATIC_TOKEN}"]
proxy_service:
  enabled: no
ssh_service:
  enabled: no
`,
    )
    chmodSync(config, 0o644)
    daemon = startDaemon()
    daemon.stdout?.on('data', (d: Buffer) => (daemonLog += d.toString()))
    daemon.stderr?.on('data', (d: Buffer) => (daemonLog += d.toString()))
    let r = tctl(['status'])
    await poll(() => (r = tctl(['status'])).code === 0 || daemon!.exitCode !== null, {timeoutMs: 60_000, intervalMs: 250})
    if (r.code !== 0) throw new Error(`the auth service did not come up (exit ${daemon.exitCode}):\n${daemonLog}\nlast tctl: ${r.stderr}`)
  })

  after(async () => {
    if (daemon && daemon.exitCode === null) {
      const exited = new Promise((resolve) => daemon!.once('exit', resolve))
      daemon.kill('SIGTERM')
      const timer = setTimeout(() => daemon!.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  let caPin = ''

  test('status: cluster, version, CA pin, CAs and counts', () => {
    const out = ok(tctl(['status']))
    assert.match(out, new RegExp(`^Cluster: +${CLUSTER.replace(/\./g, '\\.')}$`, 'm'))
    assert.match(out, /^Version: +\S+$/m)
    caPin = out.match(/^CA pin: +(sha256:[0-9a-f]{64})$/m)?.[1] ?? ''
    assert.ok(caPin, out)
    assert.match(out, /^User CA: +SHA256:\S+ \(rotation: standby\)$/m)
    assert.match(out, /^Host CA: +SHA256:\S+ \(rotation: standby\)$/m)
    assert.match(out, /^Roles: +\d+$/m)
    const json = JSON.parse(ok(tctl(['status', '--format', 'json']))) as {cluster_name: string; ca_pins: string[]; counts: {roles: number}}
    assert.equal(json.cluster_name, CLUSTER)
    assert.deepEqual(json.ca_pins, [caPin])
    assert.ok(json.counts.roles >= 3)
  })

  test('tokens add prints the join command; ls and rm manage the token', () => {
    const out = ok(tctl(['tokens', 'add', '--type=node']))
    const token = out.match(/^The invite token: ([0-9a-f]{32})$/m)?.[1]
    assert.ok(token, out)
    assert.equal(
      out,
      `The invite token: ${token}\n` +
        'This token will expire in 15 minutes.\n' +
        'This token can be used once.\n\n' +
        'Run this on the new node to join the cluster:\n\n' +
        '> teleport start \\\n' +
        '   --roles=node \\\n' +
        `   --token=${token} \\\n` +
        `   --ca-pin=${caPin} \\\n` +
        `   --auth-server=127.0.0.1:${port}\n\n` +
        'Please note:\n\n' +
        '  - This invitation token will expire in 15 minutes\n' +
        `  - 127.0.0.1:${port} must be reachable from the new node\n`,
    )
    const ls = ok(tctl(['tokens', 'ls']))
    assert.match(ls, /^Token +Type +Expiry Time \(UTC\)$/m)
    assert.match(ls, new RegExp(`^${token} +node +\\d\\d \\w{3} \\d\\d \\d\\d:\\d\\d UTC$`, 'm'))
    assert.match(ls, new RegExp(`^${STATIC_TOKEN} +node +never$`, 'm'))
    assert.equal(ok(tctl(['tokens', 'rm', token!])), `Token ${token} has been deleted\n`)
    assert.doesNotMatch(ok(tctl(['tokens', 'ls'])), new RegExp(token!))
    fails(tctl(['tokens', 'rm', token!]), /not found/)
  })

  test('tokens add --format json, a chosen value, a TTL', () => {
    const data = JSON.parse(ok(tctl(['tokens', 'add', '--type=node,proxy', '--ttl=1h', '--value=my-chosen-token', '--format=json']))) as Record<string, unknown>
    assert.equal(data.token, 'my-chosen-token')
    assert.deepEqual(data.roles, ['node', 'proxy'])
    assert.deepEqual(data.ca_pins, [caPin])
    assert.equal(data.auth_server, `127.0.0.1:${port}`)
    const left = new Date(data.expires as string).getTime() - Date.now()
    assert.ok(left > 59 * 60_000 && left <= 60 * 60_000, String(left))
    fails(tctl(['tokens', 'add', '--type=bogus']), /unknown token type "bogus"/)
    fails(tctl(['tokens', 'add', '--type=node', '--ttl=soon']), /--ttl: invalid duration "soon"/, 2)
  })

  test('tokens add --uses=N says how many hosts may join with it; ls -f json shows the uses left', () => {
    const out = ok(tctl(['tokens', 'add', '--type=node', '--uses=3', '--value=three-hosts']))
    assert.match(out, /^This token will expire in 15 minutes\.\nThis token can be used 3 times\.\n\n/m)
    const listed = (JSON.parse(ok(tctl(['tokens', 'ls', '--format=json']))) as {token: string; uses_left?: number}[]).find((t) => t.token === 'three-hosts')
    assert.equal(listed?.uses_left, 3)
    fails(tctl(['tokens', 'add', '--type=node', '--uses=0']), /--uses/, 2)
  })

  test('users add prints the invite; ls lists; a duplicate is refused', () => {
    const out = ok(tctl(['users', 'add', 'alice', '--roles=access', '--logins=root,alice']))
    const lines = out.split('\n')
    assert.equal(lines[0], 'User "alice" has been created but requires a password. Share this URL with the user to complete user setup, link is valid for 1h:')
    assert.match(lines[1]!, /^https:\/\/\S+\/web\/invite\/\S+$/)
    assert.equal(lines[2], '')
    assert.match(lines[3]!, /^NOTE: Make sure \S+ points at a Teleport proxy which users can access\.$/)
    assert.equal(lines[4], '')
    assert.equal(lines.length, 5)
    assert.match(ok(tctl(['users', 'ls'])), /^alice +access +root,alice$/m)
    const users = JSON.parse(ok(tctl(['users', 'ls', '--format', 'json']))) as Array<{name: string}>
    assert.ok(users.some((u) => u.name === 'alice'))
    fails(tctl(['users', 'add', 'alice', '--roles=access']), /user "alice" already exists/)
    fails(tctl(['users', 'add', 'nobody-role', '--roles=no-such-role']), /role "no-such-role"/)
    fails(tctl(['users', 'add', 'x']), /Missing required flag roles/, 2)
  })

  test('users reset and update', () => {
    const out = ok(tctl(['users', 'reset', 'alice']))
    assert.match(out, /^User "alice" has been reset\. Share this URL with the user to complete password reset, link is valid for 8h:\nhttps:\/\/\S+\/web\/reset\/\S+\n\nNOTE: /)
    assert.equal(ok(tctl(['users', 'update', 'alice', '--set-logins=alice,ubuntu'])), 'User "alice" has been updated:\n\tNew logins: alice,ubuntu\n')
    assert.match(ok(tctl(['users', 'ls'])), /^alice +access +alice,ubuntu$/m)
    fails(tctl(['users', 'reset', 'ghost']), /user "ghost" is not found/)
  })

  test('create a role from YAML; again is refused; --force updates; get prints it back', () => {
    const roleFile = file('dev.yaml', ROLE_DEV)
    assert.equal(ok(tctl(['create', '-f', roleFile])), 'role "dev" has been created\n')
    fails(tctl(['create', '-f', roleFile]), /role "dev" already exists/)
    assert.equal(ok(tctl(['create', '--force', '-f', roleFile])), 'role "dev" has been updated\n')
    const yaml = ok(tctl(['get', 'role/dev']))
    assert.match(yaml, /^kind: role$/m)
    assert.match(yaml, /^ {2}name: dev$/m)
    assert.match(yaml, /max_session_ttl: 8h/)
    // What get prints, create takes back.
    file('dev-roundtrip.yaml', yaml)
    assert.equal(ok(tctl(['create', '--force', '-f', path.join(dir, 'dev-roundtrip.yaml')])), 'role "dev" has been updated\n')
    const all = ok(tctl(['get', 'roles']))
    assert.ok(all.split(/^---$/m).length >= 4, all)
    const json = JSON.parse(ok(tctl(['get', 'roles', '--format', 'json']))) as Array<{kind: string; metadata: {name: string}}>
    assert.ok(json.every((r) => r.kind === 'role'))
    assert.deepEqual(json.map((r) => r.metadata.name).filter((n) => n === 'dev'), ['dev'])
  })

  test('create users (roles from the same file), get users shows no secrets', () => {
    const f = file(
      'team.yaml',
      `kind: role
version: v5
metadata: {name: ops}
spec:
  allow: {logins: [ops]}
---
kind: user
version: v2
metadata: {name: bob}
spec:
  roles: [ops, dev]
  traits: {logins: [bob]}
`,
    )
    assert.equal(ok(tctl(['create', '-f', f])), 'role "ops" has been created\nuser "bob" has been created\n')
    const yaml = ok(tctl(['get', 'user/bob']))
    assert.match(yaml, /^kind: user$/m)
    assert.match(yaml, /- ops/)
    const users = ok(tctl(['get', 'users']))
    assert.doesNotMatch(users, /password|pwd|hash|totp|secret/i)
    fails(tctl(['create', '-f', f]), /(role "ops"|user "bob") already exists/)
  })

  test('create reads standard input with -f -', () => {
    assert.equal(ok(tctl(['create', '-f', '-'], {input: ROLE_DEV.replace('name: dev', 'name: from-stdin')})), 'role "from-stdin" has been created\n')
    assert.equal(ok(tctl(['rm', 'role/from-stdin'])), 'role "from-stdin" has been deleted\n')
    fails(tctl(['create', '-f', '-'], {input: 'kind: role\n'}), /standard input: role: missing metadata\.name/)
  })

  test('bad files: one line, exit 1, nothing applied', () => {
    fails(tctl(['create', '-f', file('broken.yaml', 'kind: role\nmetadata: {name: [\n')]), /broken\.yaml: malformed YAML at line \d+/)
    fails(tctl(['create', '-f', file('widget.yaml', 'kind: widget\nversion: v1\nmetadata: {name: w}\n')]), /widget\.yaml: unknown resource kind "widget"/)
    fails(tctl(['create', '-f', path.join(dir, 'missing.yaml')]), /missing\.yaml: no such file/)
    // The first document is fine, the second is not: the first must not be applied either.
    const mixed = file('mixed.yaml', `${ROLE_DEV.replace('name: dev', 'name: first-ok')}---\n${ROLE_DEV.replace('name: dev', 'name: second-bad').replace('env: test', () => "env: '^[a-$'")}`)
    fails(tctl(['create', '-f', mixed]), /mixed\.yaml: document 2: line 21: role "second-bad": spec\.allow\.node_labels\.env: invalid regular expression/)
    fails(tctl(['get', 'role/first-ok']), /role "first-ok"/)
    // A user whose role does not exist, after a valid role: neither is applied.
    const dangling = file('dangling.yaml', `${ROLE_DEV.replace('name: dev', 'name: before-dangling')}---\nkind: user\nversion: v2\nmetadata: {name: carl}\nspec: {roles: [ghost-role]}\n`)
    fails(tctl(['create', '-f', dangling]), /user "carl": role "ghost-role" is not found/)
    fails(tctl(['get', 'role/before-dangling']), /role "before-dangling"/)
    fails(tctl(['get', 'user/carl']), /user "carl"/)
    fails(tctl(['create']), /a file is required/, 2)
  })

  test('rm removes roles, users and tokens; a bad reference names the accepted forms', () => {
    assert.equal(ok(tctl(['rm', 'user/bob'])), 'user "bob" has been deleted\n')
    assert.equal(ok(tctl(['rm', 'role/ops'])), 'role "ops" has been deleted\n')
    fails(tctl(['get', 'role/ops']), /role "ops"/)
    ok(tctl(['tokens', 'add', '--type=node', '--value=to-remove']))
    assert.equal(ok(tctl(['rm', 'token/to-remove'])), 'token "to-remove" has been deleted\n')
    fails(tctl(['rm', 'foo']), /invalid resource reference "foo"; expected role\/<name>, user\/<name>, token\/<token>, node\/<uuid> or lock\/<id>/, 2)
    fails(tctl(['rm', 'node/0f0f0f0f-1111-4222-8333-444455556666']), /node "0f0f0f0f-1111-4222-8333-444455556666" is not found/)
    fails(tctl(['get', 'foo']), /invalid resource reference "foo"/, 2)
  })

  test('nodes ls with no nodes prints the header', () => {
    assert.equal(ok(tctl(['nodes', 'ls'])), 'Host UUID Public Address Labels Version\n---- ---- -------------- ------ -------\n')
    assert.deepEqual(JSON.parse(ok(tctl(['nodes', 'ls', '--format', 'json']))), [])
  })

  test('create registers an OpenSSH node (sub_kind openssh): get prints it back, nodes ls lists it, rm removes it', () => {
    const doc = 'kind: node\nsub_kind: openssh\nversion: v2\nmetadata:\n  name: sshd-lab\n  labels: {env: lab}\nspec:\n  addr: 127.0.0.1:2222\n'
    assert.equal(ok(tctl(['create', '-f', file('sshd-lab.yaml', doc)])), 'node "sshd-lab" has been created\n')
    fails(tctl(['create', '-f', file('sshd-lab.yaml', doc)]), /node "sshd-lab" already exists/)
    const got = ok(tctl(['get', 'node/sshd-lab']))
    assert.match(got, /^kind: node\nsub_kind: openssh\nversion: v2\nmetadata:\n  name: sshd-lab\n  labels:\n    env: lab\nspec:\n  hostname: sshd-lab\n  addr: 127\.0\.0\.1:2222\n/)
    assert.doesNotMatch(got, /expires/)
    assert.match(ok(tctl(['nodes', 'ls'])), /^sshd-lab\s+sshd-lab\s+127\.0\.0\.1:2222\s+env=lab\s*$/m)
    fails(tctl(['create', '-f', file('ours.yaml', doc.replace('sub_kind: openssh\n', ''))]), /only OpenSSH servers are registered with tctl create/)
    assert.equal(ok(tctl(['rm', 'node/sshd-lab'])), 'node "sshd-lab" has been deleted\n')
    assert.deepEqual(JSON.parse(ok(tctl(['nodes', 'ls', '--format', 'json']))), [])
  })

  test('auth export: user CA as plain keys, host CA as @cert-authority * lines', () => {
    const user = ok(tctl(['auth', 'export', '--type=user']))
    assert.match(user, /^ssh-ed25519 AAAA[0-9A-Za-z+/=]+\n$/)
    const host = ok(tctl(['auth', 'export', '--type=host']))
    assert.match(host, /^@cert-authority \* ssh-ed25519 AAAA[0-9A-Za-z+/=]+ type=host\n$/)
    assert.equal(ok(tctl(['auth', 'export'])), user + host)
    // The host CA's pin is the one status prints.
    const keyFile = file('hostca.pub', host.split(' ').slice(2, 4).join(' ') + '\n')
    const fp = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', keyFile], {encoding: 'utf8'})
    assert.equal(fp.status, 0, fp.stderr)
  })

  test('auth sign --user writes key, .pub and -cert.pub; refuses to overwrite', () => {
    const out = path.join(dir, 'alice')
    assert.equal(ok(tctl(['auth', 'sign', '--user=alice', `--out=${out}`, '--ttl=1h'])), `The credentials have been written to ${out}, ${out}.pub, ${out}-cert.pub\n`)
    assert.equal(statSync(out).mode & 0o777, 0o600)
    const pub = spawnSync('ssh-keygen', ['-y', '-f', out], {encoding: 'utf8'})
    assert.equal(pub.status, 0, pub.stderr)
    assert.equal(pub.stdout.trim().split(' ').slice(0, 2).join(' '), readFileSync(`${out}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' '))
    const cert = spawnSync('ssh-keygen', ['-L', '-f', `${out}-cert.pub`], {encoding: 'utf8'})
    assert.equal(cert.status, 0, cert.stderr)
    assert.match(cert.stdout, /Type: ssh-ed25519-cert-v01@openssh.com user certificate/)
    assert.match(cert.stdout, /Key ID: "alice"/)
    assert.match(cert.stdout, /Principals: \n\s+alice\n\s+ubuntu\n/)
    const before = readFileSync(out, 'utf8')
    fails(tctl(['auth', 'sign', '--user=alice', `--out=${out}`]), /already exist/)
    assert.equal(readFileSync(out, 'utf8'), before)
    ok(tctl(['auth', 'sign', '--user=alice', `--out=${out}`, '--overwrite']))
    assert.notEqual(readFileSync(out, 'utf8'), before)
    fails(tctl(['auth', 'sign', `--out=${out}x`]), /--user=NAME .* --host=NAMES/, 2)
    fails(tctl(['auth', 'sign', '--user=ghost', `--out=${path.join(dir, 'ghost')}`]), /user "ghost" is not found/)
    assert.equal(existsSync(path.join(dir, 'ghost')), false)
  })

  test('auth sign --host writes an OpenSSH host key and certificate', () => {
    const out = path.join(dir, 'hostkey')
    ok(tctl(['auth', 'sign', '--host=db1.example.com,127.0.0.1', '--format=openssh', `--out=${out}`]))
    const cert = spawnSync('ssh-keygen', ['-L', '-f', `${out}-cert.pub`], {encoding: 'utf8'})
    assert.equal(cert.status, 0, cert.stderr)
    assert.match(cert.stdout, /host certificate/)
    assert.match(cert.stdout, /Key ID: "db1\.example\.com"/)
    assert.match(cert.stdout, /Principals: \n\s+db1\.example\.com\n\s+127\.0\.0\.1\n/)
    assert.equal(statSync(out).mode & 0o777, 0o600)
  })

  test('OpenSSH end to end: sshd trusts the exported user CA and presents a signed host key; ssh trusts the exported host CA', {skip: existsSync(SSHD) ? false : 'needs OpenSSH sshd'}, async () => {
    const sshDir = path.join(dir, 'openssh')
    const hostKey = path.join(sshDir, 'host_key')
    ok(tctl(['users', 'add', 'sysop', '--roles=access', `--logins=${LOGIN}`]))
    mkdirSync(sshDir, {mode: 0o700})
    ok(tctl(['auth', 'sign', '--host=127.0.0.1', `--out=${hostKey}`]))
    const userKey = path.join(sshDir, 'sysop')
    ok(tctl(['auth', 'sign', '--user=sysop', `--out=${userKey}`, '--ttl=10m']))
    const knownHosts = file('openssh/known_hosts', ok(tctl(['auth', 'export', '--type=host'])))
    const sshd = await startSshd({dir: sshDir, trustedUserCAKeys: ok(tctl(['auth', 'export', '--type=user'])).trim().split('\n'), hostKeyPath: hostKey, hostCertPath: `${hostKey}-cert.pub`})
    try {
      // Only IdentityFile: ssh finds <key>-cert.pub by itself.
      const r = await opensshExec({port: sshd.port, knownHosts, identity: userKey, command: 'echo tctl-signed'})
      assert.equal(r.code, 0, `${r.stderr}\n${sshd.logs()}`)
      assert.equal(r.stdout, 'tctl-signed\n')
    } finally {
      await sshd.stop()
    }
  })

  test('an identity file from auth sign --format=file works with --identity and --auth-server', () => {
    ok(tctl(['users', 'add', 'ed', '--roles=editor,access', '--logins=ed']))
    const id = path.join(dir, 'ed.identity')
    ok(tctl(['auth', 'sign', '--user=ed', '--format=file', `--out=${id}`]))
    assert.equal(statSync(id).mode & 0o777, 0o600)
    assert.match(readFileSync(id, 'utf8'), /^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+\nssh-ed25519-cert-v01@openssh\.com \S+\n@cert-authority \* ssh-ed25519 \S+ type=host\n$/)
    const roles = runTool('tctl', ['get', 'role/dev', '-i', id, '--auth-server', `127.0.0.1:${port}`], {env: {TELEPORT_CONFIG_FILE: ''}})
    assert.match(ok(roles), /name: dev/)
    fails(runTool('tctl', ['get', 'roles', '-i', id], {env: {TELEPORT_CONFIG_FILE: ''}}), /--auth-server is required with --identity/, 2)
  })

  test('users rm', () => {
    assert.equal(ok(tctl(['users', 'rm', 'alice'])), 'User "alice" has been deleted\n')
    fails(tctl(['users', 'rm', 'alice']), /user "alice" is not found/)
  })

  test('connection problems are one line each', async () => {
    const closed = await freePort()
    fails(tctl(['status', '--auth-server', `127.0.0.1:${closed}`]), new RegExp(`cannot reach the auth server at 127\\.0\\.0\\.1:${closed}`))
    // Several auth servers: past the one not listening to the next, as a comma list or repeated.
    assert.match(ok(tctl(['status', `--auth-server=127.0.0.1:${closed},127.0.0.1:${port}`])), new RegExp(CLUSTER))
    assert.match(ok(tctl(['--auth-server', `127.0.0.1:${closed}`, '--auth-server', `127.0.0.1:${port}`, 'users', 'ls'])), /^User\b/m)
    const closedToo = await freePort()
    fails(tctl(['status', `--auth-server=127.0.0.1:${closed},127.0.0.1:${closedToo}`]), new RegExp(`cannot reach the auth server at 127\\.0\\.0\\.1:${closedToo}`))
    const missing = file('missing-data.yaml', `teleport:\n  data_dir: ${path.join(dir, 'no-such-dir')}\n`)
    fails(runTool('tctl', ['status', '-c', missing], {env: {TELEPORT_CONFIG_FILE: ''}}), /data dir .*no-such-dir does not exist.*auth service running on this host/)
    fails(runTool('tctl', ['status', '-c', path.join(dir, 'nope.yaml')], {env: {TELEPORT_CONFIG_FILE: ''}}), /config file .*nope\.yaml does not exist/)
  })

  test('without permission to read the data dir: run as root or with -c', {skip: nobodySkipReason()}, () => {
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', path.join(repoRoot, 'bin', 'tctl'), 'status', '-c', config], {
      encoding: 'utf8',
      env: {...process.env, NO_COLOR: '1', TELEPORT_CONFIG_FILE: '', HOME: '/tmp'},
    })
    fails({code: r.status, stdout: r.stdout, stderr: r.stderr}, /no permission to read the admin identity .*run tctl as root.*-c/)
  })
})
