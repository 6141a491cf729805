import assert from 'node:assert/strict'
import {existsSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {adminApi} from '../../helpers/auth.js'
import {freePort, startTeleport, writeAuthConfig, type TeleportDaemon} from '../../helpers/daemon.js'
import type {AuthApi} from '../../../src/api/auth-api.js'
import {FileKeyStore} from '../../../src/client/key-store.js'
import {saveLogin} from '../../../src/client/profile.js'
import {startProxyService, type RunningProxyService} from '../../../src/daemon/proxy/proxy-service.js'
import {EventCode} from '../../../src/events/index.js'
import {RecordingReader} from '../../../src/events/recording/index.js'
import {FakeClock} from '../../../src/lib/clock.js'
import {generateKeyPair} from '../../../src/sshca/index.js'
import {memoryLogger} from '../../helpers/memory-logger.js'
import {eventually, LOGIN, run, spawnTsh, tempDir, tsh, TSH} from '../tsh/helpers.js'

// An auth outage as users meet it. Auth and the node are real `teleport start` processes; the
// proxy runs in this process (it joined with a token, as a separate proxy does) so that its clock
// can be moved. With the auth process stopped: `tsh ssh` through the proxy still reaches the node
// it knew (so does OpenSSH with `tsh proxy ssh` as ProxyCommand), `tsh ls` says auth cannot be
// reached. The node is then killed (-9) in the middle of a session and restarted, auth comes
// back: the session gets its session.end, and the events the node and the proxy recorded during
// the outage arrive, once each; so do the recordings, the killed session's recovered.

const CLUSTER = 'test.example.com'

/** The output a recording holds, read up to its end or its damage (a file still being written). */
async function recordedOutput(reader: RecordingReader): Promise<string> {
  let text = ''
  try {
    for await (const {data} of reader.events()) if (data) text += data.toString()
  } catch {
    // cut short: what came before is what counts
  } finally {
    await reader.close()
  }
  return text
}
const NODE = 'outage-node'

describe('serving through an auth outage', {timeout: 5 * 60_000}, () => {
  const dir = tempDir('outage')
  const clock = new FakeClock(Date.now())
  const proxyLogs: string[] = []
  let authConfig: string
  let auth: TeleportDaemon
  let admin: AuthApi
  let node: TeleportDaemon
  let nodeArgs: string[]
  let proxy: RunningProxyService
  let home: string
  const nodeData = path.join(dir, 'node-data')

  before(async () => {
    const authPort = await freePort()
    authConfig = writeAuthConfig(path.join(dir), authPort)
    auth = startTeleport(['-c', authConfig])
    await auth.waitForLog(/Auth service is starting/)
    admin = adminApi(path.join(dir, 'data'), authPort)
    const caPin = (await admin.ping()).caPins[0]!
    await admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'outage'}, spec: {allow: {logins: [LOGIN], node_labels: {'*': '*'}}}}, {create: true})
    await admin.createUser({name: 'alice', roles: ['outage'], traits: {}})

    const nodeConfig = path.join(dir, 'node.yaml')
    writeFileSync(nodeConfig, ['ssh_service:', '  enabled: true', `  listen_addr: 127.0.0.1:${await freePort()}`, ''].join('\n'))
    nodeArgs = ['--config', nodeConfig, '--roles=node', '--data-dir', nodeData, '--nodename', NODE, '--auth-server', `127.0.0.1:${authPort}`]
    const nodeToken = (await admin.addToken({roles: ['node'], ttlMs: 600_000})).token
    node = startTeleport([...nodeArgs, '--token', nodeToken, '--ca-pin', caPin])
    await node.waitForLog(/Node service is starting/)

    const log = memoryLogger({component: 'PROXY'})
    const keep = (severity: string, write: (m: string) => void) => (m: string) => {
      proxyLogs.push(`${severity} ${m}`)
      write(m)
    }
    const proxyToken = (await admin.addToken({roles: ['proxy'], ttlMs: 600_000})).token
    proxy = await startProxyService({
      dataDir: path.join(dir, 'proxy-data'),
      nodeName: 'proxy-1',
      webListen: {host: '127.0.0.1', port: 0},
      sshListen: {host: '127.0.0.1', port: 0},
      cluster: {join: {authServers: [{host: '127.0.0.1', port: authPort}], token: proxyToken, caPins: [caPin]}},
      log: {...log, debug: keep('DEBUG', log.debug), warn: keep('WARN', log.warn)},
      clock,
    })

    await eventually(async () => (await admin.listNodes()).some((n) => n.hostname === NODE), 'the node to register')
    home = path.join(dir, 'home')
    const key = generateKeyPair()
    const signed = await admin.signUserCert({username: 'alice', publicKey: key.publicKey, ttlMs: 3600_000})
    saveLogin(new FileKeyStore(home), {
      profile: {webProxyAddr: `127.0.0.1:${proxy.webAddress.port}`, sshProxyAddr: `127.0.0.1:${proxy.sshAddress.port}`, user: 'alice', cluster: CLUSTER, authType: 'local', forwardPorts: [], dynamicForwardPorts: []},
      privateKey: key.privateKey,
      publicKey: key.publicKey,
      certificate: signed.certificate,
      hostCAs: signed.hostCAs,
    })
  })

  after(async () => {
    await proxy?.close().catch(() => {})
    await node?.stop()
    await auth?.stop()
    await admin?.close().catch(() => {})
    rmSync(dir, {recursive: true, force: true})
  })

  test('with auth up, tsh ssh reaches the node through the proxy', async () => {
    const r = await tsh(home, ['ssh', `${LOGIN}@${NODE}`, 'echo up'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), 'up')
  })

  test('auth stopped: tsh ssh still works from the proxy\'s last node list and CA keys; tsh ls says auth is unreachable', async () => {
    assert.equal(await auth.stop(), 0, auth.logs())
    clock.advance(42_000) // past the freshness of the node list (3 s) and of the CA keys (30 s)
    const r = await tsh(home, ['ssh', `${LOGIN}@${NODE}`, 'echo during-outage'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), 'during-outage')
    assert.ok(proxyLogs.some((l) => /^DEBUG auth unreachable \(.*\); serving node list from 42s ago$/.test(l)), proxyLogs.join('\n'))
    assert.ok(proxyLogs.some((l) => /^DEBUG auth unreachable.*; serving CA keys from 42s ago$/.test(l)), proxyLogs.join('\n'))

    // Stock OpenSSH through `tsh proxy ssh` too.
    const keys = path.join(home, 'keys', '127.0.0.1')
    const openssh = await run('ssh', [
      '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', 'IdentityAgent=none',
      '-o', `UserKnownHostsFile=${path.join(home, 'known_hosts')}`, '-i', path.join(keys, 'alice'),
      '-o', `CertificateFile=${path.join(keys, 'alice-ssh', `${CLUSTER}-cert.pub`)}`,
      '-o', `ProxyCommand=${TSH} proxy ssh %r@%h:%p`, `${LOGIN}@${NODE}.${CLUSTER}`, 'echo via-openssh',
    ], {env: {TELEPORT_HOME: home}})
    assert.equal(openssh.code, 0, openssh.stderr)
    assert.equal(openssh.stdout.trim(), 'via-openssh')

    const ls = await tsh(home, ['ls'])
    assert.notEqual(ls.code, 0)
    assert.match(ls.stderr, /failed to connect to the auth server: connection refused/)
    assert.equal(ls.stderr.trim().split('\n').length, 1, ls.stderr)
  })

  test('node killed mid-session and restarted, then auth back: the session gets session.end, and outage events arrive once', async () => {
    const sessions = path.join(nodeData, 'log', 'upload', 'sessions')
    const recordings = path.join(nodeData, 'log', 'upload', 'recordings')
    const running = spawnTsh(home, ['ssh', `${LOGIN}@${NODE}`, 'echo before-the-kill; sleep 300'])
    await eventually(async () => existsSync(sessions) && readdirSync(sessions).some((f) => f.endsWith('.json')), 'the session to start')
    const sid = readdirSync(sessions).find((f) => f.endsWith('.json'))!.replace(/\.json$/, '')
    // The recorder writes within a second: the output is on disk before the kill.
    await eventually(async () => (await recordedOutput(await RecordingReader.open(path.join(recordings, `${sid}.tsrec`)))).includes('before-the-kill'), 'the output to be on disk')
    node.child.kill('SIGKILL')
    await new Promise((resolve) => running.once('exit', resolve))

    node = startTeleport(nodeArgs)
    await node.waitForLog(/Node service is starting/)
    auth = startTeleport(['-c', authConfig])
    await auth.waitForLog(/Auth service is starting/)

    const search = () => admin.searchEvents({from: new Date(Date.now() - 3600_000), to: new Date(Date.now() + 60_000)}).then((page) => page.events)
    await eventually(async () => (await search()).some((e) => e.sid === sid && e.code === EventCode.SessionEnd), 'the recovered session.end')
    const events = await search()
    const end = events.find((e) => e.sid === sid && e.code === EventCode.SessionEnd)!
    assert.equal(end.reason, 'node restarted')
    assert.equal(end.user, 'alice')
    assert.equal(end.login, LOGIN)
    assert.ok(Date.parse(String(end.session_stop)) >= Date.parse(String(end.session_start)))
    assert.ok(events.some((e) => e.sid === sid && e.code === EventCode.SessionStart), 'the session.start sent during the outage arrived')
    const outageExec = events.filter((e) => e.code === EventCode.Exec && e.command === 'echo during-outage')
    assert.equal(outageExec.length, 1, JSON.stringify(outageExec))
    assert.equal(readdirSync(sessions).length, 0)
    // Both recordings reach auth: the killed session's, recovered at the restart, and the one made
    // while auth was away.
    const outageSid = String(outageExec[0]!.sid)
    for (const [recorded, printed] of [[sid, 'before-the-kill'], [outageSid, 'during-outage']] as const) {
      await eventually(async () => (await admin.openRecording(recorded).then(() => true, () => false)), `the recording of ${printed} to reach auth`)
      const text = await recordedOutput(await RecordingReader.fromStream(await admin.openRecording(recorded), recorded))
      assert.match(text, new RegExp(printed))
    }
    await eventually(async () => readdirSync(recordings).length === 0, 'the node to drop its uploaded copies')
    // The proxy's records of the connections it routed while auth was away arrive too, at its
    // next retry: its timers run on its clock, moved past the retry back-off (at most 30 s).
    await clock.advanceAsync(30_000)
    await proxy.flushAudit()
    const routed = (await search()).filter((e) => e.code === EventCode.Subsystem && e.user === 'alice' && e.server_hostname === NODE)
    assert.equal(routed.length, 4, JSON.stringify(routed)) // tsh ssh: up, during the outage, killed; ssh via tsh proxy ssh
  })
  test('staleness is bounded: past 10 minutes without auth the proxy refuses to guess', async () => {
    // Last, because it moves the proxy's clock 10 minutes on: the proxy forgets what it knew of
    // alice, as it would after a real outage that long.
    assert.equal(await auth.stop(), 0, auth.logs())
    clock.advance(10 * 60_000)
    const r = await tsh(home, ['ssh', `${LOGIN}@${NODE}`, 'true'])
    assert.notEqual(r.code, 0)
    assert.ok(proxyLogs.some((l) => /^WARN cannot check the certificate of SSH client .*: cannot reach the auth server/.test(l)), proxyLogs.join('\n'))
  })
})
