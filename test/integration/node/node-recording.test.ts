import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, rmSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import ssh2 from 'ssh2'
import type {ClientChannel} from 'ssh2'
import type {AuthApi} from '../../../src/api/auth-api.js'
import type {SessionRecordingMode} from '../../../src/api/auth-api.js'
import {dataDirPaths} from '../../../src/config/data-dir.js'
import {startNodeService, type RunningNodeService} from '../../../src/daemon/node/node-service.js'
import {EventCode, EventName, type AuditEvent} from '../../../src/events/index.js'
import {RecordingReader, type RecordedEvent} from '../../../src/events/recording/index.js'
import {NotFoundError} from '../../../src/lib/errors.js'
import {certAuthOptions, hostCertVerifier} from '../../../src/ssh/index.js'
import {startTestAuth} from '../../helpers/auth.js'
import {CLUSTER, TIMEOUT_MS, eventually, knownHostsFile, memoryLogger, nodeIdentity, run, sidIn, sshOptions, startCluster, tempDir, userCert, watch, type TestCluster, type UserKey} from './helpers.js'

// Sessions recorded by a real node service, driven by real SSH clients (OpenSSH, and ssh2 where a
// window-change must be sent), read back from the auth server they were uploaded to: in `node`
// mode (the default), with a full disk, in `node-sync` (live, and refused without auth) and `off`.

interface RecordingNode {
  cluster: TestCluster
  node: RunningNodeService
  nodeApi: AuthApi
  alice: UserKey
  knownHosts: string
  nodeData: string
  log: ReturnType<typeof memoryLogger>
  close(): Promise<void>
}

async function startRecordingNode(mode: SessionRecordingMode, options: {beforeStart?: (nodeData: string) => void} = {}): Promise<RecordingNode> {
  const cluster = await startCluster({sessionRecording: mode})
  const dir = tempDir('rec')
  await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'ops'}, spec: {allow: {logins: ['root'], node_labels: {'*': '*'}}}}, {create: true})
  await cluster.admin.createUser({name: 'alice', roles: ['ops'], traits: {}})
  const alice = await userCert(cluster, dir, 'alice')
  const handed = await nodeIdentity(cluster, '5e55102e-0000-4000-8000-00000000000' + '1', 'rec-node')
  const nodeData = tempDir('recdata')
  options.beforeStart?.(nodeData)
  const log = memoryLogger()
  const node = await startNodeService({dataDir: nodeData, nodeName: 'rec-node', listen: {host: '127.0.0.1', port: 0}, log, cluster: handed})
  return {
    cluster, node, nodeApi: handed.authApi, alice, knownHosts: knownHostsFile(dir, cluster.hostCA), nodeData, log,
    async close() {
      await node.close()
      await handed.authApi.close()
      await cluster.close().catch(() => {})
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

async function connect(rec: RecordingNode): Promise<ssh2.Client> {
  const client = new ssh2.Client()
  const verifier = hostCertVerifier({trustedHostCAs: [rec.cluster.hostCA], hostname: '127.0.0.1'})
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve())
    client.once('error', reject)
    client.connect({host: '127.0.0.1', port: rec.node.address.port, readyTimeout: TIMEOUT_MS, ...verifier.connectOptions(), ...certAuthOptions({username: 'root', privateKey: rec.alice.privateKey, certificate: rec.alice.certificate})})
  })
  return client
}


async function uploadedRecording(rec: RecordingNode, sid: string): Promise<RecordedEvent[]> {
  await eventually(async () => (await rec.cluster.service.auth.recordings.stat(sid).catch(() => undefined))?.complete, `the recording of ${sid} to reach auth`)
  const reader = await RecordingReader.fromStream(await rec.cluster.admin.openRecording(sid), sid)
  const events: RecordedEvent[] = []
  for await (const recorded of reader.events()) events.push(recorded)
  return events
}

const output = (events: RecordedEvent[]) => Buffer.concat(events.flatMap((e) => (e.data ? [e.data] : []))).toString()
const auditOf = async (rec: RecordingNode, sid: string): Promise<AuditEvent[]> => {
  await rec.node.flushAudit()
  return (await rec.cluster.admin.searchEvents({from: new Date(Date.now() - 600_000), to: new Date(Date.now() + 60_000), sid})).events
}

describe('session recording on the node', {timeout: 10 * TIMEOUT_MS}, () => {
  describe('mode node (the default)', () => {
    let rec: RecordingNode
    before(async () => (rec = await startRecordingNode('node')))
    after(() => rec?.close())

    test('an interactive session: what was typed and printed, the resize, and the end, uploaded when it ends', async () => {
      const client = await connect(rec)
      try {
        const channel = await new Promise<ClientChannel>((resolve, reject) => client.shell({rows: 24, cols: 80, term: 'xterm'}, (err, c) => (err ? reject(err) : resolve(c))))
        const session = watch(channel)
        channel.write('echo SID=$SSH_SESSION_ID; echo typed-$((6*7))\n')
        await session.waitFor(/typed-42/)
        channel.setWindow(30, 100, 0, 0)
        channel.write('stty size\n')
        await session.waitFor(/30 100/)
        channel.write('exit\n')
        const {code} = await session.closed
        assert.equal(code, 0)
        const sid = sidIn(session.stdout)
        const events = await uploadedRecording(rec, sid)
        const names = events.map((e) => e.event.event)
        assert.equal(names[0], 'session.start')
        assert.equal(names.at(-1), 'session.end')
        assert.deepEqual(events.map((e) => e.event.ei), events.map((_, i) => i))
        const start = events[0]!.event as AuditEvent
        assert.equal(start.size, '80:24')
        assert.equal(start.user, 'alice')
        assert.equal(start.login, 'root')
        assert.equal(start.sid, sid)
        assert.equal(start.code, EventCode.SessionStart)
        const resize = events.find((e) => e.event.event === 'resize')!.event as AuditEvent
        assert.equal(resize.size, '100:30')
        const text = output(events)
        assert.match(text, /echo SID=\$SSH_SESSION_ID; echo typed-\$\(\(6\*7\)\)/) // the echo of what was typed
        assert.match(text, /typed-42/)
        assert.match(text, /30 100/)
        const prints = events.filter((e) => e.event.event === 'print').map((e) => e.event as unknown as {ms: number; ci: number; offset: number; bytes: number})
        assert.equal(prints[0]!.ms, 0)
        assert.deepEqual(prints.map((p) => p.ci), prints.map((_, i) => i))
        for (let i = 1; i < prints.length; i++) assert.equal(prints[i]!.offset, prints[i - 1]!.offset + prints[i - 1]!.bytes)
        const end = events.at(-1)!.event as AuditEvent
        assert.equal(end.interactive, true)
        assert.deepEqual(end.participants, ['alice'])
        const audit = await auditOf(rec, sid)
        assert.equal(audit.filter((e) => e.code === EventCode.SessionUpload).length, 1)
        assert.equal(audit.find((e) => e.code === EventCode.SessionStart)?.size, '80:24')
        assert.deepEqual(readdirSync(dataDirPaths(rec.nodeData).recordingsToUpload), [])
      } finally {
        client.end()
      }
    })

    test('an exec session (OpenSSH, no pty) is recorded too, marked non-interactive', async () => {
      const r = await run('ssh', [...sshOptions(rec.alice, rec.knownHosts, rec.node.address.port), 'root@127.0.0.1', 'echo SID=$SSH_SESSION_ID; echo exec-out'])
      assert.equal(r.code, 0, r.stderr)
      const events = await uploadedRecording(rec, sidIn(r.stdout))
      assert.equal((events[0]!.event as AuditEvent).size, '80:25')
      assert.match(output(events), /exec-out/)
      const end = events.at(-1)!.event as AuditEvent
      assert.equal(end.event, EventName.SessionEnd)
      assert.equal(end.interactive, false)
    })
  })

  describe('auth stopped during a session', () => {
    let rec: RecordingNode
    let restarted: Awaited<ReturnType<typeof startTestAuth>> | undefined
    before(async () => (rec = await startRecordingNode('node')))
    after(async () => {
      await rec?.close()
      await restarted?.admin.close()
      await restarted?.auth.close()
    })

    test('the session goes on; its recording arrives once auth is back', async () => {
      const client = await connect(rec)
      try {
        const channel = await new Promise<ClientChannel>((resolve, reject) => client.exec('echo SID=$SSH_SESSION_ID; echo before-the-outage; read line; echo after-$line', (err, c) => (err ? reject(err) : resolve(c))))
        const session = watch(channel)
        await session.waitFor(/before-the-outage/)
        const sid = sidIn(session.stdout)
        const port = rec.cluster.port
        await rec.cluster.service.close()
        channel.end('the-outage\n')
        assert.equal((await session.closed).code, 0)
        assert.match(session.stdout, /after-the-outage/)
        await eventually(() => rec.log.lines.some((l) => l.includes(`cannot upload session ${sid}`) || l.includes('cannot reach the auth server')), 'the node to find auth away')
        restarted = await startTestAuth(rec.cluster.dataDir, {clusterName: CLUSTER, listen: {host: '127.0.0.1', port}, sessionRecording: 'node'})
        const back = {...rec, cluster: {...rec.cluster, service: restarted.auth, admin: restarted.admin}}
        assert.match(output(await uploadedRecording(back, sid)), /before-the-outage[\s\S]*after-the-outage/)
      } finally {
        client.end()
      }
    })
  })

  describe('mode off', () => {
    let rec: RecordingNode
    before(async () => (rec = await startRecordingNode('off')))
    after(() => rec?.close())

    test('nothing is recorded; session.start and session.end are still audited', async () => {
      const r = await run('ssh', [...sshOptions(rec.alice, rec.knownHosts, rec.node.address.port), 'root@127.0.0.1', 'echo SID=$SSH_SESSION_ID'])
      assert.equal(r.code, 0, r.stderr)
      const sid = sidIn(r.stdout)
      const codes = (await auditOf(rec, sid)).map((e) => e.code)
      assert.ok(codes.includes(EventCode.SessionStart) && codes.includes(EventCode.SessionEnd), codes.join())
      assert.ok(!codes.includes(EventCode.SessionUpload))
      await assert.rejects(rec.cluster.service.auth.recordings.stat(sid), NotFoundError)
      const local = dataDirPaths(rec.nodeData).recordingsToUpload
      assert.deepEqual(existsSync(local) ? readdirSync(local) : [], [])
    })
  })

  describe('mode node-sync', () => {
    let rec: RecordingNode
    before(async () => (rec = await startRecordingNode('node-sync')))
    after(() => rec?.close())

    test('the recording reaches auth while the session runs, and whole when it ends', async () => {
      const client = await connect(rec)
      try {
        const channel = await new Promise<ClientChannel>((resolve, reject) => client.exec('echo SID=$SSH_SESSION_ID; echo live-bytes; read line; echo after-$line', (err, c) => (err ? reject(err) : resolve(c))))
        const session = watch(channel)
        await session.waitFor(/live-bytes/)
        const sid = sidIn(session.stdout)
        await eventually(async () => (await rec.cluster.service.auth.recordings.uploadedBytes(sid)) > 0, 'the live recording to reach auth')
        assert.equal((await rec.cluster.service.auth.recordings.stat(sid)).complete, false, 'still running')
        channel.end('done\n')
        assert.equal((await session.closed).code, 0)
        assert.match(output(await uploadedRecording(rec, sid)), /live-bytes[\s\S]*after-done/)
      } finally {
        client.end()
      }
    })

    test('auth lost during a session ends it with a message; a new session is refused while auth is away', async () => {
      const client = await connect(rec)
      try {
        const channel = await new Promise<ClientChannel>((resolve, reject) => client.exec('echo SID=$SSH_SESSION_ID; echo started; sleep 60', (err, c) => (err ? reject(err) : resolve(c))))
        const session = watch(channel)
        await session.waitFor(/started/)
        const sid = sidIn(session.stdout)
        await eventually(async () => (await rec.cluster.service.auth.recordings.uploadedBytes(sid)) > 0, 'the live recording to reach auth')
        await rec.cluster.service.close()
        const ended = await session.closed
        assert.match(ended.stderr, /records every session as it runs \(node-sync\): the session ends/)
      } finally {
        client.end()
      }
      const refused = await run('ssh', [...sshOptions(rec.alice, rec.knownHosts, rec.node.address.port), 'root@127.0.0.1', 'echo should-not-run'])
      assert.equal(refused.code, 255)
      assert.doesNotMatch(refused.stdout, /should-not-run/)
      assert.match(refused.stderr, /the auth server cannot be reached .*node-sync/)
      assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr)
    })
  })

  describe('a full disk', () => {
    let rec: RecordingNode | undefined
    let mount: string | undefined
    before(async () => {
      rec = await startRecordingNode('node', {
        beforeStart: (nodeData) => {
          const dir = dataDirPaths(nodeData).recordingsToUpload
          mkdirSync(dir, {recursive: true, mode: 0o700})
          // Room for a chunk or two of the writer (256 KiB of records each), far from the output's 2 MB.
          try {
            execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k,mode=0700', 'tmpfs', dir], {stdio: 'ignore'})
            mount = dir
          } catch {
            // not root, or no mount here: the test below is skipped
          }
        },
      })
    })
    after(async () => {
      await rec?.close()
      if (mount) execFileSync('umount', [mount])
    })

    test('the session goes on, the node says once that recording stopped, and what was written is uploaded', async (t) => {
      if (!mount) return t.skip('needs root to mount a small tmpfs')
      const r = await run('ssh', [...sshOptions(rec!.alice, rec!.knownHosts, rec!.node.address.port), 'root@127.0.0.1', 'echo SID=$SSH_SESSION_ID; head -c 1500000 /dev/urandom | base64 -w 0; echo; echo the-end'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /the-end/)
      assert.equal(r.stdout.split('\n')[1]!.length, 2_000_000)
      const sid = sidIn(r.stdout)
      const events = await uploadedRecording(rec!, sid)
      assert.equal(events[0]!.event.event, 'session.start')
      assert.ok(events.some((e) => e.event.event === 'print'))
      assert.equal(rec!.log.lines.filter((l) => l.includes(`session ${sid} is no longer recorded`)).length, 1, rec!.log.lines.join('\n'))
      assert.match(rec!.log.lines.join('\n'), /ENOSPC|no space/i)
      assert.ok(path.isAbsolute(mount))
    })
  })
})
