import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {Agent} from 'undici'
import {generateTotpCode} from '../../src/services/totp.js'
import {caPin, parseCert} from '../../src/sshca/index.js'
import {repoRoot, runBin, tctlOk} from '../helpers/cli.js'
import {eventually} from '../helpers/eventually.js'
import {freePort, startTeleport, type TeleportDaemon} from '../helpers/daemon.js'
import {acceptUserToken, webCaller} from '../helpers/invite-page.js'
import {inPty} from '../helpers/pty.js'
import {LOGIN, tempDir} from '../interop/helpers.js'

// A manual rotation of the user CA, then of the host CA, on real processes: auth + proxy + node
// in one `teleport start`, and a second node joined with a token in its own process. In every
// phase a logged-in user's `tsh ssh` reaches both nodes and stock OpenSSH (through `tsh config`)
// reaches one; `tctl status` shows the phase and both pins; after the final standby a
// certificate from the old user CA key is refused.

const CLUSTER = 'rotate.local'
const NODE = 'rot-node'
const NODE2 = 'rot-node2'
const PASSWORD = 'correct horse battery'
const TSH = path.join(repoRoot, 'bin', 'tsh')
const PHASES = ['init', 'update_clients', 'update_servers', 'standby'] as const

interface Status {
  authorities: {type: string; rotation_phase: string; pins?: string[]; rotation?: {state: string; mode: string}}[]
}

describe('CA rotation with tsh ssh and stock ssh working in every phase', () => {
  const dir = tempDir('ca-rotation-e2e-')
  let config: string
  let teleport: TeleportDaemon
  let node2: TeleportDaemon
  let web: number
  let proxySsh: number
  const sshConfig = path.join(dir.path, 'ssh_config')
  /** The user whose login tsh and stock ssh use now; each has a ~/.tsh of their own. */
  let current = ''
  const home = (user: string) => path.join(dir.path, `tsh-${user}`)
  const env = (user = current) => ({TELEPORT_HOME: home(user), SSH_AUTH_SOCK: '', HOME: dir.path})
  const tsh = (args: string[], user = current) => runBin(TSH, args, {env: env(user)})
  const tctl = (...args: string[]) => tctlOk(config, ...args)
  const status = () => JSON.parse(tctl('status', '--format', 'json')) as Status
  const ca = (type: 'user' | 'host') => status().authorities.find((a) => a.type === type)!

  // A user invited with tctl, enrolled on the invite page (TOTP step 0), logged in with the next step's code.
  const addUserAndLogin = async (user: string) => {
    const added = tctl('users', 'add', user, '--roles=access', `--logins=${LOGIN}`)
    const url = /https:\/\/\S+\/web\/invite\/[0-9a-f]{32}/.exec(added)![0]
    // A connection of its own: a pooled one may be the proxy's idle keep-alive closing (5 s) as we reuse it.
    const secret = await acceptUserToken(webCaller(url, new Agent({connect: {rejectUnauthorized: false}, pipelining: 0})), url, PASSWORD)
    const term = inPty(TSH, ['login', `--proxy=localhost:${web}`, `--user=${user}`, '--insecure'], {...process.env, ...env(user)})
    await term.waitFor(/[Pp]assword/)
    term.write(PASSWORD + '\r')
    await term.waitFor(/(OTP|one-time|code)/i)
    term.write(generateTotpCode(secret, Date.now() + 30_000) + '\r')
    assert.equal(await term.exit, 0, term.output())
    current = user
    const r = tsh(['config'])
    assert.equal(r.code, 0, r.stderr)
    writeFileSync(sshConfig, r.stdout + '\nHost *\n  BatchMode yes\n  StrictHostKeyChecking yes\n  GlobalKnownHostsFile /dev/null\n  IdentityAgent none\n')
  }

  const sshWorks = (what: string) => {
    for (const node of [NODE, NODE2]) {
      const r = tsh(['ssh', `${LOGIN}@${node}`, 'echo', `ok-${node}`])
      assert.equal(r.code, 0, `tsh ssh ${node} in ${what}: ${r.stderr}`)
      assert.equal(r.stdout.trim(), `ok-${node}`)
    }
    const r = spawnSync('ssh', ['-F', sshConfig, `${LOGIN}@${NODE2}.${CLUSTER}`, 'echo via-openssh'], {encoding: 'utf8', env: {...process.env, ...env()}, timeout: 60_000})
    assert.equal(r.status, 0, `stock ssh in ${what}: ${r.stderr}`)
    assert.equal(r.stdout.trim(), 'via-openssh')
  }

  /** The signing key's pin of the host certificate a server presents now (ssh-keyscan -c prints certificates). */
  const presentedSignerPin = (port: number) => {
    const r = spawnSync('ssh-keyscan', ['-c', '-t', 'ed25519', '-p', String(port), '127.0.0.1'], {encoding: 'utf8', timeout: 30_000})
    const cert = /ssh-ed25519-cert-v01@openssh\.com [A-Za-z0-9+/=]+/.exec(r.stdout)?.[0]
    return cert ? caPin(parseCert(cert).signatureKey) : undefined
  }

  before(async () => {
    const auth = await freePort()
    proxySsh = await freePort()
    web = await freePort()
    config = path.join(dir.path, 'teleport.yaml')
    writeFileSync(config, [
      'teleport:', `  nodename: ${NODE}`, `  data_dir: ${path.join(dir.path, 'data')}`,
      'auth_service:', `  listen_addr: 127.0.0.1:${auth}`, `  cluster_name: ${CLUSTER}`,
      'proxy_service:', `  listen_addr: 127.0.0.1:${proxySsh}`, `  web_listen_addr: 127.0.0.1:${web}`, `  public_addr: localhost:${web}`,
      'ssh_service:', `  listen_addr: 127.0.0.1:${await freePort()}`, '',
    ].join('\n'))
    teleport = startTeleport(['-c', config])
    await teleport.waitForLog(/Node service is starting/)

    const invite = tctl('tokens', 'add', '--type=node')
    const token = /The invite token: ([0-9a-f]{32})/.exec(invite)![1]
    const pin = /--ca-pin=(sha256:[0-9a-f]{64})/.exec(invite)![1]
    const node2Dir = path.join(dir.path, 'node2')
    mkdirSync(node2Dir)
    const node2Config = path.join(node2Dir, 'teleport.yaml')
    writeFileSync(node2Config, `teleport:\n  nodename: ${NODE2}\n  data_dir: ${node2Dir}/data\nauth_service: {enabled: no}\nproxy_service: {enabled: no}\nssh_service:\n  listen_addr: 127.0.0.1:${await freePort()}\n`)
    node2 = startTeleport(['-c', node2Config, '--roles=node', `--token=${token}`, `--ca-pin=${pin}`, `--auth-server=127.0.0.1:${auth}`])
    await node2.waitForLog(/Node service is starting/)

    await addUserAndLogin('alice')
    await eventually(() => tsh(['ls', '-f', 'names']).stdout.includes(NODE2), 'the second node in tsh ls')
    sshWorks('standby')
  })
  after(async () => {
    await node2?.stop()
    await teleport?.stop()
    dir.cleanup()
  })

  test('user CA: tsh and ssh work in every phase; the old certificate is refused after the final standby', async () => {
    // alice's login is from before the rotation: her certificate is from the old key.
    const oldPins = ca('user').pins!
    assert.equal(oldPins.length, 1)
    for (const phase of PHASES) {
      assert.equal(tctl('auth', 'rotate', '--type=user', '--manual', `--phase=${phase}`).trim(), `Updated rotation phase to "${phase}". To check status use 'tctl status'`)
      const user = ca('user')
      assert.equal(user.rotation_phase, phase)
      if (phase !== 'standby') {
        assert.equal(user.rotation?.state, 'in_progress')
        assert.equal(user.pins?.length, 2, 'both CA pins while rotating')
        const text = tctl('status')
        assert.match(text, new RegExp(`^User CA rotation: +in progress \\(manual\\), current phase: "${phase}"`, 'm'))
        assert.match(text, new RegExp(`^User CA pins: +${user.pins![0]}, ${user.pins![1]}$`, 'm'))
        // Plain sshd's TrustedUserCAKeys needs both keys during the grace period.
        assert.equal(tctl('auth', 'export', '--type=user').trim().split('\n').length, 2)
      }
      if (phase === 'update_servers') {
        // A login now (bob's; alice would re-login the same way) gets a certificate from the new key.
        await addUserAndLogin('bob')
        const cert = readFileSync(path.join(home('bob'), 'keys', 'localhost', 'bob-ssh', `${CLUSTER}-cert.pub`), 'utf8')
        assert.notEqual(caPin(parseCert(cert).signatureKey), oldPins[0])
      }
      if (phase !== 'standby') {
        sshWorks(`user CA ${phase}`)
        const old = tsh(['ssh', `${LOGIN}@${NODE2}`, 'true'], 'alice')
        assert.equal(old.code, 0, `the old certificate still works in ${phase}: ${old.stderr}`)
      }
    }
    assert.deepEqual(ca('user').pins, [ca('user').pins![0]])
    assert.notEqual(ca('user').pins![0], oldPins[0])
    // Nodes and the proxy follow the CA change through their watch: the old certificate is refused.
    const refused = await eventually(() => {
      const r = tsh(['ssh', `${LOGIN}@${NODE2}`, 'true'], 'alice')
      return r.code !== 0 ? r : undefined
    }, 'the old certificate refused')
    // Refused by the proxy: on its SSH port, or on the TLS relay (the TLS user CA rotated with
    // the user CA, so the X.509 certificate from the same login is refused too).
    assert.match(refused.stderr, /refused your certificate|not signed by this cluster's TLS user CA/)
    sshWorks('user CA standby (bob, logged in during the rotation)')
  })

  test('host CA: servers present new certificates in update_servers without a restart; tsh and ssh keep working', async () => {
    const before = ca('host').pins![0]!
    assert.equal(presentedSignerPin(proxySsh), before)
    for (const phase of PHASES) {
      tctl('auth', 'rotate', '--type=host', '--manual', `--phase=${phase}`)
      const host = ca('host')
      assert.equal(host.rotation_phase, phase)
      if (phase !== 'standby') assert.equal(tctl('auth', 'export', '--type=host').trim().split('\n').length, 2, 'known_hosts lines for both keys')
      if (phase === 'update_servers') {
        const fresh = host.pins![0]
        assert.notEqual(fresh, before)
        await eventually(() => presentedSignerPin(proxySsh) === fresh, 'the proxy presenting a certificate from the new host CA key')
      }
      sshWorks(`host CA ${phase}`)
    }
    assert.equal(ca('host').pins!.length, 1)
    assert.equal(presentedSignerPin(proxySsh), ca('host').pins![0])
    assert.equal(teleport.child.exitCode, null, 'no restart')
    // Every phase change audited: four per CA.
    const events = tctl('events', 'ls', '--format', 'json', '--type', 'cert.rotation').trim().split('\n').map((line) => JSON.parse(line) as {cert_type: string; phase: string; code: string})
    // The TLS user CA took each of the user CA's steps with it.
    assert.deepEqual(events.map((e) => `${e.code} ${e.cert_type} ${e.phase}`).sort(), ['host', 'tls', 'user'].flatMap((type) => PHASES.map((p) => `TC100I ${type} ${p}`)).sort())
  })

  test('an automatic rotation moves through the phases by itself over a short grace period', async () => {
    const before = ca('user').pins![0]
    assert.equal(tctl('auth', 'rotate', '--type=user', '--grace-period=6s').trim(), `Updated rotation phase to "init". To check status use 'tctl status'`)
    assert.match(tctl('status'), /^User CA rotation: +in progress \(auto\), current phase: "init", started \S+, grace period 6s, next phase at \S+$/m)
    await eventually(() => ca('user').rotation_phase === 'standby', 'the automatic rotation to finish', {timeoutMs: 60_000, intervalMs: 500})
    assert.notEqual(ca('user').pins![0], before)
    const events = tctl('events', 'ls', '--format', 'json', '--type', 'cert.rotation').trim().split('\n').map((line) => JSON.parse(line) as {cert_type: string; phase: string; mode: string; user: string})
    const auto = events.filter((e) => e.cert_type === 'user' && e.mode === 'auto')
    assert.deepEqual(auto.filter((e) => e.user === 'system').map((e) => e.phase).sort(), ['standby', 'update_clients', 'update_servers'], 'the scheduler took the steps after init')
    assert.deepEqual(auto.filter((e) => e.user !== 'system').map((e) => e.phase), ['init'])
  })
})
