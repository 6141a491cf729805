import assert from 'node:assert/strict'
import {rmSync} from 'node:fs'
import {after, before, describe, test} from 'node:test'
import ssh2 from 'ssh2'
import type {ClientChannel} from 'ssh2'
import {ApiClient} from '../../../src/api/client.js'
import type {NodeAuthApi, SessionTracker, UserAuthApi} from '../../../src/api/auth-api.js'
import {AuthApiClient} from '../../../src/api/auth-api-client.js'
import {startNodeService, type RunningNodeService} from '../../../src/daemon/node/node-service.js'
import {FakeClock} from '../../../src/lib/clock.js'
import {UserError} from '../../../src/lib/errors.js'
import {certAuthOptions, hostCertVerifier} from '../../../src/ssh/index.js'
import {TIMEOUT_MS, eventually, memoryLogger, nodeIdentity, startCluster, tempDir, userCert, type TestCluster, type UserKey} from './helpers.js'

// Live sessions as users see them: a real node service (one clock shared with auth, moved by the
// test) keeps the tracker of each SSH session on a real auth service; alice lists them through the
// auth API with her own certificate, as tsh does. A session is listed with its participant while it
// runs and not after; a node that stops renewing (its link to auth cut, as a crash looks to auth)
// loses its sessions from the list once their expiry passes.

const HOST_ID = '7aac0000-0000-4000-8000-000000000001'

describe('session trackers from a real node', {timeout: 6 * TIMEOUT_MS}, () => {
  const clock = new FakeClock(Date.now())
  const dir = tempDir('trackers')
  let cluster: TestCluster
  let node: RunningNodeService
  let nodeApi: NodeAuthApi
  let alice: UserKey
  let aliceApi: UserAuthApi
  let carolApi: UserAuthApi
  /** While true the node's every call to auth fails, as if the node were gone. */
  let cut = false

  const userApi = (key: UserKey) => new AuthApiClient(new ApiClient({host: '127.0.0.1', port: cluster.port, credentials: {privateKey: key.privateKey, certificate: key.certificate}, trust: {hostCAs: [cluster.hostCA]}}))

  before(async () => {
    cluster = await startCluster({clock})
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'ops'}, spec: {allow: {logins: ['root'], node_labels: {'*': '*'}}}}, {create: true})
    await cluster.admin.createUser({name: 'alice', roles: ['ops', 'access'], traits: {}})
    await cluster.admin.createUser({name: 'carol', roles: ['access'], traits: {logins: ['carol']}})
    alice = await userCert(cluster, dir, 'alice')
    aliceApi = userApi(alice)
    carolApi = userApi(await userCert(cluster, dir, 'carol'))
    const handed = await nodeIdentity(cluster, HOST_ID, 'trk-node')
    nodeApi = handed.authApi
    const severable = new Proxy(handed.authApi, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown
        if (typeof value !== 'function' || name === 'close') return value
        return (...args: unknown[]) => (cut ? Promise.reject(new UserError('cannot reach the auth server: connection refused')) : (value as (...a: unknown[]) => unknown).apply(target, args))
      },
    })
    node = await startNodeService({dataDir: tempDir('trkdata'), nodeName: 'trk-node', listen: {host: '127.0.0.1', port: 0}, log: memoryLogger(), cluster: {identity: handed.identity, authApi: severable}, clock})
  })

  after(async () => {
    await node?.close()
    await nodeApi?.close()
    await aliceApi?.close()
    await carolApi?.close()
    await cluster?.close()
    rmSync(dir, {recursive: true, force: true})
  })

  async function shell(): Promise<{client: ssh2.Client; channel: ClientChannel; waitFor(re: RegExp): Promise<void>; closed: Promise<void>}> {
    const client = new ssh2.Client()
    const verifier = hostCertVerifier({trustedHostCAs: [cluster.hostCA], hostname: '127.0.0.1'})
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve())
      client.once('error', reject)
      client.connect({host: '127.0.0.1', port: node.address.port, readyTimeout: TIMEOUT_MS, ...verifier.connectOptions(), ...certAuthOptions({username: 'root', privateKey: alice.privateKey, certificate: alice.certificate})})
    })
    const channel = await new Promise<ClientChannel>((resolve, reject) => client.shell({rows: 24, cols: 80, term: 'xterm'}, (err, c) => (err ? reject(err) : resolve(c))))
    let stdout = ''
    const waiters: {re: RegExp; resolve: () => void}[] = []
    channel.on('data', (d: Buffer) => {
      stdout += d.toString()
      for (const w of [...waiters]) if (w.re.test(stdout)) w.resolve()
    })
    const closed = new Promise<void>((resolve) => channel.on('close', () => resolve()))
    return {client, channel, closed, waitFor: (re) => (re.test(stdout) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({re, resolve})))}
  }

  const sidIn = async (session: Awaited<ReturnType<typeof shell>>): Promise<string> => {
    let sid = ''
    session.channel.on('data', (d: Buffer) => (sid ||= /SID=([0-9a-f-]{36})/.exec(d.toString())?.[1] ?? ''))
    session.channel.write('echo SID=$SSH_SESSION_ID\n')
    await session.waitFor(/SID=[0-9a-f-]{36}/)
    return sid
  }
  const listed = async (api: UserAuthApi, sid: string): Promise<SessionTracker | undefined> => (await api.listSessionTrackers()).find((t) => t.sessionId === sid)

  test('a running session is listed with its participant, renewed past its expiry, and gone once it ends', async () => {
    const session = await shell()
    try {
      const sid = await sidIn(session)
      const tracker = await eventually(() => listed(aliceApi, sid), 'alice\'s session in her list')
      assert.equal(tracker.state, 'RUNNING')
      assert.deepEqual([tracker.user, tracker.login, tracker.hostname, tracker.hostId, tracker.address], ['alice', 'root', 'trk-node', HOST_ID, `127.0.0.1:${node.address.port}`])
      assert.deepEqual(tracker.participants.map((p) => [p.user, p.mode]), [['alice', 'peer']])
      assert.equal(await listed(carolApi, sid), undefined, 'carol takes no part in it')
      await assert.rejects(carolApi.getSessionTracker(sid), {name: 'NotFoundError'})
      // A minute on both clocks: the node's renewals (every 10 s) keep it past the 30 s expiry.
      const before = Date.parse(tracker.expires)
      await clock.advanceAsync(60_000)
      await eventually(async () => {
        const renewed = await listed(aliceApi, sid)
        return renewed && Date.parse(renewed.expires) > before + 30_000
      }, 'the tracker renewed')
      session.channel.write('exit\n')
      await session.closed
      await eventually(async () => (await listed(aliceApi, sid)) === undefined, 'the ended session off the list')
    } finally {
      session.client.end()
    }
  })

  test('a node that stops renewing (cut off from auth) loses its running session from the list once its expiry passes', async () => {
    const session = await shell()
    try {
      const sid = await sidIn(session)
      await eventually(() => listed(aliceApi, sid), 'the session listed')
      cut = true
      await clock.advanceAsync(30_000)
      assert.equal(await listed(aliceApi, sid), undefined, 'gone from the list')
      session.channel.write('echo still-$((6*7))\n')
      await session.waitFor(/still-42/) // the session itself still runs on the node
      cut = false
      await clock.advanceAsync(10_000)
      await eventually(() => listed(aliceApi, sid), 'back on the list once the node reaches auth again')
      session.channel.write('exit\n')
      await session.closed
      await eventually(async () => (await listed(aliceApi, sid)) === undefined, 'the ended session off the list')
    } finally {
      cut = false
      session.client.end()
    }
  })
})
