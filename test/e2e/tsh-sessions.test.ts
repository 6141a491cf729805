import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {repoRoot, runBin, tctlOk} from '../helpers/cli.js'
import {eventually, poll} from '../helpers/eventually.js'
import {freePort, startTeleport, type TeleportDaemon} from '../helpers/daemon.js'
import {inPty} from '../helpers/pty.js'
import {tctlInviteAndLogIn} from '../helpers/tsh-pty-login.js'
import {LOGIN, tempDir} from '../interop/helpers.js'
import {FileKeyStore} from '../../src/client/key-store.js'
import {saveLogin} from '../../src/client/profile.js'

// Live sessions as a user sees them with the real programs: auth and proxy in one `teleport
// start` process, the node in another (joined with a token); alice logged in with `tsh login` in
// a pty, her shell opened with `tsh ssh` in a pty. `tsh sessions ls` lists the shell with alice in
// it while it runs and not after; `tsh ls -v` counts it on its node. Others join it with `tsh join`
// in ptys, as their roles' join_sessions allow: an observer sees the screen and cannot type, a peer
// types into it, a user without the right is refused; a moderated user's session waits for an
// auditor to join as moderator. Last, a node killed with kill -9 takes its session off the list
// within a minute (its tracker is no longer renewed).

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
  let proxySshPort: number
  const env = () => ({TELEPORT_HOME: path.join(dir.path, 'tsh'), SSH_AUTH_SOCK: '', HOME: dir.path})
  const tsh = (args: string[]) => runBin(TSH, args, {env: env()})
  const sessions = (): ListedSession[] => {
    const r = tsh(['sessions', 'ls', '-f', 'json'])
    assert.equal(r.code, 0, r.stderr)
    return JSON.parse(r.stdout) as ListedSession[]
  }
  const shell = () => inPty(TSH, ['ssh', `${LOGIN}@${NODE}`], {...process.env, ...env(), PS1: 'prompt$ '}, {timeoutMs: 4 * 60_000})

  before(async () => {
    const [auth, proxySsh, nodePort] = [await freePort(), await freePort(), await freePort()]
    proxySshPort = proxySsh
    web = await freePort()
    config = path.join(dir.path, 'teleport.yaml')
    writeFileSync(config, [
      'teleport:', '  nodename: trk-e2e-auth', `  data_dir: ${path.join(dir.path, 'data')}`,
      'auth_service:', `  listen_addr: 127.0.0.1:${auth}`, `  cluster_name: ${CLUSTER}`, `  tokens: ["node:${TOKEN}"]`, '  authentication: {second_factor: "off"}',
      'proxy_service:', `  listen_addr: 127.0.0.1:${proxySsh}`, `  web_listen_addr: 127.0.0.1:${web}`, '  tunnel_listen_addr: 127.0.0.1:0', `  public_addr: localhost:${web}`,
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
    await tctlInviteAndLogIn(config, {user: 'alice', login: LOGIN, password: PASSWORD, webPort: web, env: {...process.env, ...env()}})
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
    assert.match(nodes.stdout, /^Node Name\s+Node ID\s+Type\s+Address\s+Sessions\s+Labels$/m)
    assert.match(nodes.stdout, new RegExp(`^${NODE}\\s+\\S+\\s+Teleport\\s+127\\.0\\.0\\.1:\\d+\\s+1\\b`, 'm'))
    assert.doesNotMatch(tsh(['ls']).stdout, /Sessions/, 'tsh ls without -v is as it was')
    term.write('exit\r')
    assert.equal(await term.exit, 0, term.output())
    await eventually(() => sessions().length === 0, 'the ended shell off the list')
  })

  describe('joining', () => {
    const roleFile = (name: string, allow: string[]) => {
      const file = path.join(dir.path, `${name}.yaml`)
      writeFileSync(file, ['kind: role', 'version: v5', `metadata: {name: ${name}}`, 'spec:', '  allow:', `    logins: [${LOGIN}]`, "    node_labels: {'*': '*'}", ...allow.map((l) => `    ${l}`), ''].join('\n'))
      tctlOk(config, 'create', '-f', file)
    }
    /** A user with these roles and a tsh login of their own (a certificate from tctl auth sign). */
    const userEnv = (user: string, roles: string): NodeJS.ProcessEnv => {
      tctlOk(config, 'users', 'add', user, `--roles=${roles}`, `--logins=${LOGIN}`)
      const out = path.join(dir.path, `${user}-key`)
      tctlOk(config, 'auth', 'sign', `--user=${user}`, '--ttl=1h', `--out=${out}`)
      const home = path.join(dir.path, `${user}-tsh`)
      saveLogin(new FileKeyStore(home), {
        profile: {webProxyAddr: `localhost:${web}`, sshProxyAddr: `127.0.0.1:${proxySshPort}`, user, cluster: CLUSTER, authType: 'local', forwardPorts: [], dynamicForwardPorts: []},
        privateKey: readFileSync(out, 'utf8'),
        publicKey: readFileSync(`${out}.pub`, 'utf8'),
        certificate: readFileSync(`${out}-cert.pub`, 'utf8'),
        hostCAs: tctlOk(config, 'auth', 'export', '--type=host').trim().split('\n').map((l) => l.split(/\s+/).slice(2, 4).join(' ')),
      })
      return {...process.env, ...env(), TELEPORT_HOME: home, PS1: 'prompt$ '}
    }
    const join = (who: NodeJS.ProcessEnv, sid: string, mode: string) => inPty(TSH, ['join', '-m', mode, sid], who)
    /** The live sessions an auditor sees. */
    const allSessions = (): ListedSession[] => {
      const r = runBin(TSH, ['sessions', 'ls', '-f', 'json'], {env: ann})
      assert.equal(r.code, 0, r.stderr)
      return JSON.parse(r.stdout) as ListedSession[]
    }
    const sessionOf = async (user: string) => {
      const [found] = await eventually(() => {
        const mine = allSessions().filter((s) => s.user === user)
        return mine.length > 0 && mine
      }, `${user}'s session in tsh sessions ls`)
      return found!
    }
    let bob: NodeJS.ProcessEnv
    let carol: NodeJS.ProcessEnv
    let dan: NodeJS.ProcessEnv
    let mia: NodeJS.ProcessEnv
    let ann: NodeJS.ProcessEnv

    before(() => {
      roleFile('watch-access', ['join_sessions: [{name: watch, roles: [access], kinds: [ssh], modes: [observer]}]'])
      roleFile('pair-access', ['join_sessions: [{name: pair, roles: [access], kinds: [ssh], modes: [peer]}]'])
      roleFile('moderated', ['require_session_join: [{name: one-auditor, filter: \'contains(user.spec.roles, "auditor")\', kinds: [ssh], modes: [moderator], count: 1, on_leave: terminate}]'])
      roleFile('moderate', ['join_sessions: [{name: moderate, roles: [moderated], kinds: [ssh], modes: [moderator]}]'])
      bob = userEnv('bob', 'watch-access')
      carol = userEnv('carol', 'pair-access')
      dan = userEnv('dan', 'access')
      mia = userEnv('mia', 'moderated')
      ann = userEnv('ann', 'auditor,moderate')
    })

    test('an observer sees the screen as it is, then live output; cannot type; Ctrl-C leaves; the recording has the join', async () => {
      const alice = shell()
      alice.write('echo before-join-$((6*7))\r')
      await alice.waitFor(/before-join-42/)
      const sid = (await sessionOf('alice')).session_id
      const watcher = join(bob, sid, 'observer')
      await watcher.waitFor(/before-join-42/) // the screen as it was
      await watcher.waitFor(/Teleport > User bob joined the session with participant mode: observer\./)
      await alice.waitFor(/Teleport > User bob joined the session with participant mode: observer\./)
      alice.write('echo after-join-$((7*6))\r')
      await watcher.waitFor(/after-join-42/)
      watcher.write('echo typed-by-bob\r')
      await watcher.waitFor(/Teleport > You are an observer: your keystrokes do not reach the session\. Press Ctrl-C to leave\./)
      watcher.write('again\r')
      const listed = sessions().find((s) => s.session_id === sid)!
      assert.deepEqual(listed.participants.map((p) => [p.user, p.mode]).sort(), [['alice', 'peer'], ['bob', 'observer']])
      watcher.write('\x03')
      assert.equal(await watcher.exit, 0, watcher.output())
      await alice.waitFor(/Teleport > User bob left the session\./)
      alice.write('echo still-mine\r')
      await alice.waitFor(/[\r\n]still-mine\r?\n/)
      assert.doesNotMatch(alice.output(), /typed-by-bob|again/, 'the observer\'s keys never reached the shell')
      assert.equal(watcher.output().split('You are an observer').length - 1, 1, 'told once')
      alice.write('exit\r')
      assert.equal(await alice.exit, 0, alice.output())
      const recorded = await eventually(() => {
        const r = tsh(['play', '-f', 'json', sid])
        return r.code === 0 && r.stdout
      }, 'the recording')
      const events = recorded.trim().split('\n').map((l) => JSON.parse(l) as {event: string; user?: string})
      assert.ok(events.some((e) => e.event === 'session.join' && e.user === 'bob'), recorded.slice(0, 2000))
      assert.ok(events.some((e) => e.event === 'session.leave' && e.user === 'bob'))
    })

    test('a peer types into the session; a user without join_sessions is refused in one line', async () => {
      const alice = shell()
      alice.write('echo peer-test\r')
      await alice.waitFor(/peer-test\r?\n/)
      const sid = (await sessionOf('alice')).session_id
      const refused = runBin(TSH, ['join', sid], {env: dan})
      assert.notEqual(refused.code, 0)
      assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr)
      assert.match(refused.stderr, new RegExp(`session ${sid} is not found`))
      const pair = join(carol, sid, 'peer')
      await pair.waitFor(/participant mode: peer/)
      pair.write('echo from-carol-$((2*21))\r')
      await alice.waitFor(/from-carol-42/)
      alice.write('exit 0\r')
      assert.equal(await alice.exit, 0, alice.output())
      // The session is over for its joiners too: tsh join ends.
      assert.equal(await pair.exit, 0, pair.output())
    })

    test('a moderated session waits for an auditor; it runs once one joins as moderator, and ends when the moderator presses t or leaves', async () => {
      const held = inPty(TSH, ['ssh', `${LOGIN}@${NODE}`], mia, {timeoutMs: 2 * 60_000})
      await held.waitFor(/Teleport > Waiting for required participants\.\.\./)
      const tracked = await sessionOf('mia')
      assert.equal(tracked.state, 'PENDING')
      held.write('echo typed-while-waiting\r')
      const moderator = join(ann, tracked.session_id, 'moderator')
      await moderator.waitFor(/participant mode: moderator/)
      await eventually(() => allSessions().find((s) => s.session_id === tracked.session_id)?.state === 'RUNNING', 'the session to run')
      held.write('echo now-running-$((6*7))\r')
      await held.waitFor(/now-running-42/)
      await moderator.waitFor(/now-running-42/)
      assert.doesNotMatch(held.output(), /typed-while-waiting\r?\n.*typed-while-waiting/, 'input while waiting was not run')
      moderator.write('t')
      await held.waitFor(/Teleport > Session terminated by a moderator\./)
      await held.exit
      await moderator.exit
      await eventually(() => !allSessions().some((s) => s.session_id === tracked.session_id), 'the session off the list')

      // on_leave: terminate: the moderator leaving (Ctrl-C) ends the session too.
      const again = inPty(TSH, ['ssh', `${LOGIN}@${NODE}`], mia, {timeoutMs: 2 * 60_000})
      await again.waitFor(/Waiting for required participants/)
      const second = await sessionOf('mia')
      const leaving = join(ann, second.session_id, 'moderator')
      await leaving.waitFor(/participant mode: moderator/)
      again.write('echo second-run\r')
      await again.waitFor(/[\r\n]second-run\r?\n/)
      leaving.write('\x03')
      await again.waitFor(/Teleport > User ann left the session\./)
      await again.exit
      await eventually(() => !allSessions().some((s) => s.session_id === second.session_id), 'the second session off the list')
    })
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
