import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {Agent, request} from 'undici'
import {FileKeyStore} from '../../src/client/key-store.js'
import {saveLogin} from '../../src/client/profile.js'
import {generateTotpCode} from '../../src/services/totp.js'
import {generateKeyPair, signUserCert} from '../../src/sshca/index.js'
import {repoRoot, runBin, tctlOk} from '../helpers/cli.js'
import {caKeyPair} from '../helpers/cluster-backend.js'
import {poll} from '../helpers/eventually.js'
import {freePort, startTeleport, type TeleportDaemon} from '../helpers/daemon.js'
import {acceptUserToken, webCaller} from '../helpers/invite-page.js'
import {inPty} from '../helpers/pty.js'
import {LOGIN, startSshd, tempDir, writeKeyFiles, type Daemon} from '../interop/helpers.js'

// The quickstart cluster as a new user meets it: one `teleport start` process running auth,
// proxy and node; a user invited with tctl, password and TOTP set on the invite page over
// HTTPS, `tsh login` typed into a pty; then tsh and stock OpenSSH (ssh, scp, sftp) through the
// proxy, to our node and to a plain OpenSSH sshd.

const CLUSTER = 'e2e.local'
const NODE = 'e2e-node'
const PASSWORD = 'correct horse battery'
const TSH = path.join(repoRoot, 'bin', 'tsh')
const insecure = new Agent({connect: {rejectUnauthorized: false}})

describe('a one-process cluster, used with tsh and stock OpenSSH', () => {
  const dir = tempDir('cluster-e2e-')
  let config: string
  let teleport: TeleportDaemon
  let web: number
  let nodePort: number
  let totpSecret: string
  let proxySsh: number
  const env = () => ({TELEPORT_HOME: path.join(dir.path, 'tsh'), SSH_AUTH_SOCK: '', HOME: dir.path})
  const tsh = (args: string[], input?: string) => runBin(TSH, args, {env: env(), input})
  const tctl = (...args: string[]) => tctlOk(config, ...args)

  before(async () => {
    const auth = await freePort()
    proxySsh = await freePort()
    web = await freePort()
    nodePort = await freePort()
    config = path.join(dir.path, 'teleport.yaml')
    writeFileSync(config, [
      'teleport:', `  nodename: ${NODE}`, `  data_dir: ${path.join(dir.path, 'data')}`,
      'auth_service:', `  listen_addr: 127.0.0.1:${auth}`, `  cluster_name: ${CLUSTER}`,
      'proxy_service:', `  listen_addr: 127.0.0.1:${proxySsh}`, `  web_listen_addr: 127.0.0.1:${web}`, '  tunnel_listen_addr: 127.0.0.1:0', `  public_addr: localhost:${web}`,
      'ssh_service:', `  listen_addr: 127.0.0.1:${nodePort}`, '  labels: {env: e2e}', '',
    ].join('\n'))
    teleport = startTeleport(['-c', config])
    await teleport.waitForLog(/Node service is starting/)

    // The invite link, followed as the web UI's page does: it reads the TOTP secret, then sets it all.
    const added = tctl('users', 'add', 'alice', '--roles=access', `--logins=${LOGIN}`)
    const url = /https:\/\/\S+\/web\/invite\/[0-9a-f]{32}/.exec(added)![0]
    totpSecret = await acceptUserToken(webCaller(url, insecure), url, PASSWORD)

    // tsh login as at a terminal. The next time step's code: the enrolment code may not be replayed.
    const term = inPty(TSH, ['login', `--proxy=localhost:${web}`, '--user=alice', '--insecure'], {...process.env, ...env()})
    await term.waitFor(/[Pp]assword/)
    term.write(PASSWORD + '\r')
    await term.waitFor(/(OTP|one-time|code)/i)
    term.write(generateTotpCode(totpSecret, Date.now() + 30_000) + '\r')
    assert.equal(await term.exit, 0, term.output())
    assert.match(term.output(), /Logged in as:\s+alice/)
  })
  after(async () => {
    await teleport?.stop()
    dir.cleanup()
  })

  test('tsh ssh runs a command on the node as the login', () => {
    const r = tsh(['ssh', `${LOGIN}@${NODE}`, 'id', '-un'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), LOGIN)
  })

  test('tsh ls -f json lists the node with its labels', () => {
    const r = tsh(['ls', '-f', 'json'])
    assert.equal(r.code, 0, r.stderr)
    const nodes = JSON.parse(r.stdout) as Array<{hostname?: string; spec?: {hostname: string}; labels?: Record<string, string>}>
    const text = JSON.stringify(nodes)
    assert.ok(text.includes(NODE), text)
    assert.ok(text.includes('"env"') && text.includes('"e2e"'), text)
  })

  test('flags after the host belong to the remote command, --help included', () => {
    const r = tsh(['ssh', `${LOGIN}@${NODE}`, 'echo', '--help', '-d'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), '--help -d')
  })

  test('the remote exit status is tsh\'s exit status', () => {
    assert.equal(tsh(['ssh', `${LOGIN}@${NODE}`, 'exit 7']).code, 7)
  })

  test('tsh bench runs sessions at a rate and prints the latency table; a refused login counts as failed', () => {
    const r = tsh(['bench', '--rate', '5', '--duration', '1s', `${LOGIN}@${NODE}`, 'true'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^\* Requests originated: 5\n\* Requests failed: 0\n\nHistogram\n\nPercentile Response Duration\n/)
    const rows = [...r.stdout.matchAll(/^(\d+) +(\d+) ms$/gm)].map((m) => [Number(m[1]), Number(m[2])])
    assert.deepEqual(rows.map(([p]) => p), [25, 50, 75, 90, 95, 99, 100])
    // Latencies rise with the percentile, and a session through the proxy takes some time.
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i]![1]! >= rows[i - 1]![1]!, r.stdout)
    assert.ok(rows[0]![1]! > 0, r.stdout)
    const refused = tsh(['bench', '--rate', '2', '--duration', '1s', '-f', 'json', `nosuchlogin@${NODE}`, 'true'])
    assert.equal(refused.code, 1)
    const json = JSON.parse(refused.stdout) as {requests_originated: number; requests_failed: number; errors: {message: string}[]}
    assert.equal(json.requests_originated, 2)
    assert.equal(json.requests_failed, 2)
    assert.match(json.errors[0]!.message, /access denied/i)
  })

  test('a login not in the certificate is refused at the node, through the proxy', () => {
    const r = tsh(['ssh', `nosuchlogin@${NODE}`, 'true'])
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /access denied|not allow/i)
  })

  describe('stock OpenSSH', () => {
    let sshConfig: string
    before(() => {
      const r = tsh(['config'])
      assert.equal(r.code, 0, r.stderr)
      sshConfig = path.join(dir.path, 'ssh_config')
      writeFileSync(sshConfig, r.stdout + '\nHost *\n  BatchMode yes\n  StrictHostKeyChecking yes\n  GlobalKnownHostsFile /dev/null\n  IdentityAgent none\n')
    })
    const openssh = (cmd: string, args: string[]) => {
      const r = spawnSync(cmd, ['-F', sshConfig, ...args], {encoding: 'utf8', env: {...process.env, ...env()}, timeout: 60_000})
      return {code: r.status, stdout: r.stdout, stderr: r.stderr}
    }

    test('ssh with the tsh config output', () => {
      const r = openssh('ssh', [`${LOGIN}@${NODE}.${CLUSTER}`, 'echo via-$(id -un)'])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout.trim(), `via-${LOGIN}`)
    })

    test('scp both ways (SFTP and legacy -O), byte-exact', () => {
      const local = path.join(dir.path, 'payload.bin')
      const data = randomBytes(3 * 1024 * 1024 + 17)
      writeFileSync(local, data)
      const remote = path.join(dir.path, 'remote-copy.bin')
      for (const legacy of [[], ['-O']]) {
        let r = openssh('scp', [...legacy, local, `${LOGIN}@${NODE}.${CLUSTER}:${remote}`])
        assert.equal(r.code, 0, r.stderr)
        const back = path.join(dir.path, `back${legacy.length}.bin`)
        r = openssh('scp', [...legacy, `${LOGIN}@${NODE}.${CLUSTER}:${remote}`, back])
        assert.equal(r.code, 0, r.stderr)
        assert.equal(createHash('sha256').update(readFileSync(back)).digest('hex'), createHash('sha256').update(data).digest('hex'))
      }
    })

    test('sftp batch put and get', () => {
      const batch = path.join(dir.path, 'sftp-batch')
      const local = path.join(dir.path, 'sftp-src.txt')
      writeFileSync(local, 'sftp payload\n')
      writeFileSync(batch, `put ${local} ${path.join(dir.path, 'sftp-remote.txt')}\nget ${path.join(dir.path, 'sftp-remote.txt')} ${path.join(dir.path, 'sftp-back.txt')}\n`)
      const r = openssh('sftp', ['-b', batch, `${LOGIN}@${NODE}.${CLUSTER}`])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(readFileSync(path.join(dir.path, 'sftp-back.txt'), 'utf8'), 'sftp payload\n')
    })

    test('rsync -e ssh copies a tree', () => {
      const src = path.join(dir.path, 'rsync-src')
      mkdirSync(path.join(src, 'sub'), {recursive: true})
      writeFileSync(path.join(src, 'a.txt'), 'alpha\n')
      writeFileSync(path.join(src, 'sub', 'b.bin'), randomBytes(200_000))
      const dst = path.join(dir.path, 'rsync-dst')
      const r = spawnSync('rsync', ['-a', '-e', `ssh -F ${sshConfig}`, `${src}/`, `${LOGIN}@${NODE}.${CLUSTER}:${dst}/`], {encoding: 'utf8', env: {...process.env, ...env()}, timeout: 60_000})
      assert.equal(r.status, 0, r.stderr)
      assert.equal(readFileSync(path.join(dst, 'a.txt'), 'utf8'), 'alpha\n')
      assert.deepEqual(readFileSync(path.join(dst, 'sub', 'b.bin')), readFileSync(path.join(src, 'sub', 'b.bin')))
    })

    test('ssh -o ProxyCommand="tsh proxy ssh %r@%h:%p"', () => {
      const r = spawnSync('ssh', [
        '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
        '-o', `UserKnownHostsFile=${path.join(dir.path, 'tsh', 'known_hosts')}`, '-o', 'IdentityAgent=none',
        '-i', path.join(dir.path, 'tsh', 'keys', 'localhost', 'alice'),
        '-o', `CertificateFile=${path.join(dir.path, 'tsh', 'keys', 'localhost', 'alice-ssh', `${CLUSTER}-cert.pub`)}`,
        '-o', `ProxyCommand=${TSH} proxy ssh %r@%h:%p`, '-p', String(nodePort),
        `${LOGIN}@${NODE}.${CLUSTER}`, 'echo proxied',
      ], {encoding: 'utf8', env: {...process.env, ...env()}, timeout: 60_000})
      assert.equal(r.status, 0, r.stderr)
      assert.equal(r.stdout.trim(), 'proxied')
    })
  })

  test('tsh ssh -L carries an HTTP request to a server beside the node', async () => {
    const server = http.createServer((_req, res) => res.end('hello through the tunnel'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const target = (server.address() as AddressInfo).port
    const local = await freePort()
    const forward = spawn(TSH, ['ssh', '-N', '-L', `${local}:127.0.0.1:${target}`, `${LOGIN}@${NODE}`], {env: {...process.env, ...env()}, stdio: 'ignore'})
    try {
      const body = await poll(async () => (await (await request(`http://127.0.0.1:${local}/`)).body.text()) || undefined, {timeoutMs: 10_000})
      assert.equal(body, 'hello through the tunnel')
    } finally {
      forward.kill()
      server.close()
    }
  })

  test('a role without port_forwarding gets forwarding refused at the node', async () => {
    const role = path.join(dir.path, 'noforward.yaml')
    writeFileSync(role, `kind: role\nversion: v5\nmetadata: {name: noforward}\nspec:\n  options: {port_forwarding: false}\n  allow:\n    logins: [${LOGIN}]\n    node_labels: {'*': '*'}\n`)
    tctl('create', '-f', role)
    tctl('users', 'add', 'bob', '--roles=noforward')
    const out = path.join(dir.path, 'bob')
    tctl('auth', 'sign', '--user=bob', `--out=${out}`, '--ttl=1h')
    const r = spawnSync('ssh', [
      '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', 'ExitOnForwardFailure=yes',
      '-o', `UserKnownHostsFile=${path.join(dir.path, 'tsh', 'known_hosts')}`, '-o', 'IdentityAgent=none', '-i', out, '-o', `CertificateFile=${out}-cert.pub`,
      '-o', `ProxyCommand=${TSH} proxy ssh %r@%h:%p`, '-p', String(nodePort),
      '-W', '127.0.0.1:9', `${LOGIN}@${NODE}.${CLUSTER}`,
    ], {encoding: 'utf8', env: {...process.env, ...env()}, timeout: 60_000})
    assert.notEqual(r.status, 0)
    assert.match(r.stderr, /administratively prohibited|open failed/)
  })

  test('two nodes with one name give the ambiguity error', async () => {
    const invite = tctl('tokens', 'add', '--type=node', '--uses=2')
    const token = /The invite token: ([0-9a-f]{32})/.exec(invite)![1]
    const pin = /--ca-pin=(sha256:[0-9a-f]{64})/.exec(invite)![1]
    const authAddr = /Auth service is starting on (\S+),/.exec(teleport.logs())![1]
    const twins: TeleportDaemon[] = []
    try {
      for (const i of [1, 2]) {
        const twinDir = path.join(dir.path, `twin${i}`)
        mkdirSync(twinDir)
        const twinConfig = path.join(twinDir, 'teleport.yaml')
        writeFileSync(twinConfig, `teleport:\n  nodename: twin\n  data_dir: ${twinDir}/data\nauth_service: {enabled: no}\nproxy_service: {enabled: no}\nssh_service:\n  listen_addr: 127.0.0.1:${await freePort()}\n`)
        const twin = startTeleport(['-c', twinConfig, '--roles=node', `--token=${token}`, `--ca-pin=${pin}`, `--auth-server=${authAddr}`])
        twins.push(twin)
        await twin.waitForLog(/Node service is starting/)
      }
      await poll(() => (tsh(['ls', '-f', 'names']).stdout.match(/^twin$/gm) ?? []).length >= 2, {timeoutMs: 10_000, intervalMs: 200})
      const r = tsh(['ssh', `${LOGIN}@twin`, 'true'])
      assert.equal(r.code, 1)
      assert.match(r.stderr, /ambiguous host could match multiple nodes/)
      assert.match(r.stderr, /Hint: try addressing the node by unique id/)
    } finally {
      for (const twin of twins) await twin.stop()
    }
  })

  describe('a plain OpenSSH sshd, reached through the proxy by direct dial', () => {
    let sshd: Daemon
    before(async () => {
      tctl('auth', 'sign', '--host=localhost,127.0.0.1', `--out=${path.join(dir.path, 'sshd-host')}`)
      sshd = await startSshd({
        dir: dir.path,
        trustedUserCAKeys: tctl('auth', 'export', '--type=user').split('\n').filter(Boolean),
        hostKeyPath: path.join(dir.path, 'sshd-host'),
        hostCertPath: path.join(dir.path, 'sshd-host-cert.pub'),
      })
    })
    after(async () => sshd?.stop())

    test('stock ssh logs in with the tsh identity', () => {
      const knownHosts = path.join(dir.path, 'cluster_known_hosts')
      writeFileSync(knownHosts, tctl('auth', 'export', '--type=host'))
      const r = spawnSync('ssh', [
        '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'IdentityAgent=none',
        '-i', path.join(dir.path, 'tsh', 'keys', 'localhost', 'alice'),
        '-o', `CertificateFile=${path.join(dir.path, 'tsh', 'keys', 'localhost', 'alice-ssh', `${CLUSTER}-cert.pub`)}`,
        '-o', `ProxyCommand=${TSH} proxy ssh %r@%h:%p`, '-p', String(sshd.port), `${LOGIN}@127.0.0.1`, 'echo plain-sshd',
      ], {encoding: 'utf8', env: {...process.env, ...env()}, timeout: 60_000})
      assert.equal(r.status, 0, r.stderr)
      assert.equal(r.stdout.trim(), 'plain-sshd')
    })
  })

  test('an expired certificate is refused at the node', async () => {
    // alice's certificate as `tctl auth sign --ttl=1m` made it three minutes ago (the shortest
    // there is, backdated 1m), signed by the cluster's own user CA: expired now, nothing waits.
    const userCA = await caKeyPair(path.join(dir.path, 'data'), CLUSTER, 'user')
    const key = generateKeyPair()
    const certificate = signUserCert({
      caPrivateKey: userCA.privateKey, publicKey: key.publicKey, keyId: 'alice', principals: [LOGIN], ttlMs: 60_000, now: new Date(Date.now() - 3 * 60_000),
      roles: ['access'], traits: {logins: [LOGIN]}, routeToCluster: CLUSTER,
    })
    const out = writeKeyFiles(dir.path, 'short', key.privateKey, key.publicKey, certificate)
    const validBefore = /Valid: from \S+ to (\S+)/.exec(spawnSync('ssh-keygen', ['-L', '-f', `${out}-cert.pub`], {encoding: 'utf8', env: {...process.env, TZ: 'UTC'}}).stdout)![1]
    assert.ok(new Date(validBefore + 'Z').getTime() < Date.now(), `valid until ${validBefore}`)
    const r = spawnSync('ssh', [
      '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
      '-o', `UserKnownHostsFile=${path.join(dir.path, 'tsh', 'known_hosts')}`, '-o', 'IdentityAgent=none', '-o', 'IdentitiesOnly=yes', '-i', out, '-o', `CertificateFile=${out}-cert.pub`,
      '-o', `ProxyCommand=${TSH} proxy ssh %r@%h:%p`, '-p', String(nodePort), `${LOGIN}@${NODE}.${CLUSTER}`, 'true',
    ], {encoding: 'utf8', env: {...process.env, ...env()}, timeout: 60_000})
    assert.notEqual(r.status, 0)
    assert.match(r.stderr, /Permission denied/)
  })

  describe('session recording', () => {
    let sid: string
    /** A TELEPORT_HOME logged in as `user` with a certificate from tctl auth sign. */
    const homeOf = (user: string, roles: string): NodeJS.ProcessEnv => {
      tctl('users', 'add', user, `--roles=${roles}`, `--logins=${LOGIN}`)
      const out = path.join(dir.path, `${user}-key`)
      tctl('auth', 'sign', `--user=${user}`, '--ttl=1h', `--out=${out}`)
      const home = path.join(dir.path, `${user}-tsh`)
      saveLogin(new FileKeyStore(home), {
        profile: {webProxyAddr: `localhost:${web}`, sshProxyAddr: `127.0.0.1:${proxySsh}`, user, cluster: CLUSTER, authType: 'local', forwardPorts: [], dynamicForwardPorts: []},
        privateKey: readFileSync(out, 'utf8'),
        publicKey: readFileSync(`${out}.pub`, 'utf8'),
        certificate: readFileSync(`${out}-cert.pub`, 'utf8'),
        hostCAs: tctl('auth', 'export', '--type=host').trim().split('\n').map((l) => l.split(/\s+/).slice(2, 4).join(' ')),
      })
      return {...env(), TELEPORT_HOME: home}
    }

    before(async () => {
      // alice at a terminal: types two commands, her window is resized between them, she leaves.
      const term = inPty(TSH, ['ssh', `${LOGIN}@${NODE}`], {...process.env, ...env()})
      term.write('echo SID=$SSH_SESSION_ID; echo typed-$((6*7))\r')
      await term.waitFor(/typed-42/)
      await term.resizeRemote(100, 30)
      term.write('exit\r')
      assert.equal(await term.exit, 0, term.output())
      sid = /SID=([0-9a-f-]{36})/.exec(term.output())![1]!
      // The node uploads it in the background once the session has ended.
      const listed = await poll(() => {
        const r = tsh(['recordings', 'ls', '-f', 'json'])
        return r.code === 0 && r.stdout.includes(sid) ? r.stdout : undefined
      })
      assert.ok(listed, `the session ${sid} to be listed`)
    })

    test('tsh recordings ls lists it with alice and the node', () => {
      const r = tsh(['recordings', 'ls'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, new RegExp(`^${sid} ssh\\s+alice\\s+${NODE}\\s`, 'm'))
    })

    test('tsh play -f text holds what was typed and what it printed', () => {
      const r = tsh(['play', '-f', 'text', sid])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /echo SID=\$SSH_SESSION_ID; echo typed-\$\(\(6\*7\)\)/)
      assert.match(r.stdout, /typed-42/)
      assert.match(r.stdout, /30 100/)
    })

    test('tsh play in a terminal replays it with its sizes, and leaves the terminal as it was', async () => {
      const player = inPty(TSH, ['play', '--speed', '16', sid], {...process.env, ...env()})
      assert.equal(await player.exit, 0, player.output())
      const out = player.output()
      assert.ok(out.indexOf('\x1b[8;40;160t') >= 0, 'the starting size') // the pty's 160x40
      assert.ok(out.indexOf('\x1b[8;30;100t') > out.indexOf('typed-42'), 'the resize, after the first command')
      assert.match(out, /30 100/)
    })

    test('the asciicast export plays in asciinema (cat and play)', async () => {
      const cast = path.join(dir.path, 'session.cast')
      const r = tsh(['recordings', 'export', sid, '--format', 'asciicast', '--output', cast])
      assert.equal(r.code, 0, r.stderr)
      const header = JSON.parse(readFileSync(cast, 'utf8').split('\n')[0]!) as {version: number; width: number; height: number}
      assert.deepEqual([header.version, header.width, header.height], [2, 160, 40])
      const cat = inPty('asciinema', ['cat', cast], process.env)
      assert.equal(await cat.exit, 0, cat.output())
      assert.match(cat.output(), /typed-42/)
      const play = inPty('asciinema', ['play', '--speed', '16', '--idle-time-limit', '0.1', cast], process.env)
      assert.equal(await play.exit, 0, play.output())
      assert.match(play.output(), /typed-42/)
    })

    test('another access user may not play it (one line); an auditor may', () => {
      const dave = runBin(TSH, ['play', '-f', 'text', sid], {env: homeOf('dave', 'access')})
      assert.equal(dave.code, 1)
      assert.equal(dave.stderr.trim(), `ERROR: access denied to read session ${sid}`)
      assert.doesNotMatch(dave.stdout, /typed-42/)
      const erin = runBin(TSH, ['play', '-f', 'text', sid], {env: homeOf('erin', 'auditor,access')})
      assert.equal(erin.code, 0, erin.stderr)
      assert.match(erin.stdout, /typed-42/)
    })
  })

  test('tctl events ls finds the login, as JSON lines and as a table, with no secret in it', () => {
    const lines = tctl('events', 'ls', '--type', 'user.login', '-f', 'json').trimEnd().split('\n')
    const logins = lines.map((l) => JSON.parse(l) as {event: string; code: string; user?: string; time: string; uid?: string; 'addr.remote'?: string})
    const alice = logins.find((e) => e.event === 'user.login' && e.code === 'T1000I' && e.user === 'alice')
    assert.ok(alice, lines.join('\n'))
    assert.match(alice.uid ?? '', /^[0-9a-f-]{36}$/)
    assert.match(alice['addr.remote'] ?? '', /^127\.0\.0\.1\b/, 'where the login came from')
    assert.ok(logins.every((e) => e.event === 'user.login'))
    assert.deepEqual(logins.map((e) => e.time), logins.map((e) => e.time).sort().reverse(), 'newest first')
    const table = tctl('events', 'ls', '--type=user.login,user.create', '--user=alice').split('\n')
    assert.match(table[0]!, /^Time\s+Type\s+Code\s+User\s+Summary$/)
    assert.ok(table.some((row) => /^\d{4}-\d\d-\d\dT\S+Z\s+user\.login\s+T1000I\s+alice\b/.test(row)), table.join('\n'))
    const everything = tctl('events', 'ls', '--limit=10000', '-f', 'json')
    assert.doesNotMatch(everything, new RegExp(PASSWORD))
    assert.doesNotMatch(everything, new RegExp(totpSecret))
    assert.equal(tctl('events', 'ls', '--type=user.login', '--from', '2000-01-01', '--to', '2000-01-01', '-f', 'json'), '')
  })
})
