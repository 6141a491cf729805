import assert from 'node:assert/strict'
import {rmSync} from 'node:fs'
import {PassThrough} from 'node:stream'
import {after, before, describe, test} from 'node:test'
import ssh2 from 'ssh2'
import type {ClientChannel} from 'ssh2'
import type {AuthApi, SessionTracker} from '../../../src/api/auth-api.js'
import {joinSession} from '../../../src/client/join/join.js'
import {startNodeService, type RunningNodeService} from '../../../src/daemon/node/node-service.js'
import {EventCode, type AuditEvent} from '../../../src/events/index.js'
import {RecordingReader, type RecordedEvent} from '../../../src/events/recording/index.js'
import {certAuthOptions, hostCertVerifier} from '../../../src/ssh/index.js'
import {TIMEOUT_MS, eventually, memoryLogger, nodeIdentity, sidIn, startCluster, tempDir, userCert, watch, type TestCluster, type UserKey} from './helpers.js'

// Joining sessions on a real node service with ssh2 clients, as `tsh join` does (a shell request
// carrying TELEPORT_SESSION and TELEPORT_PARTICIPANT_MODE): the joiner gets the screen as it is,
// then live output; observers do not type; peers do; everyone sees joins and leaves; a user
// without join_sessions is refused (audited); a moderated session waits for its moderator.

const HOST_ID = '5e55102e-0000-4000-8000-0000000000a1'

const role = (name: string, allow: Record<string, unknown>) => ({kind: 'role', version: 'v5', metadata: {name}, spec: {allow}})
const ANY_NODE = {logins: ['root'], node_labels: {'*': '*'}}

const count = (text: string, needle: string) => text.split(needle).length - 1

describe('joining sessions on the node', {timeout: 10 * TIMEOUT_MS}, () => {
  let cluster: TestCluster
  let node: RunningNodeService
  let nodeApi: AuthApi
  let dir: string
  let nodeData: string
  const keys: Record<string, UserKey> = {}
  const clients: ssh2.Client[] = []

  before(async () => {
    cluster = await startCluster()
    dir = tempDir('join')
    const {admin} = cluster
    await admin.upsertRole(role('ops', ANY_NODE), {create: true})
    await admin.upsertRole(role('watcher', {...ANY_NODE, join_sessions: [{name: 'ops sessions', roles: ['ops'], kinds: ['ssh'], modes: ['observer', 'peer']}]}), {create: true})
    await admin.upsertRole(
      role('prod', {...ANY_NODE, require_session_join: [{name: 'an auditor', filter: 'contains(user.spec.roles, "auditor")', kinds: ['ssh'], modes: ['moderator'], count: 1, on_leave: 'terminate'}]}),
      {create: true},
    )
    await admin.upsertRole(role('moderator', {...ANY_NODE, join_sessions: [{name: 'moderate prod', roles: ['prod'], kinds: ['ssh'], modes: ['moderator', 'observer']}]}), {create: true})
    const users: Record<string, string[]> = {alice: ['ops'], bob: ['ops', 'watcher'], carol: ['ops'], dave: ['prod'], audrey: ['moderator', 'auditor'], mallory: ['moderator']}
    for (const [name, roles] of Object.entries(users)) {
      await admin.createUser({name, roles, traits: {}})
      keys[name] = await userCert(cluster, dir, name)
    }
    const handed = await nodeIdentity(cluster, HOST_ID, 'join-node')
    nodeApi = handed.authApi
    node = await startNodeService({dataDir: (nodeData = tempDir('joindata')), nodeName: 'join-node', listen: {host: '127.0.0.1', port: 0}, log: memoryLogger(), cluster: handed})
  })

  after(async () => {
    for (const client of clients) client.end()
    await node?.close()
    await nodeApi?.close()
    await cluster?.close()
    if (dir) rmSync(dir, {recursive: true, force: true})
    if (nodeData) rmSync(nodeData, {recursive: true, force: true})
  })

  async function connect(user: string): Promise<ssh2.Client> {
    const client = new ssh2.Client()
    clients.push(client)
    const verifier = hostCertVerifier({trustedHostCAs: [cluster.hostCA], hostname: '127.0.0.1'})
    const key = keys[user]!
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve())
      client.once('error', reject)
      client.connect({host: '127.0.0.1', port: node.address.port, readyTimeout: TIMEOUT_MS, ...verifier.connectOptions(), ...certAuthOptions({username: 'root', privateKey: key.privateKey, certificate: key.certificate})})
    })
    return client
  }

  /** A shell on a pty; with `join`, the shell request joins that session instead. */
  async function shell(user: string, join?: {sid: string; mode: string}) {
    const client = await connect(user)
    const env = join ? {TELEPORT_SESSION: join.sid, TELEPORT_PARTICIPANT_MODE: join.mode} : {}
    // Watched from the callback on: an exit status in the same packet as the reply would be missed later.
    return new Promise<ReturnType<typeof watch> & {channel: ClientChannel}>((resolve, reject) =>
      client.shell({rows: 24, cols: 80, term: 'xterm'}, {env}, (err, channel) => (err ? reject(err) : resolve(Object.assign(watch(channel), {channel})))),
    )
  }

  /** Alice's shell, with its session id known and a line of earlier output on screen. */
  async function ownerShell(user = 'alice') {
    const owner = await shell(user)
    owner.channel.write('echo SID=$SSH_SESSION_ID; echo EARLIER-$((40+2))\n')
    await owner.waitFor(/EARLIER-42/)
    return Object.assign(owner, {sid: sidIn(owner.stdout)})
  }

  const pendingSids = new Set<string>()
  /** A session waiting for moderators runs no program to print its id: its session.start has it. */
  async function newSessionOf(user: string): Promise<string> {
    await node.flushAudit()
    const starts = (await cluster.admin.searchEvents({from: new Date(Date.now() - 600_000), to: new Date(Date.now() + 60_000), types: ['session.start']})).events
    const sid = starts.filter((e) => e.user === user && !pendingSids.has(String(e.sid))).map((e) => String(e.sid))
    assert.equal(sid.length, 1, JSON.stringify(starts))
    pendingSids.add(sid[0]!)
    return sid[0]!
  }

  const audit = async (sid: string): Promise<AuditEvent[]> => {
    await node.flushAudit()
    return (await cluster.admin.searchEvents({from: new Date(Date.now() - 600_000), to: new Date(Date.now() + 60_000), sid})).events
  }

  async function recording(sid: string): Promise<RecordedEvent[]> {
    await eventually(async () => (await cluster.service.auth.recordings.stat(sid).catch(() => undefined))?.complete, `the recording of ${sid} to reach auth`)
    const reader = await RecordingReader.fromStream(await cluster.admin.openRecording(sid), sid)
    const events: RecordedEvent[] = []
    for await (const recorded of reader.events()) events.push(recorded)
    return events
  }

  test('an observer gets the screen as it is, then live output; its keystrokes go nowhere (told once); Ctrl-C leaves', async () => {
    const alice = await ownerShell()
    const bob = await shell('bob', {sid: alice.sid, mode: 'observer'})
    await bob.waitFor(/EARLIER-42/) // the screen as it was, before anything new
    const joinLine = 'Teleport > User bob joined the session with participant mode: observer.'
    await bob.waitFor(new RegExp(joinLine.replace(/[.>]/g, '\\$&')))
    await alice.waitFor(new RegExp(joinLine.replace(/[.>]/g, '\\$&')))
    assert.ok(bob.stdout.indexOf('EARLIER-42') < bob.stdout.indexOf(joinLine), 'the screen comes first')

    alice.channel.write('echo NEXT-$((1+1))\n')
    await bob.waitFor(/NEXT-2/)

    bob.channel.write('echo FROM-BOB-$((5*5))\r')
    await bob.waitFor(/You are an observer/)
    bob.channel.write('echo AGAIN\r')
    alice.channel.write('echo MARK-$((7*6))\n')
    await bob.waitFor(/MARK-42/)
    assert.doesNotMatch(alice.stdout, /FROM-BOB|AGAIN/)
    assert.equal(count(bob.stdout, 'You are an observer'), 1, 'told once')
    assert.doesNotMatch(alice.stdout, /You are an observer/, 'only the observer is told')

    bob.channel.write('\x03')
    const left = await bob.closed
    assert.equal(left.code, 0)
    await alice.waitFor(/Teleport > User bob left the session\./)

    alice.channel.write('exit\n')
    assert.equal((await alice.closed).code, 0)
    const events = await audit(alice.sid)
    const joined = events.find((e) => e.code === EventCode.SessionJoin)
    assert.equal(joined?.user, 'bob')
    assert.equal(joined?.participant_mode, 'observer')
    assert.equal(joined?.server_id, HOST_ID)
    assert.equal(events.find((e) => e.code === EventCode.SessionLeave)?.user, 'bob')
    assert.deepEqual(events.find((e) => e.code === EventCode.SessionEnd)?.participants, ['alice', 'bob'])
    const recorded = (await recording(alice.sid)).map((e) => e.event as Record<string, unknown>)
    const join = recorded.find((e) => e.event === 'session.join')
    assert.equal(join?.user, 'bob')
    assert.equal(join?.participant_mode, 'observer')
    assert.ok(recorded.some((e) => e.event === 'session.leave' && e.user === 'bob'))
  })

  test('a full-screen program is redrawn for a joiner: the alternate screen and what is on it', async () => {
    const alice = await ownerShell()
    alice.channel.write("printf '\\033[?1049h\\033[H\\033[2J\\033[5;10HFULL-%s' SCREEN; read x\n")
    await alice.waitFor(/FULL-SCREEN/)
    const bob = await shell('bob', {sid: alice.sid, mode: 'observer'})
    await bob.waitFor(/FULL-SCREEN/)
    const screen = bob.stdout.slice(0, bob.stdout.indexOf('FULL-SCREEN'))
    assert.match(screen, /\x1b\[\?1049h/, 'switched to the alternate screen')
    assert.match(screen, /\x1b\[\?1049h\x1b\[H(\r\n){4}\x1b\[9C$/, 'the text where the program put it: row 5, column 10')
    alice.channel.write('\nexit\n')
    assert.equal((await bob.closed).code, 0, 'a joiner is told the end of the session')
    await alice.closed
  })

  test('a peer types into the owner\'s shell; a joiner\'s window size does not change the session', async () => {
    const alice = await ownerShell()
    const bob = await shell('bob', {sid: alice.sid, mode: 'peer'})
    await alice.waitFor(/User bob joined the session with participant mode: peer\./)
    bob.channel.setWindow(50, 132, 0, 0)
    bob.channel.write('echo PEER-$((2+3)); stty size\r')
    await alice.waitFor(/PEER-5/)
    await alice.waitFor(/24 80/)
    assert.doesNotMatch(bob.stdout, /You are/)
    alice.channel.setWindow(30, 100, 0, 0)
    alice.channel.write('stty size\n')
    await bob.waitFor(/30 100/)
    bob.channel.close()
    await alice.waitFor(/User bob left the session\./)
    alice.channel.write('exit\n')
    assert.equal((await alice.closed).code, 0)
  })

  // (A Ctrl-C that reaches the pty before the shell has read `exit` discards it: the tty flushes
  // its input on SIGINT, so the session rightly goes on, as it would in OpenSSH or tmux.)
  test('a peer pressing Ctrl-C as the owner\'s shell exits still sees the session end', async () => {
    for (let round = 0; round < 3; round++) {
      const alice = await ownerShell()
      const bob = await shell('bob', {sid: alice.sid, mode: 'peer'})
      await alice.waitFor(/User bob joined the session/)
      alice.channel.write('exit 0\n')
      await bob.waitFor(/logout/)
      bob.channel.write('\x03')
      assert.equal((await alice.closed).code, 0)
      assert.equal((await bob.closed).code, 0)
    }
  })

  test('without join_sessions rights: refused with one line, exit status 255, audited', async () => {
    const alice = await ownerShell()
    const carol = await shell('carol', {sid: alice.sid, mode: 'observer'})
    const refused = await carol.closed
    assert.equal(refused.code, 255)
    assert.equal(refused.stderr, 'access denied: your roles do not allow joining sessions of "alice" as observer\r\n')
    assert.doesNotMatch(refused.stdout, /EARLIER/)
    // bob may observe and peer, not moderate; an unknown session is not found
    const asModerator = await (await shell('bob', {sid: alice.sid, mode: 'moderator'})).closed
    assert.match(asModerator.stderr, /as moderator/)
    const unknown = await (await shell('bob', {sid: '00000000-0000-4000-8000-000000000000', mode: 'observer'})).closed
    assert.equal(unknown.stderr, 'session 00000000-0000-4000-8000-000000000000 is not found on this node\r\n')
    alice.channel.write('exit\n')
    await alice.closed
    const rejected = (await audit(alice.sid)).filter((e) => e.code === EventCode.SessionRejected)
    assert.deepEqual(rejected.map((e) => [e.user, e.participant_mode]), [['carol', 'observer'], ['bob', 'moderator']])
    assert.match(String(rejected[0]!.reason), /do not allow joining/)
    assert.doesNotMatch(alice.stdout, /carol/, 'a refused joiner is never announced')
  })

  test('moderated: the session waits for a moderator matching the filter, starts when one joins, ends when they leave (on_leave terminate)', async () => {
    const dave = await shell('dave')
    await dave.waitFor(/Teleport > Waiting for required participants\.\.\./)
    dave.channel.write('echo EARLY-$((1+1))\n') // no program yet: dropped
    const sid = await newSessionOf('dave')
    // mallory may moderate prod sessions but is no auditor: the session still waits
    const mallory = await shell('mallory', {sid, mode: 'moderator'})
    await dave.waitFor(/User mallory joined the session with participant mode: moderator\./)
    mallory.channel.write('\x03')
    await mallory.closed
    const audrey = await shell('audrey', {sid, mode: 'moderator'})
    await dave.waitFor(/User audrey joined the session with participant mode: moderator\./)
    dave.channel.write('echo STARTED-$((3*3))\n')
    await dave.waitFor(/STARTED-9/)
    await audrey.waitFor(/STARTED-9/)
    assert.doesNotMatch(dave.stdout, /EARLY-2/)
    audrey.channel.write('\x03')
    await audrey.closed
    const ended = await dave.closed
    assert.match(ended.stdout, /Teleport > Session terminated: the required participants left\./)

  })

  test('moderated: a session without a terminal cannot be moderated, so it is refused', async () => {
    const client = await connect('dave')
    const exec = await new Promise<ReturnType<typeof watch>>((resolve, reject) => client.exec('echo never', (err, c) => (err ? reject(err) : resolve(watch(c)))))
    const result = await exec.closed
    assert.equal(result.code, 255)
    assert.equal(result.stdout, '')
    assert.match(result.stderr, /^your roles require moderators to join your sessions \(require_session_join\): only interactive sessions \(with a terminal\) can be moderated\r\n$/)
    await node.flushAudit()
    const rejected = (await cluster.admin.searchEvents({from: new Date(Date.now() - 600_000), to: new Date(Date.now() + 60_000), types: ['session.rejected']})).events
    assert.ok(rejected.some((e) => e.user === 'dave' && /only interactive sessions/.test(String(e.reason))), JSON.stringify(rejected))
  })

  test('moderated: a moderator pressing t terminates the session, and everyone is told', async () => {
    const dave = await shell('dave')
    await dave.waitFor(/Waiting for required participants/)
    const sid = await newSessionOf('dave')
    const audrey = await shell('audrey', {sid, mode: 'moderator'})
    dave.channel.write('echo RUNNING-$((2*4))\n')
    await audrey.waitFor(/RUNNING-8/)
    audrey.channel.write('t')
    const [daveEnd, audreyEnd] = await Promise.all([dave.closed, audrey.closed])
    for (const end of [daveEnd, audreyEnd]) assert.match(end.stdout, /Teleport > Session terminated by a moderator\./)
  })

  test('tsh join\'s library against the node: the screen, live output, a refusal, and Ctrl-C leaves with status 0', async () => {
    const alice = await ownerShell()
    const tracker = {sessionId: alice.sid, state: 'RUNNING', hostId: HOST_ID, hostname: 'join-node', login: 'root'} as SessionTracker
    const logins: string[] = []
    const route = (user: string) => ({
      lookup: async () => tracker,
      connect: async (_t: SessionTracker, login: string) => {
        logins.push(login)
        const client = await connect(user)
        return {client, close: () => client.end()}
      },
    })
    const io = () => {
      const streams = {stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough(), out: '', err: ''}
      streams.stdout.on('data', (d: Buffer) => (streams.out += d.toString()))
      streams.stderr.on('data', (d: Buffer) => (streams.err += d.toString()))
      return streams
    }
    const bob = io()
    const joined = joinSession({sid: alice.sid, mode: 'observer'}, bob, route('bob'))
    await eventually(() => /EARLIER-42[\s\S]*joined the session with participant mode: observer/.test(bob.out), 'the screen, then the join line')
    alice.channel.write('echo LIVE-$((9+9))\n')
    await eventually(() => /LIVE-18/.test(bob.out), 'live output')
    bob.stdin.write('\x03')
    assert.equal(await joined, 0)
    await alice.waitFor(/User bob left the session\./)

    const carol = io()
    assert.equal(await joinSession({sid: alice.sid, mode: 'peer'}, carol, route('carol')), 255)
    assert.equal(carol.err, 'access denied: your roles do not allow joining sessions of "alice" as peer\r\n')
    assert.deepEqual(logins, ['root', 'root'], 'connected as the session\'s login')
    alice.channel.write('exit\n')
    await alice.closed
  })
})
