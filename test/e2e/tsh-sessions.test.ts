import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {Agent, request} from 'undici'
import {repoRoot, runBin, tctlOk} from '../helpers/cli.js'
import {eventually, poll} from '../helpers/eventually.js'
import {freePort, startTeleport, type TeleportDaemon} from '../helpers/daemon.js'
import {parseInvitePage} from '../helpers/invite-page.js'
import {inPty} from '../helpers/pty.js'
import {LOGIN, tempDir} from '../interop/helpers.js'

// Live sessions as a user sees them with the real programs: auth and proxy in one `teleport
// start` process, the node in another (joined with a token); alice logged in with `tsh login` in
// a pty, her shell opened with `tsh ssh` in a pty. `tsh sessions ls` lists the shell with alice in
// it while it runs and not after; `tsh ls -v` counts it on its node; a node killed with kill -9
// takes its session off the list within a minute (its tracker is no longer renewed).

const CLUSTER = 'sessions.e2e'
const NODE = 'trk-e2e-node'
const PASSWORD = 'correct horse battery'
const TOKEN = 'node-join-token-0123456789abcdef'
const TSH = path.join(repoRoot, 'bin', 'tsh')

interface ListedSession {
  session_id: string
  state: string
  user: string
  login: string
  hostname: string
  participants: {user: string; mode: string}[]
}

describe('tsh sessions ls against real processes', {timeout: 5 * 60_000}, () => {
  const dir = tempDir('sessions-e2e')
  let config: string
  let cluster: TeleportDaemon
  let node: TeleportDaemon
  let web: number
  const env = () => ({TELEPORT_HOME: path.join(dir.path, 'tsh'), SSH_AUTH_SOCK: '', HOME: dir.path})
  const tsh = (args: string[]) => runBin(TSH, args, {env: env()})
  const sessions = (): ListedSession[] => {
    const r = tsh(['sessions', 'ls', '-f', 'json'])
    assert.equal(r.code, 0, r.stderr)
    return JSON.parse(r.stdout) as ListedSession[]
  }
  const shell = () => inPty(TSH, ['ssh', `${LOGIN}@${NODE}`], {...process.env, ...env(), PS1: 'prompt$ '}, 4 * 60_000)

  before(async () => {
    const [auth, proxySsh, nodePort] = [await freePort(), await freePort(), await freePort()]
    web = await freePort()
    config = path.join(dir.path, 'teleport.yaml')
    writeFileSync(config, [
      'teleport:', '  nodename: trk-e2e-auth', `  data_dir: ${path.join(dir.path, 'data')}`,
      'auth_service:', `  listen_addr: 127.0.0.1:${auth}`, `  cluster_name: ${CLUSTER}`, `  tokens: ["node:${TOKEN}"]`, '  authentication: {second_factor: "off"}',
      'proxy_service:', `  listen_addr: 127.0.0.1:${proxySsh}`, `  web_listen_addr: 127.0.0.1:${web}`, `  public_addr: localhost:${web}`,
      'ssh_service:', '  enabled: no', '',
    ].join('\n'))
    cluster = startTeleport(['-c', config])
    await cluster.waitForLog(/Web proxy service is starting/)

    const nodeConfig = path.join(dir.path, 'node.yaml')
    writeFileSync(nodeConfig, [
      'teleport:', `  nodename: ${NODE}`, `  data_dir: ${path.join(dir.path, 'node-data')}`, `  auth_token: ${TOKEN}`, `  auth_servers: ["127.0.0.1:${auth}"]`,
      'auth_service:', '  enabled: no', 'proxy_service:', '  enabled: no',
      'ssh_service:', `  listen_addr: 127.0.0.1:${nodePort}`, '',
    ].join('\n'))
    node = startTeleport(['-c', nodeConfig])
    await node.waitForLog(/Node service is starting/)

    // alice, invited with tctl; her password set on the invite page (no second factor here).
    const added = tctlOk(config, 'users', 'add', 'alice', '--roles=access', `--logins=${LOGIN}`)
    const url = /https:\/\/\S+\/web\/invite\/[0-9a-f]{32}/.exec(added)![0]
    const insecure = new Agent({connect: {rejectUnauthorized: false}})
    const form = parseInvitePage(await (await request(url, {dispatcher: insecure})).body.text())
    const done = await request(url, {
      method: 'POST',
      dispatcher: insecure,
      headers: {'content-type': 'application/x-www-form-urlencoded'},
      body: new URLSearchParams({csrf_token: form.csrf, password: PASSWORD, password_confirm: PASSWORD}).toString(),
    })
    assert.equal(done.statusCode, 200, await done.body.text())
    const term = inPty(TSH, ['login', `--proxy=localhost:${web}`, '--user=alice', '--insecure'], {...process.env, ...env()})
    await term.waitFor(/[Pp]assword/)
    term.write(PASSWORD + '\r')
    assert.equal(await term.exit, 0, term.output())
    await eventually(() => tsh(['ls']).stdout.includes(NODE), 'the node in tsh ls')
  })

  after(async () => {
    if (node?.child.exitCode === null && node.child.signalCode === null) await node.stop()
    await cluster?.stop()
    dir.cleanup()
  })

  test('a shell is listed with alice in it while it runs, counted by tsh ls -v, and gone once it ends', async () => {
    const term = shell()
    term.write('echo ready-$((6*7))\r')
    await term.waitFor(/ready-42/)
    const [listed] = await eventually(() => {
      const found = sessions()
      return found.length > 0 && found
    }, 'the shell in tsh sessions ls')
    assert.deepEqual([listed!.state, listed!.user, listed!.login, listed!.hostname], ['RUNNING', 'alice', LOGIN, NODE])
    assert.deepEqual(listed!.participants.map((p) => [p.user, p.mode]), [['alice', 'peer']])
    const table = tsh(['sessions', 'ls'])
    assert.equal(table.code, 0, table.stderr)
    assert.match(table.stdout, /^ID\s+State\s+User\s+Login\s+Hostname\s+Participants\s+Created$/m)
    assert.match(table.stdout, new RegExp(`^${listed!.session_id}\\s+RUNNING\\s+alice\\s+${LOGIN}\\s+${NODE}\\s+alice\\s+\\d{4}-\\d\\d-\\d\\d `, 'm'))
    const nodes = tsh(['ls', '-v'])
    assert.match(nodes.stdout, /^Node Name\s+Node ID\s+Address\s+Sessions\s+Labels$/m)
    assert.match(nodes.stdout, new RegExp(`^${NODE}\\s+\\S+\\s+127\\.0\\.0\\.1:\\d+\\s+1\\b`, 'm'))
    assert.doesNotMatch(tsh(['ls']).stdout, /Sessions/, 'tsh ls without -v is as it was')
    term.write('exit\r')
    assert.equal(await term.exit, 0, term.output())
    await eventually(() => sessions().length === 0, 'the ended shell off the list')
  })

  test('a node killed with kill -9 takes its running session off the list within a minute', async (t) => {
    const term = shell()
    term.write('echo ready-$((6*7))\r')
    await term.waitFor(/ready-42/)
    await eventually(() => sessions().length === 1, 'the shell in tsh sessions ls')
    const killedAt = Date.now()
    node.child.kill('SIGKILL')
    await term.exit
    const gone = await poll(() => sessions().length === 0, {timeoutMs: 90_000, intervalMs: 1000})
    const elapsed = Date.now() - killedAt
    t.diagnostic(`off the list ${Math.round(elapsed / 1000)} s after the kill`)
    assert.equal(gone, true, 'still listed 90 s after the kill')
    assert.ok(elapsed < 60_000, `off the list ${Math.round(elapsed / 1000)} s after the kill`)
  })
})
