import assert from 'node:assert/strict'
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import {connect} from 'node:net'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {Agent} from 'undici'
import {repoRoot, runBin, tctlOk} from '../helpers/cli.js'
import {freePort, startTeleport, type TeleportDaemon} from '../helpers/daemon.js'
import {eventually} from '../helpers/eventually.js'
import {acceptUserToken, webCaller} from '../helpers/invite-page.js'
import {inPty} from '../helpers/pty.js'
import {LOGIN, tempDir} from '../interop/helpers.js'

// A node behind a firewall, for real: the test makes a network namespace with nothing but
// loopback in it, so nothing outside can open a connection to anything inside. The node runs in
// it (`ip netns exec`) and joins through the proxy's web address without a listen address, so it
// dials a reverse tunnel to the proxy. Its only way out is an egress bridge the test sets up:
// socat inside listens on the namespace's loopback at the proxy's web and tunnel ports and carries
// each connection over a Unix socket to socat outside, which dials the proxy (a NAT gateway,
// outbound only). Auth, proxy and the users' tools run outside. The proxy is its own process, so
// it can be restarted while the node stays up.

const CLUSTER = 'tunnel.local'
const NODE = 'tunnelled'
const NODE_TOKEN = 'node-token-' + randomBytes(8).toString('hex')
const PROXY_TOKEN = 'proxy-token-' + randomBytes(8).toString('hex')
const PASSWORD = 'correct horse battery'
const TSH = path.join(repoRoot, 'bin', 'tsh')

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'needs root to make a network namespace (ip netns add)'
  if (spawnSync('ip', ['netns', 'list']).status !== 0) return 'ip netns does not work here'
  if (spawnSync('socat', ['-V']).status !== 0) return 'needs socat for the egress bridge'
  return false
}

const ip = (...args: string[]) => spawnSync('ip', args, {encoding: 'utf8'})

describe('a node behind a firewall, reached through its reverse tunnel', {skip: skipReason()}, () => {
  const dir = tempDir('reverse-tunnel')
  const ns = `tp-tunnel-${randomBytes(4).toString('hex')}`
  const bridges: ChildProcess[] = []
  let auth: TeleportDaemon
  let proxy: TeleportDaemon
  let node: TeleportDaemon
  let proxyConfig: string
  let authConfig: string
  let ports: {auth: number; web: number; ssh: number; tunnel: number}
  let sshConfig: string
  const env = () => ({TELEPORT_HOME: path.join(dir.path, 'tsh'), SSH_AUTH_SOCK: '', HOME: dir.path})
  const tsh = (args: string[]) => runBin(TSH, args, {env: env()})
  const openssh = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, ['-F', sshConfig, ...args], {encoding: 'utf8', env: {...process.env, ...env()}, timeout: 60_000})
    return {code: r.status, stdout: r.stdout, stderr: r.stderr}
  }
  const tunnelsUp = () => node.logs().match(/Reverse tunnel to proxy \S+ \(\S+\) is up\./g)?.length ?? 0

  /** Carries connections to 127.0.0.1:<port> inside the namespace out to 127.0.0.1:<port> here. */
  const bridge = (port: number) => {
    const sock = path.join(dir.path, `egress-${port}.sock`)
    bridges.push(spawn('socat', [`UNIX-LISTEN:${sock},fork`, `TCP:127.0.0.1:${port}`], {stdio: 'ignore'}))
    bridges.push(spawn('ip', ['netns', 'exec', ns, 'socat', `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `UNIX-CONNECT:${sock}`], {stdio: 'ignore'}))
  }

  before(async () => {
    ports = {auth: await freePort(), web: await freePort(), ssh: await freePort(), tunnel: await freePort()}
    authConfig = path.join(dir.path, 'auth.yaml')
    writeFileSync(authConfig, [
      'teleport:', '  nodename: tunnel-auth', `  data_dir: ${path.join(dir.path, 'auth-data')}`,
      'auth_service:', `  listen_addr: 127.0.0.1:${ports.auth}`, `  cluster_name: ${CLUSTER}`, `  tokens: ["node:${NODE_TOKEN}", "proxy:${PROXY_TOKEN}"]`, '  authentication: {second_factor: "off"}',
      'proxy_service:', '  enabled: no', 'ssh_service:', '  enabled: no', '',
    ].join('\n'))
    auth = startTeleport(['-c', authConfig])
    await auth.waitForLog(/Auth service is starting/)
    const pin = /CA pin: (sha256:[0-9a-f]{64})/.exec((await auth.waitForLog(/CA pin: sha256:/), auth.logs()))![1]!

    proxyConfig = path.join(dir.path, 'proxy.yaml')
    writeFileSync(proxyConfig, [
      'teleport:', '  nodename: tunnel-proxy', `  data_dir: ${path.join(dir.path, 'proxy-data')}`, `  auth_token: ${PROXY_TOKEN}`, `  ca_pin: ["${pin}"]`, `  auth_servers: ["127.0.0.1:${ports.auth}"]`,
      'auth_service:', '  enabled: no', 'ssh_service:', '  enabled: no',
      'proxy_service:', `  listen_addr: 127.0.0.1:${ports.ssh}`, `  web_listen_addr: 127.0.0.1:${ports.web}`, `  tunnel_listen_addr: 127.0.0.1:${ports.tunnel}`, `  public_addr: 127.0.0.1:${ports.web}`, '',
    ].join('\n'))
    proxy = startTeleport(['-c', proxyConfig])
    await proxy.waitForLog(/Web proxy service is starting/)

    // The firewall: a namespace with loopback only, and the egress bridge to the proxy's web and tunnel ports (not its SSH port).
    assert.equal(ip('netns', 'add', ns).status, 0)
    assert.equal(ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up').status, 0)
    bridge(ports.web)
    bridge(ports.tunnel)

    const nodeConfig = path.join(dir.path, 'node.yaml')
    writeFileSync(nodeConfig, [
      'teleport:', `  nodename: ${NODE}`, `  data_dir: ${path.join(dir.path, 'node-data')}`, `  auth_token: ${NODE_TOKEN}`, `  ca_pin: ["${pin}"]`, `  auth_servers: ["127.0.0.1:${ports.web}"]`,
      'auth_service:', '  enabled: no', 'proxy_service:', '  enabled: no',
      'ssh_service:', '  labels: {env: firewalled}', '',
    ].join('\n'))
    node = startTeleport(['-c', nodeConfig], {}, ['ip', 'netns', 'exec', ns])
    // The web port is bridged once socat inside listens: the node's join retries are not ours to rely on.
    await eventually(() => tunnelsUp() >= 1 || (node.child.exitCode !== null && Promise.reject(new Error(node.logs()))), 'the reverse tunnel', {timeoutMs: 60_000})

    const added = tctlOk(authConfig, 'users', 'add', 'alice', '--roles=access', `--logins=${LOGIN}`)
    const url = /https:\/\/\S+\/web\/invite\/[0-9a-f]{32}/.exec(added)![0]
    await acceptUserToken(webCaller(url.replace(/https:\/\/[^/]+/, `https://127.0.0.1:${ports.web}`), new Agent({connect: {rejectUnauthorized: false}})), url, PASSWORD, {otp: false})
    const term = inPty(TSH, ['login', `--proxy=127.0.0.1:${ports.web}`, '--user=alice', '--insecure'], {...process.env, ...env()})
    await term.waitFor(/[Pp]assword/)
    term.write(PASSWORD + '\r')
    assert.equal(await term.exit, 0, term.output())
    await eventually(() => tsh(['ls']).stdout.includes(NODE), 'the node in tsh ls')

    const config = tsh(['config'])
    assert.equal(config.code, 0, config.stderr)
    sshConfig = path.join(dir.path, 'ssh_config')
    writeFileSync(sshConfig, config.stdout + '\nHost *\n  BatchMode yes\n  StrictHostKeyChecking yes\n  GlobalKnownHostsFile /dev/null\n  IdentityAgent none\n')
  })

  after(async () => {
    await node?.stop()
    for (const b of bridges) b.kill()
    await proxy?.stop()
    await auth?.stop()
    ip('netns', 'delete', ns)
    dir.cleanup()
  })

  test('the node cannot be dialled: its namespace has loopback only, and a port open in it is closed from outside', async () => {
    const addrs = ip('netns', 'exec', ns, 'ip', '-o', 'addr').stdout
    assert.deepEqual([...addrs.matchAll(/^\d+: (\S+)/gm)].map((m) => m[1]).filter((i, n, all) => all.indexOf(i) === n), ['lo'])
    assert.doesNotMatch(node.logs(), /Node service is starting on/)
    const port = await freePort()
    const inside = spawn('ip', ['netns', 'exec', ns, 'socat', `TCP-LISTEN:${port},bind=0.0.0.0,reuseaddr`, 'EXEC:echo inside'], {stdio: 'ignore'})
    try {
      const fromInside = await eventually(() => {
        const r = spawnSync('ip', ['netns', 'exec', ns, 'socat', '-', `TCP:127.0.0.1:${port}`], {encoding: 'utf8', input: ''})
        return r.status === 0 && r.stdout
      }, 'the listener inside the namespace')
      assert.equal(fromInside.trim(), 'inside')
      const fromOutside = await new Promise<string>((resolve) => {
        const socket = connect({host: '127.0.0.1', port}, () => resolve('connected'))
        socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
      })
      assert.equal(fromOutside, 'ECONNREFUSED')
    } finally {
      inside.kill()
    }
  })

  test('tsh ls shows the node with "⟵ Tunnel" as its address', () => {
    const r = tsh(['ls'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, new RegExp(`^${NODE}\\s+⟵ Tunnel\\s+env=firewalled`, 'm'))
  })

  test('tsh ssh runs a command on the node through its tunnel; the session is recorded and uploaded over the tunnel', async () => {
    const r = tsh(['ssh', `${LOGIN}@${NODE}`, 'echo via-$(id -un)'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), `via-${LOGIN}`)
    await eventually(() => {
      const listed = tsh(['recordings', 'ls', '-f', 'json'])
      return listed.code === 0 && listed.stdout.includes(NODE)
    }, 'the recording in tsh recordings ls')
  })

  test('tctl administers the cluster through the proxy web address with an identity from tctl auth sign', () => {
    tctlOk(authConfig, 'users', 'add', 'admin', '--roles=editor,access', `--logins=${LOGIN}`)
    const identity = path.join(dir.path, 'admin.identity')
    tctlOk(authConfig, 'auth', 'sign', '--user=admin', '--format=file', `--out=${identity}`, '--ttl=1h')
    const tctl = (...args: string[]) => runBin(path.join(repoRoot, 'bin', 'tctl'), [`--auth-server=127.0.0.1:${ports.web}`, '-i', identity, ...args], {env: {TELEPORT_CONFIG_FILE: ''}})
    let r = tctl('users', 'add', 'carol', '--roles=access', `--logins=${LOGIN}`)
    assert.equal(r.code, 0, r.stderr)
    r = tctl('users', 'ls')
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^carol\s+access/m)
    assert.match(tctlOk(authConfig, 'users', 'ls'), /^carol\s+access/m)
  })

  test('stock ssh, scp and sftp through tsh config', () => {
    let r = openssh('ssh', [`${LOGIN}@${NODE}.${CLUSTER}`, 'echo stock'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), 'stock')
    const local = path.join(dir.path, 'payload.bin')
    const data = randomBytes(1024 * 1024 + 3)
    writeFileSync(local, data)
    r = openssh('scp', [local, `${LOGIN}@${NODE}.${CLUSTER}:${path.join(dir.path, 'remote.bin')}`])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(readFileSync(path.join(dir.path, 'remote.bin')), data)
    const batch = path.join(dir.path, 'sftp-batch')
    writeFileSync(batch, `get ${path.join(dir.path, 'remote.bin')} ${path.join(dir.path, 'back.bin')}\n`)
    r = openssh('sftp', ['-b', batch, `${LOGIN}@${NODE}.${CLUSTER}`])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(readFileSync(path.join(dir.path, 'back.bin')), data)
  })

  test('tsh ssh -L reaches a server only the node can reach, inside its namespace', async () => {
    const target = await freePort()
    const server = spawn('ip', ['netns', 'exec', ns, 'socat', `TCP-LISTEN:${target},bind=127.0.0.1,reuseaddr,fork`, 'EXEC:echo behind-the-firewall'], {stdio: 'ignore'})
    const local = await freePort()
    const forward = spawn(TSH, ['ssh', '-N', '-L', `${local}:127.0.0.1:${target}`, `${LOGIN}@${NODE}`], {env: {...process.env, ...env()}, stdio: 'ignore'})
    try {
      const got = await eventually(() => {
        const r = spawnSync('socat', ['-', `TCP:127.0.0.1:${local}`], {encoding: 'utf8', input: ''})
        return r.status === 0 && r.stdout.trim()
      }, 'the forwarded answer')
      assert.equal(got, 'behind-the-firewall')
    } finally {
      forward.kill()
      server.kill()
    }
  })

  test('ssh -J through the proxy reaches the node; a login the role does not allow is refused', () => {
    const jump = `alice@127.0.0.1:${ports.ssh}`
    let r = openssh('ssh', ['-J', jump, `${LOGIN}@${NODE}.${CLUSTER}`, 'echo jumped'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), 'jumped')
    r = openssh('ssh', ['-J', jump, `nosuchlogin@${NODE}.${CLUSTER}`, 'echo never'])
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /access denied to nosuchlogin connecting to/)
    assert.doesNotMatch(r.stdout, /never/)
    r = openssh('ssh', ['-J', jump, `${LOGIN}@nosuchnode.${CLUSTER}`, 'true'])
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /open failed: .*failed to connect to nosuchnode/)
  })

  test('the proxy restarted: the tunnel comes back by itself and the next tsh ssh works', async () => {
    const before = tunnelsUp()
    assert.equal(await proxy.stop(), 0)
    proxy = startTeleport(['-c', proxyConfig])
    await proxy.waitForLog(/Reverse tunnel service is starting/)
    await eventually(() => tunnelsUp() > before, 'the node to reopen its tunnel', {timeoutMs: 90_000}).catch((err: Error) => {
      const ps = spawnSync('ps', ['-o', 'pid,stat,pcpu,etime,cmd', '-p', String(node.child.pid)], {encoding: 'utf8'}).stdout
      throw new Error(`${err.message}\nexit ${node.child.exitCode} ${node.child.signalCode}\n${ps}\nnode:\n${node.logs()}\nproxy:\n${proxy.logs()}`)
    })
    assert.match(node.logs(), /Reverse tunnel to proxy \S+ \(\S+\) closed; reconnecting\./)
    const r = await eventually(() => {
      const out = tsh(['ssh', `${LOGIN}@${NODE}`, 'echo back'])
      return out.code === 0 && out
    }, 'tsh ssh after the restart')
    assert.equal(r.stdout.trim(), 'back')
  })
})
