import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {connect as tcpConnect} from 'node:net'
import {tmpdir, userInfo} from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import {after, before, describe, test} from 'node:test'
import {ALPN_AUTH, ALPN_PROXY_SSH} from '../../src/api/alpn.js'
import {ApiClient} from '../../src/api/client.js'
import type {AuthApi} from '../../src/api/auth-api.js'
import {AuthApiClient} from '../../src/api/auth-api-client.js'
import {readIdentityFile} from '../../src/api/identity-file.js'
import {dataDirPaths} from '../../src/config/data-dir.js'
import {repoRoot, run as runProgram, type RunResult, runBin} from '../helpers/cli.js'
import {inviteAndLogIn} from '../helpers/tsh-pty-login.js'
import {freePort, startTeleport, type TeleportDaemon} from '../helpers/daemon.js'
import {eventually} from '../helpers/eventually.js'

// auth_service.proxy_listener_mode: multiplex, end to end: one `teleport start` whose proxy
// listens on its web port only; tsh login, tsh ls (SSH to the proxy inside TLS, ALPN
// teleport-proxy-ssh), tsh ssh (the TLS relay), stock ssh, scp and sftp through `tsh config`, and
// the auth API (ALPN teleport-auth@) with tctl's admin identity, all through that one port.

const TIMEOUT_MS = 60_000
const LOGIN = userInfo().username
const PASSWORD = 'correct horse battery'
const CLUSTER = 'mux.example.com'
const NODE = 'muxnode'
const TSH = path.join(repoRoot, 'bin', 'tsh')

/** A program to completion, without blocking the event loop. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<RunResult> {
  return runProgram(cmd, args, {env, input, timeoutMs: TIMEOUT_MS})
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1', () => (s.destroy(), resolve(false)))
    s.once('error', () => resolve(true))
  })
}

describe('proxy_listener_mode: multiplex: everything on the proxy\'s web port', {timeout: 10 * TIMEOUT_MS}, () => {
  const root = mkdtempSync(path.join(tmpdir(), 'tsh-mux-'))
  const home = path.join(root, 'home')
  const tshHome = path.join(home, '.tsh')
  const dataDir = path.join(root, 'data')
  let teleport: TeleportDaemon
  let webPort = 0
  let proxySshPort = 0
  let nodePort = 0
  let env: NodeJS.ProcessEnv
  let config: string
  let tunnelled: TeleportDaemon | undefined
  const tctl = (...args: string[]) => runBin(path.join(repoRoot, 'bin', 'tctl'), args, {env: {...process.env, TELEPORT_CONFIG_FILE: ''}, encoding: 'utf8'})

  before(async () => {
    mkdirSync(home, {recursive: true})
    const [authPort, web, proxySsh, node] = await Promise.all([freePort(), freePort(), freePort(), freePort()])
    ;[webPort, proxySshPort, nodePort] = [web, proxySsh, node]
    config = path.join(root, 'teleport.yaml')
    writeFileSync(config, [
      'teleport:', `  nodename: ${NODE}`, `  data_dir: ${dataDir}`,
      'auth_service:', `  listen_addr: 127.0.0.1:${authPort}`, `  cluster_name: ${CLUSTER}`, '  proxy_listener_mode: multiplex',
      'proxy_service:', `  listen_addr: 127.0.0.1:${proxySshPort}`, `  web_listen_addr: 127.0.0.1:${webPort}`,
      'ssh_service:', `  listen_addr: 127.0.0.1:${nodePort}`, '',
    ].join('\n'))
    teleport = startTeleport(['-c', config])
    await teleport.waitForLog(/Node service is starting/)

    // The user is made through the auth API reached by ALPN on the web port, as tctl would.
    const admin = adminViaProxy()
    try {
      env = await inviteAndLogIn(admin, {user: 'alice', login: LOGIN, password: PASSWORD, webPort, home})
    } finally {
      await admin.close()
    }
  })

  after(async () => {
    await tunnelled?.stop()
    await teleport?.stop()
    rmSync(root, {recursive: true, force: true})
  })

  /** tctl's admin identity over TLS to the web port, ALPN teleport-auth@. */
  function adminViaProxy(): AuthApi {
    const identity = readIdentityFile(dataDirPaths(dataDir).adminIdentity)
    const dial = () =>
      new Promise<tls.TLSSocket>((resolve, reject) => {
        const socket = tls.connect({host: '127.0.0.1', port: webPort, ALPNProtocols: [ALPN_AUTH], rejectUnauthorized: false}, () => resolve(socket))
        socket.once('error', reject)
      })
    return new AuthApiClient(new ApiClient({host: '127.0.0.1', port: webPort, credentials: identity, trust: {hostCAs: identity.hostCAs}, dial}))
  }

  test('the proxy listens on the web port only (no SSH port); ss -ltnp shows it', async () => {
    assert.equal(await refused(proxySshPort), true, 'nothing on proxy_service.listen_addr')
    const ss = spawnSync('ss', ['-ltnp'], {encoding: 'utf8'}).stdout
    const ours = ss.split('\n').filter((l) => l.includes(`pid=${teleport.child.pid},`))
    assert.ok(ours.some((l) => l.includes(`127.0.0.1:${webPort} `)), ss)
    assert.ok(!ours.some((l) => l.includes(`:${proxySshPort} `)), ss)
    assert.match(teleport.logs(), /Web proxy service is starting on .* \(multiplex/)
  })

  test('the ping says so; the login keeps it in the profile', async () => {
    const profile = readFileSync(path.join(tshHome, '127.0.0.1.yaml'), 'utf8')
    assert.match(profile, /tls_routing_enabled: true/)
    assert.match(profile, new RegExp(`ssh_proxy_addr: 127\\.0\\.0\\.1:${webPort}`))
  })

  test('tsh ls reaches auth through SSH inside TLS on the web port', async () => {
    const r = await run(TSH, ['ls'], env)
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, new RegExp(NODE))
  })

  test('tsh ssh works (through the TLS relay)', async () => {
    const r = await run(TSH, ['ssh', `${LOGIN}@${NODE}`, 'echo', 'one-port'], env)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'one-port\n')
  })

  test('stock ssh, scp and sftp with the ssh_config of tsh config', async () => {
    const cfg = path.join(root, 'ssh_config')
    const out = await run(TSH, ['config'], env)
    assert.equal(out.code, 0, out.stderr)
    writeFileSync(cfg, out.stdout)
    const target = `${NODE}.${CLUSTER}`
    // The node listens on its test port; the known_hosts entry names the host without a port.
    const common = ['-F', cfg, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `HostKeyAlias=${target}`, '-o', 'IdentityAgent=none']
    const ssh = await run('ssh', [...common, '-p', String(nodePort), `${LOGIN}@${target}`, 'echo', 'stock-ssh'], env)
    assert.equal(ssh.code, 0, ssh.stderr)
    assert.equal(ssh.stdout, 'stock-ssh\n')

    const local = path.join(root, 'payload.txt')
    writeFileSync(local, 'through one port\n')
    const remote = path.join(root, 'copied.txt')
    const scp = await run('scp', [...common, '-P', String(nodePort), local, `${LOGIN}@${target}:${remote}`], env)
    assert.equal(scp.code, 0, scp.stderr)
    assert.equal(readFileSync(remote, 'utf8'), 'through one port\n')

    const batch = path.join(root, 'sftp-batch')
    writeFileSync(batch, `get ${remote} ${path.join(root, 'back.txt')}\n`)
    const sftp = await run('sftp', [...common, '-P', String(nodePort), '-b', batch, `${LOGIN}@${target}`], env)
    assert.equal(sftp.code, 0, sftp.stderr)
    assert.equal(readFileSync(path.join(root, 'back.txt'), 'utf8'), 'through one port\n')
  })

  test('the auth API through the web port (ALPN teleport-auth@) with the admin identity', async () => {
    const admin = adminViaProxy()
    try {
      assert.equal((await admin.status()).clusterName, CLUSTER)
    } finally {
      await admin.close()
    }
  })

  test('an SSH client speaking teleport-proxy-ssh gets the proxy\'s SSH server', async () => {
    const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({host: '127.0.0.1', port: webPort, ALPNProtocols: [ALPN_PROXY_SSH], rejectUnauthorized: false}, () => resolve(s))
      s.once('error', reject)
    })
    const banner = await new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())))
    socket.destroy()
    assert.match(banner, /^SSH-2\.0-Teleport/)
  })

  test('tctl from another machine and a node behind a firewall, through the same one port', async () => {
    tctlOk(['-c', config, 'users', 'add', 'admin', '--roles=editor,access', `--logins=${LOGIN}`])
    const identity = path.join(root, 'admin.identity')
    tctlOk(['-c', config, 'auth', 'sign', '--user=admin', '--format=file', `--out=${identity}`, '--ttl=1h'])
    const remote = tctl(`--auth-server=127.0.0.1:${webPort}`, '-i', identity, 'status')
    assert.equal(remote.code, 0, remote.stderr)
    assert.match(remote.stdout, new RegExp(`Cluster:\\s+${CLUSTER.replace(/\./g, '\\.')}`))

    // A node that joins through the web address and opens no port: its tunnel goes by ALPN too.
    const token = JSON.parse(tctlOk(['-c', config, 'tokens', 'add', '--type=node', '--format', 'json'])) as {token: string; ca_pins: string[]}
    const nodeConfig = path.join(root, 'tunnelled.yaml')
    writeFileSync(nodeConfig, [
      'teleport:', '  nodename: tunnelled', `  data_dir: ${path.join(root, 'tunnelled-data')}`, `  auth_token: ${token.token}`, `  ca_pin: ["${token.ca_pins[0]}"]`, `  auth_servers: ["127.0.0.1:${webPort}"]`,
      'auth_service:', '  enabled: no', 'proxy_service:', '  enabled: no', 'ssh_service:', '  enabled: yes', '',
    ].join('\n'))
    tunnelled = startTeleport(['-c', nodeConfig])
    await tunnelled.waitForLog(/Reverse tunnel to proxy \S+ \(\S+\) is up\./)
    await eventually(async () => /^tunnelled\s+⟵ Tunnel/m.test((await run(TSH, ['ls'], env)).stdout), 'the tunnelled node in tsh ls, at ⟵ Tunnel')
    const r = await run(TSH, ['ssh', `${LOGIN}@tunnelled`, 'echo', 'through-the-tunnel'], env)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'through-the-tunnel\n')
  })

  function tctlOk(args: string[]): string {
    const r = tctl(...args)
    assert.equal(r.code, 0, r.stderr)
    return r.stdout
  }
})
