import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {inPty, type Pty} from '../../helpers/pty.js'
import {keygen, startSshd, tempDir as interopTempDir, type Daemon} from '../../interop/helpers.js'
import {CLUSTER, eventually, LOGIN, startTshCluster, TIMEOUT_MS, TSH, tsh, type TshCluster} from './helpers.js'

// Live sessions in recording proxy mode (auth_service.session_recording: proxy), with real parts:
// alice's `tsh ssh -A` shell in a pty on a stock OpenSSH sshd and on our own node, both held by
// the proxy. `tsh sessions ls` lists each once, under the id the proxy records it by; bob joins
// with `tsh join` (without an agent: the proxy needs no SSH connection to the node for it), as
// observer (sees the screen and live output, cannot type, Ctrl-C leaves) and as peer (his command
// runs); carl, who may see it but not join, is refused by the proxy as a node refuses him; the
// joins are in the audit log and in the recording `tsh play` plays under that same id. A moderated
// session waits at the proxy until a moderator joins there.

interface Listed {
  session_id: string
  hostname: string
  user: string
  state: string
  participants: {user: string; mode: string}[]
}

describe('recording proxy mode: tsh join and tsh sessions ls', {timeout: 4 * TIMEOUT_MS}, () => {
  let cluster: TshCluster
  let alice: string
  let bob: string
  let carl: string
  let mona: string
  let ann: string
  let sshd: Daemon
  const dir = interopTempDir('tsh-recording-proxy-join')
  const env = (home: string) => ({...process.env, TELEPORT_HOME: home, NO_COLOR: '1'})
  const ptys: Pty[] = []
  const pty = (home: string, args: string[]) => {
    const term = inPty(TSH, args, env(home))
    ptys.push(term)
    return term
  }

  before(async () => {
    cluster = await startTshCluster([{name: 'node-1'}], {auth: {sessionRecording: 'proxy'}})
    const sessions = {resources: ['session'], verbs: ['list', 'read']}
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'ops'}, spec: {options: {forward_agent: true}, allow: {logins: [LOGIN], node_labels: {'*': '*'}, rules: [sessions]}}}, {create: true})
    // bob may join ops' sessions as observer or peer, with no agent of his own forwarded.
    const joinOps = {name: 'join ops', roles: ['ops'], kinds: ['ssh'], modes: ['observer', 'peer']}
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'pair'}, spec: {options: {forward_agent: false}, allow: {logins: [LOGIN], node_labels: {'*': '*'}, join_sessions: [joinOps]}}}, {create: true})
    await cluster.admin.createUser({name: 'alice', roles: ['ops'], traits: {}})
    await cluster.admin.createUser({name: 'bob', roles: ['pair'], traits: {}})
    // carl sees every session (a session rule) but may join none.
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'viewer'}, spec: {allow: {logins: [LOGIN], node_labels: {'*': '*'}, rules: [sessions]}}}, {create: true})
    await cluster.admin.createUser({name: 'carl', roles: ['viewer'], traits: {}})
    // mona's sessions need a moderator (the built-in auditor role); ann is one.
    const oneAuditor = {name: 'an auditor', filter: 'contains(user.spec.roles, "auditor")', kinds: ['ssh'], modes: ['moderator'], count: 1, on_leave: 'terminate'}
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'moderated'}, spec: {options: {forward_agent: true}, allow: {logins: [LOGIN], node_labels: {'*': '*'}, rules: [sessions], require_session_join: [oneAuditor]}}}, {create: true})
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'moderate'}, spec: {allow: {logins: [LOGIN], node_labels: {'*': '*'}, join_sessions: [{name: 'moderate', roles: ['moderated'], kinds: ['ssh'], modes: ['moderator']}]}}}, {create: true})
    await cluster.admin.createUser({name: 'mona', roles: ['moderated'], traits: {}})
    await cluster.admin.createUser({name: 'ann', roles: ['auditor', 'moderate'], traits: {}})
    alice = await cluster.login('alice')
    bob = await cluster.login('bob')
    carl = await cluster.login('carl')
    mona = await cluster.login('mona')
    ann = await cluster.login('ann')
    const cas = await cluster.admin.getCAKeys()
    const sshdDir = join(dir.path, 'sshd')
    mkdirSync(sshdDir)
    const hostKey = await keygen(join(sshdDir, 'host_key'))
    const hostCert = await cluster.admin.signHostCert({hostId: 'sshd-1', principals: ['sshd-1', `sshd-1.${CLUSTER}`], publicKey: hostKey.publicKey})
    writeFileSync(join(sshdDir, 'host_key-cert.pub'), hostCert.certificate.trim() + '\n')
    sshd = await startSshd({dir: sshdDir, trustedUserCAKeys: cas.user, hostKeyPath: hostKey.path, hostCertPath: join(sshdDir, 'host_key-cert.pub')})
    await cluster.admin.registerOpenSSHNode('sshd-1', {hostname: 'sshd-1', addr: `127.0.0.1:${sshd.port}`, labels: {env: 'lab'}}, {create: true})
  })

  after(async () => {
    for (const term of ptys) term.write('\x04')
    await sshd?.stop()
    await cluster?.close()
    dir.cleanup()
  })

  const listed = async (home: string): Promise<Listed[]> => {
    const ls = await tsh(home, ['sessions', 'ls', '-f', 'json'])
    assert.equal(ls.code, 0, ls.stderr)
    return JSON.parse(ls.stdout) as Listed[]
  }

  for (const host of ['sshd-1', 'node-1']) {
    test(`on ${host}: listed once under the recording's id; bob joins as observer, then as peer; the joins are audited and recorded`, async () => {
      const from = new Date(Date.now() - 1000)
      const owner = pty(alice, ['ssh', '-A', `${LOGIN}@${host}`])
      owner.write('echo before-join-$((6*7))\r')
      await owner.waitFor(/before-join-42/)

      // Exactly one tracker for the session (our node writes none of its own in this mode).
      const tracked = await eventually(async () => {
        const onHost = (await listed(bob)).filter((t) => t.hostname === host)
        return onHost.length > 0 && onHost
      }, `alice's session on ${host} in bob's tsh sessions ls`)
      assert.equal(tracked.length, 1, JSON.stringify(tracked))
      const sid = tracked[0]!.session_id

      const watcher = pty(bob, ['join', '-m', 'observer', sid])
      await watcher.waitFor(/before-join-42/) // the screen as it was
      await watcher.waitFor(/Teleport > User bob joined the session with participant mode: observer\./)
      await owner.waitFor(/Teleport > User bob joined the session with participant mode: observer\./)
      const during = (await listed(alice)).filter((t) => t.hostname === host)
      assert.deepEqual(during.map((t) => [t.session_id, t.participants.map((p) => `${p.user}:${p.mode}`).sort()]), [[sid, ['alice:peer', 'bob:observer']]])
      owner.write('echo after-join-$((7*6))\r')
      await watcher.waitFor(/after-join-42/)
      watcher.write('echo typed-by-observer\r')
      await watcher.waitFor(/You are an observer: your keystrokes do not reach the session/)
      watcher.write('\x03')
      assert.equal(await watcher.exit, 0, watcher.output())
      await owner.waitFor(/Teleport > User bob left the session\./)

      // The proxy decides as a node does: carl may see the session, not join it; one line, audited.
      const refused = await tsh(carl, ['join', sid])
      assert.notEqual(refused.code, 0)
      assert.equal(refused.stderr.trimEnd(), 'access denied: your roles do not allow joining sessions of "alice" as observer')

      const peer = pty(bob, ['join', '-m', 'peer', sid])
      await peer.waitFor(/participant mode: peer/)
      peer.write('echo from-bob-$((2*21))\r')
      await owner.waitFor(/from-bob-42/)
      owner.write('exit\r')
      assert.equal(await owner.exit, 0, owner.output())
      assert.equal(await peer.exit, 0, `the session is over for its joiner too: ${peer.output()}`)
      assert.doesNotMatch(owner.output(), /typed-by-observer\r?\n[^]*typed-by-observer/, 'the observer\'s keys never ran')
      await eventually(async () => !(await listed(alice)).some((t) => t.session_id === sid), 'the session off the list')

      await cluster.proxy.flushAudit()
      const audited = (await cluster.admin.searchEvents({from, to: new Date(Date.now() + 60_000), sid})).events
      const joins = audited.filter((e) => e.event === 'session.join').map((e) => [e.user, e.participant_mode, e.server_hostname])
      assert.deepEqual(joins, [['bob', 'observer', host], ['bob', 'peer', host]])
      assert.ok(audited.some((e) => e.event === 'session.start' && e.user === 'alice'), 'the session the list named is the one audited')
      assert.deepEqual(audited.filter((e) => e.event === 'session.rejected').map((e) => [e.user, e.participant_mode]), [['carl', 'observer']])
      await cluster.proxy.flushRecordings()
      const played = await tsh(alice, ['play', '-f', 'json', sid])
      assert.equal(played.code, 0, played.stderr)
      const recorded = played.stdout.trim().split('\n').map((l) => JSON.parse(l) as {event: string; user?: string; participant_mode?: string})
      assert.deepEqual(recorded.filter((e) => e.event === 'session.join').map((e) => [e.user, e.participant_mode]), [['bob', 'observer'], ['bob', 'peer']])
      const text = await tsh(alice, ['play', '-f', 'text', sid])
      assert.match(text.stdout, /from-bob-42/, 'the peer\'s command is in the recording')
    })

    test(`a moderated session on ${host} is held at the proxy until a moderator joins there; a moderator's t ends it`, async () => {
      const held = pty(mona, ['ssh', '-A', `${LOGIN}@${host}`])
      await held.waitFor(/Teleport > Waiting for required participants\.\.\./)
      const tracked = await eventually(async () => (await listed(ann)).find((t) => t.hostname === host && t.user === 'mona'), `mona's session on ${host} listed`)
      assert.equal(tracked.state, 'PENDING')
      held.write('echo typed-while-waiting\r')
      const moderator = pty(ann, ['join', '-m', 'moderator', tracked.session_id])
      await moderator.waitFor(/participant mode: moderator/)
      await eventually(async () => (await listed(ann)).find((t) => t.session_id === tracked.session_id)?.state === 'RUNNING', 'the session to run')
      held.write('echo now-running-$((6*7))\r')
      await held.waitFor(/now-running-42/)
      await moderator.waitFor(/now-running-42/)
      assert.doesNotMatch(held.output(), /typed-while-waiting\r?\n[^]*typed-while-waiting/, 'input while waiting did not run')
      moderator.write('t')
      await held.waitFor(/Teleport > Session terminated by a moderator\./)
      await held.exit
      await moderator.waitFor(/Session terminated by a moderator/)
      await moderator.exit
    })
  }
})
