// Faults in an HA cluster of real processes: a 3-member etcd, two auth servers (`teleport start
// --roles=auth`) with one cluster name on it, and a proxy and a node each given both in
// auth_servers. (a) The etcd leader is killed during a loop of logins (the web API login tsh login
// makes): logins may fail for a moment, none once 5 s have passed. (b) The auth server the proxy
// and the node use is killed (SIGKILL): tsh login, tsh ssh and the node's heartbeats go on through
// the other, and tctl given both finds the one up; the killed one restarts and serves what was
// written while it was down, audit events included (the auth servers share the audit directory).
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {Etcd3} from 'etcd3'
import {Agent} from 'undici'
import {WebClient} from '../../src/client/web-client.js'
import {generateKeyPair} from '../../src/sshca/index.js'
import {repoRoot, run, runTool, tctlOk} from '../helpers/cli.js'
import {freePort, startTeleport, type TeleportDaemon} from '../helpers/daemon.js'
import {startEtcd, type EtcdCluster} from '../helpers/etcd.js'
import {eventually} from '../helpers/eventually.js'
import {redeemUserToken, tokenOf, webCaller} from '../helpers/invite-page.js'
import {inPty} from '../helpers/pty.js'
import {tshEnv} from '../helpers/tsh-pty-login.js'
import {LOGIN, tempDir} from '../interop/helpers.js'

const CLUSTER = 'ha-faults.test'
const TOKEN = 'ha-faults-join-token-0123456789abcdef'
const PASSWORD = 'a long enough password'
const NODE = 'ha-node'
/** How long after the etcd leader is killed logins may fail (the issue's bound). */
const GRACE_MS = 5_000
/** Logins that must succeed after the grace period before the loop stops. */
const LOGINS_AFTER_GRACE = 10

describe('HA faults: etcd leader and auth server killed', {timeout: 240_000}, () => {
  const dir = tempDir('ha-faults-')
  const at = (...parts: string[]) => path.join(dir.path, ...parts)
  let etcd: EtcdCluster
  const authPorts: number[] = []
  const authConfigs: string[] = []
  const auths: Array<TeleportDaemon | undefined> = []
  let proxy: TeleportDaemon
  let node: TeleportDaemon
  let webPort: number
  /** tctl's own config: auth A's data dir (its admin identity), both auth servers in auth_servers. */
  let tctlConfig: string
  const web = new Agent({connect: {rejectUnauthorized: false}})
  const authList = () => authPorts.map((port) => `127.0.0.1:${port}`).join(', ')
  const home = at('home')
  const tsh = (...args: string[]) => run(path.join(repoRoot, 'bin', 'tsh'), args, {env: tshEnv(home)})

  function startAuth(index: number): TeleportDaemon {
    const daemon = startTeleport(['-c', authConfigs[index]!])
    auths[index] = daemon
    return daemon
  }

  before(async () => {
    mkdirSync(home, {recursive: true})
    etcd = await startEtcd({size: 3})
    for (const name of ['a', 'b']) {
      const port = await freePort()
      authPorts.push(port)
      const config = at(`auth-${name}.yaml`)
      writeFileSync(
        config,
        [
          'teleport:',
          `  nodename: auth-${name}`,
          `  data_dir: ${at(`auth-${name}`)}`,
          '  storage:',
          '    type: etcd',
          `    peers: [${etcd.peers.join(', ')}]`,
          '    prefix: /ha-faults',
          // The audit log and recordings in directories both auth servers share.
          `    audit_events_uri: [file://${at('shared', 'events')}]`,
          `    audit_sessions_uri: file://${at('shared', 'records')}`,
          'auth_service:',
          `  listen_addr: 127.0.0.1:${port}`,
          `  cluster_name: ${CLUSTER}`,
          '  authentication: {type: local, second_factor: "off"}',
          `  tokens: ["proxy,node:${TOKEN}"]`,
          'proxy_service: {enabled: no}',
          'ssh_service: {enabled: no}',
          '',
        ].join('\n'),
      )
      authConfigs.push(config)
    }
    // One at a time: the first makes the CAs, the second finds them in etcd.
    await startAuth(0).waitForLog(/Auth service is starting on/)
    await startAuth(1).waitForLog(/Auth service is starting on/)
    const pin = /sha256:[0-9a-f]{64}/.exec(tctlOk(authConfigs[0]!, 'status'))![0]

    webPort = await freePort()
    const joining = ['teleport:', `  auth_servers: [${authList()}]`, `  auth_token: ${TOKEN}`, `  ca_pin: ${pin}`]
    const proxyConfig = at('proxy.yaml')
    writeFileSync(
      proxyConfig,
      [
        ...joining,
        '  nodename: ha-proxy',
        `  data_dir: ${at('proxy')}`,
        'auth_service: {enabled: no}',
        'ssh_service: {enabled: no}',
        'proxy_service:',
        `  listen_addr: 127.0.0.1:${await freePort()}`,
        `  web_listen_addr: 127.0.0.1:${webPort}`,
        `  tunnel_listen_addr: 127.0.0.1:${await freePort()}`,
        '',
      ].join('\n'),
    )
    const nodeConfig = at('node.yaml')
    writeFileSync(
      nodeConfig,
      [
        ...joining,
        `  nodename: ${NODE}`,
        `  data_dir: ${at('node')}`,
        'auth_service: {enabled: no}',
        'proxy_service: {enabled: no}',
        'ssh_service:',
        `  listen_addr: 127.0.0.1:${await freePort()}`,
        // A label whose value changes every second makes the node announce itself every second
        // (the record changed), so its heartbeats are seen in seconds rather than minutes.
        '  commands: [{name: tick, command: [date, "+%s"], period: 1s}]',
        '',
      ].join('\n'),
    )
    proxy = startTeleport(['-c', proxyConfig])
    node = startTeleport(['-c', nodeConfig])
    await proxy.waitForLog(/Web proxy service is starting/)
    await node.waitForLog(/Node service is starting/)
    tctlConfig = at('tctl.yaml')
    writeFileSync(tctlConfig, ['teleport:', `  data_dir: ${at('auth-a')}`, `  auth_servers: [${authList()}]`, ''].join('\n'))

    const added = tctlOk(authConfigs[0]!, 'users', 'add', 'alice', '--roles=access', `--logins=${LOGIN}`)
    const invite = /https:\/\/\S+\/web\/invite\/[0-9a-f]{32}/.exec(added)?.[0] ?? assert.fail(added)
    const done = await redeemUserToken(webCaller(`https://127.0.0.1:${webPort}`, web), {token: tokenOf(invite), password: PASSWORD})
    assert.equal(done.status, 200, done.text)
  })
  after(async () => {
    for (const daemon of [node, proxy, ...auths]) await daemon?.stop()
    await etcd?.close()
    await web.close()
    dir.cleanup()
  })

  test('the etcd leader killed during a loop of logins: none fails once 5 s have passed', async (t) => {
    const client = new WebClient({proxyAddr: `127.0.0.1:${webPort}`, insecure: true, timeoutMs: 20_000})
    const {publicKey} = generateKeyPair()
    const attempts: Array<{start: number; end: number; error?: string}> = []
    let killedAt: number | undefined
    const login = async () => {
      const start = Date.now()
      try {
        await client.createSshCert({user: 'alice', password: PASSWORD, pub_key: publicKey, ttl: 3600e9})
        attempts.push({start, end: Date.now()})
      } catch (err) {
        attempts.push({start, end: Date.now(), error: (err as Error).message})
      }
    }
    try {
      for (let i = 0; i < 3; i++) await login()
      assert.deepEqual(attempts.filter((a) => a.error), [], 'logins work before the kill')
      const leader = await etcdLeader(etcd)
      killedAt = Date.now()
      await etcd.members.find((m) => m.clientUrl === leader)!.kill()
      // Bounded: the loop ends when enough logins that began after the grace period have ended, or at the deadline.
      const deadline = killedAt + 60_000
      const afterGrace = () => attempts.filter((a) => a.start >= killedAt! + GRACE_MS)
      while (afterGrace().length < LOGINS_AFTER_GRACE && Date.now() < deadline) await login()

      const since = (a: {start: number}) => `${((a.start - killedAt!) / 1000).toFixed(2)}s`
      const during = attempts.filter((a) => a.start >= killedAt! && a.start < killedAt! + GRACE_MS)
      const failedDuring = during.filter((a) => a.error)
      t.diagnostic(`leader ${leader} killed; logins begun in the first ${GRACE_MS / 1000} s: ${during.length}, failed: ${failedDuring.length}${failedDuring.map((a) => ` [at +${since(a)}: ${a.error}]`).join('')}, longest ${Math.max(...during.map((a) => a.end - a.start))} ms`)
      t.diagnostic(`logins begun after ${GRACE_MS / 1000} s: ${afterGrace().length}, longest ${Math.max(...afterGrace().map((a) => a.end - a.start))} ms`)
      assert.ok(afterGrace().length >= LOGINS_AFTER_GRACE, `only ${afterGrace().length} logins began after the grace period within a minute`)
      // Strict: a login begun within the 5 s may not fail after them either.
      const lateFailures = attempts.filter((a) => a.error && a.end >= killedAt! + GRACE_MS)
      assert.deepEqual(lateFailures.map((a) => `begun +${since(a)}, failed +${((a.end - killedAt!) / 1000).toFixed(2)}s: ${a.error}`), [], 'no login fails once 5 s have passed')
    } finally {
      await client.close()
    }
  })

  test('an auth server killed: tsh login, tsh ssh and heartbeats go on through the other; it restarts and catches up', async (t) => {
    // The proxy and the node joined through the first of auth_servers: that is the one they use.
    auths[0]!.child.kill('SIGKILL')
    await auths[0]!.stop()
    const killedAt = Date.now()
    auths[0] = undefined

    const term = inPty(path.join(repoRoot, 'bin', 'tsh'), ['login', `--proxy=127.0.0.1:${webPort}`, '--user=alice', '--insecure', '--add-keys-to-agent=no'], tshEnv(home))
    await term.waitFor(/Enter password for Teleport user alice:/)
    term.write(`${PASSWORD}\r`)
    assert.equal(await term.exit, 0, term.output())

    const ssh = await tsh('ssh', `${LOGIN}@${NODE}`, 'echo through-the-other')
    assert.equal(ssh.code, 0, ssh.stderr)
    assert.equal(ssh.stdout, 'through-the-other\n')

    // Heartbeats: the node's record is announced again (its tick label newer than the kill, a later expiry).
    const fresh = await eventually(async () => {
      const r = await tsh('ls', '-f', 'json')
      if (r.code !== 0) return undefined
      const listed = (JSON.parse(r.stdout) as Array<{hostname: string; cmd_labels: Record<string, {result?: string}>; expires?: string}>).find((n) => n.hostname === NODE)
      const tick = Number(listed?.cmd_labels.tick?.result ?? 0)
      return tick * 1000 > killedAt + 1000 ? listed : undefined
    }, `${NODE} announced again after the kill`)
    assert.ok(Date.parse(fresh.expires ?? '') > killedAt, `a fresh expiry: ${fresh.expires}`)
    t.diagnostic(`node announced again ${((Number(fresh.cmd_labels.tick!.result) * 1000 - killedAt) / 1000).toFixed(1)} s after the kill, expires ${fresh.expires}`)

    // tctl given both auth servers (flags, or the config's auth_servers) finds the one up.
    const both = runTool('tctl', ['-c', authConfigs[0]!, '--auth-server', `127.0.0.1:${authPorts[0]}`, '--auth-server', `127.0.0.1:${authPorts[1]}`, 'users', 'add', 'carol', '--roles=access', `--logins=${LOGIN}`], {env: {TELEPORT_CONFIG_FILE: ''}})
    assert.equal(both.code, 0, both.stderr)
    assert.match(tctlOk(tctlConfig, 'users', 'ls'), /^carol\s/m)
    const down = runTool('tctl', ['-c', authConfigs[0]!, `--auth-server=127.0.0.1:${authPorts[0]}`, 'users', 'ls'], {env: {TELEPORT_CONFIG_FILE: ''}})
    assert.equal(down.code, 1)
    assert.match(down.stderr, new RegExp(`^ERROR: cannot reach the auth server at 127\\.0\\.0\\.1:${authPorts[0]}: connection refused`))

    // The killed one restarts and serves what was written while it was down.
    await startAuth(0).waitForLog(/Auth service is starting on/)
    assert.match(tctlOk(authConfigs[0]!, `--auth-server=127.0.0.1:${authPorts[0]}`, 'users', 'ls'), /^carol\s/m)
    const nodes = tctlOk(authConfigs[0]!, `--auth-server=127.0.0.1:${authPorts[0]}`, 'nodes', 'ls')
    assert.match(nodes, new RegExp(`\\b${NODE}\\b`))
    const logins = tctlOk(authConfigs[0]!, `--auth-server=127.0.0.1:${authPorts[0]}`, 'events', 'ls', '--type=user.login', '--user=alice', '-f', 'json')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as {time: string; success?: boolean})
    assert.ok(logins.some((e) => Date.parse(e.time) > killedAt && e.success !== false), 'the login written by the other auth server while this one was down')
  })
})

/** The client URL of the etcd member that leads now: the one whose status (etcd's maintenance API, as `etcdctl endpoint status`) names itself leader. */
async function etcdLeader(etcd: EtcdCluster): Promise<string> {
  for (const member of etcd.members.filter((m) => m.running)) {
    const client = new Etcd3({hosts: [member.clientUrl], dialTimeout: 2000})
    try {
      const status = await client.maintenance.status()
      if (status.leader === status.header.member_id) return member.clientUrl
    } finally {
      client.close()
    }
  }
  throw new Error('no etcd member says it leads')
}
