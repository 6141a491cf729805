import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, readdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {repoRoot, runBin} from '../helpers/cli.js'
import {eventually} from '../helpers/eventually.js'
import {freePort, startTeleport, type TeleportDaemon} from '../helpers/daemon.js'
import {tctlInviteAndLogIn} from '../helpers/tsh-pty-login.js'
import {LOGIN, tempDir} from '../interop/helpers.js'

// Recording proxy mode with the real programs: one `teleport start` process (auth, proxy and
// node) with `session_recording: proxy`, alice invited with tctl and logged in with `tsh login` in
// a pty. `tsh ssh -A` runs through the proxy, which records the session; `tsh recordings ls` lists
// it once and `tsh play` plays it; the node keeps no recording; without -A, Teleport's refusal.

const CLUSTER = 'recproxy.e2e'
const NODE = 'recproxy-e2e'
const PASSWORD = 'correct horse battery'
const TSH = path.join(repoRoot, 'bin', 'tsh')

describe('recording proxy mode against real processes', {timeout: 4 * 60_000}, () => {
  const dir = tempDir('recproxy-e2e')
  let teleport: TeleportDaemon
  let config: string
  let web: number
  const env = () => ({TELEPORT_HOME: path.join(dir.path, 'tsh'), SSH_AUTH_SOCK: '', HOME: dir.path})
  const tsh = (args: string[]) => runBin(TSH, args, {env: env()})

  before(async () => {
    const [auth, proxySsh, nodePort] = [await freePort(), await freePort(), await freePort()]
    web = await freePort()
    config = path.join(dir.path, 'teleport.yaml')
    writeFileSync(config, [
      'teleport:', `  nodename: ${NODE}`, `  data_dir: ${path.join(dir.path, 'data')}`,
      'auth_service:', `  listen_addr: 127.0.0.1:${auth}`, `  cluster_name: ${CLUSTER}`, '  authentication: {second_factor: "off"}', '  session_recording: proxy',
      'proxy_service:', `  listen_addr: 127.0.0.1:${proxySsh}`, `  web_listen_addr: 127.0.0.1:${web}`, '  tunnel_listen_addr: 127.0.0.1:0', `  public_addr: localhost:${web}`,
      'ssh_service:', `  listen_addr: 127.0.0.1:${nodePort}`, '',
    ].join('\n'))
    teleport = startTeleport(['-c', config])
    await teleport.waitForLog(/Sessions are recorded at this proxy \(auth_service\.session_recording: proxy\)/)
    await teleport.waitForLog(/Node service is starting/)
    await tctlInviteAndLogIn(config, {user: 'alice', login: LOGIN, password: PASSWORD, webPort: web, env: {...process.env, ...env()}})
    await eventually(() => tsh(['ls']).stdout.includes(NODE), 'the node in tsh ls')
  })

  after(async () => {
    await teleport?.stop()
    dir.cleanup()
  })

  test('tsh ssh -A is recorded at the proxy, listed once and played; the node keeps no copy; without -A it is refused', async () => {
    const r = tsh(['ssh', '-A', `${LOGIN}@${NODE}`, 'echo recorded-e2e-$((6*7))'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'recorded-e2e-42\n')
    const [listed] = await eventually(() => {
      const ls = tsh(['recordings', 'ls', '-f', 'json'])
      const found = JSON.parse(ls.stdout || '[]') as {sid: string}[]
      return found.length > 0 && found
    }, 'the session in tsh recordings ls')
    assert.equal(tsh(['recordings', 'ls', '-f', 'json']).stdout.split('"session.end"').length - 1, 1, 'listed once')
    const played = await eventually(() => {
      const p = tsh(['play', '-f', 'text', listed!.sid])
      return p.code === 0 && p
    }, 'the uploaded recording to play')
    assert.equal(played.stdout, 'recorded-e2e-42\n')
    assert.deepEqual(readdirSync(path.join(dir.path, 'data', 'log', 'upload', 'recordings')), [], 'the node wrote no recording')

    const refused = tsh(['ssh', `${LOGIN}@${NODE}`, 'echo never'])
    assert.notEqual(refused.code, 0)
    assert.equal(refused.stderr.trimEnd(), `failed connecting to node ${NODE}. agent forwarding required in proxy recording mode`)
  })

  test('stock ssh through tsh config forwards the agent without -A: the login learned the mode from the proxy', async () => {
    // bob at a desktop with an ssh-agent: tsh login puts his key and certificate in it.
    const agentSocket = path.join(dir.path, 'bob-agent.sock')
    const agent = spawn('ssh-agent', ['-D', '-a', agentSocket], {stdio: 'ignore'})
    try {
      await eventually(() => existsSync(agentSocket), 'the ssh-agent socket')
      const bob = {...process.env, TELEPORT_HOME: path.join(dir.path, 'bob-tsh'), HOME: dir.path, SSH_AUTH_SOCK: agentSocket}
      await tctlInviteAndLogIn(config, {user: 'bob', login: LOGIN, password: PASSWORD, webPort: web, env: bob})
      const sshConfig = path.join(dir.path, 'bob_ssh_config')
      const generated = runBin(TSH, ['config'], {env: bob})
      assert.equal(generated.code, 0, generated.stderr)
      writeFileSync(sshConfig, generated.stdout)
      const host = `${NODE}.${CLUSTER}`
      const r = runBin('ssh', ['-F', sshConfig, '-o', 'BatchMode=yes', `${LOGIN}@${host}`, 'echo stock-$((6*7))'], {env: bob})
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, 'stock-42\n')
      // Without an agent of his own, ssh would forward tsh agent's socket (the first value it reads).
      const resolved = runBin('ssh', ['-G', '-F', sshConfig, `${LOGIN}@${host}`], {env: {...bob, SSH_AUTH_SOCK: ''}})
      assert.match(resolved.stdout, new RegExp(`^forwardagent ${path.join(dir.path, 'bob-tsh', 'agent.sock')}$`, 'm'))
      assert.match(runBin('ssh', ['-G', '-F', sshConfig, `${LOGIN}@${host}`], {env: bob}).stdout, /^forwardagent yes$/m)
    } finally {
      agent.kill()
    }
  })
})
