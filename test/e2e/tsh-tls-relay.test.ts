import assert from 'node:assert/strict'
import {X509Certificate} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir, userInfo} from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import {after, before, describe, test} from 'node:test'
import {ApiClient} from '../../src/api/client.js'
import type {AuthApi} from '../../src/api/auth-api.js'
import {AuthApiClient} from '../../src/api/auth-api-client.js'
import {readIdentityFile} from '../../src/api/identity-file.js'
import {encodeRelayLine, readRelayLine, SSH_RELAY_ALPN} from '../../src/api/ssh-relay.js'
import {dataDirPaths} from '../../src/config/data-dir.js'
import {generateKeyPair, loadPrivateKey} from '../../src/sshca/index.js'
import {generateTlsCA, signX509UserCert} from '../../src/sshca/x509.js'
import {repoRoot, run as runProgram, type RunResult} from '../helpers/cli.js'
import {inviteAndLogIn} from '../helpers/tsh-pty-login.js'
import {caKeyPair} from '../helpers/cluster-backend.js'
import {freePort, startTeleport, type TeleportDaemon} from '../helpers/daemon.js'
import {eventually} from '../helpers/eventually.js'

// The proxy's TLS relay to nodes, end to end: one `teleport start` (auth, proxy, node), a user
// logged in with the real bin/tsh in a pty (which now also stores an X.509 client certificate),
// `tsh ssh` and stock OpenSSH through `tsh proxy ssh` going through the relay (the proxy's audit
// event names the path), and the certificates the relay refuses at its handshake, audited.

const TIMEOUT_MS = 60_000
const LOGIN = userInfo().username
const PASSWORD = 'correct horse battery'
const CLUSTER = 'relay.example.com'
const NODE = 'relaynode'
const TSH = path.join(repoRoot, 'bin', 'tsh')

/** A program to completion, without blocking the event loop. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<RunResult> {
  return runProgram(cmd, args, {env, input, timeoutMs: TIMEOUT_MS})
}

describe('the TLS relay: tsh login gets an X.509 certificate; tsh ssh and tsh proxy ssh use it', {timeout: 10 * TIMEOUT_MS}, () => {
  const root = mkdtempSync(path.join(tmpdir(), 'tsh-relay-'))
  const home = path.join(root, 'home')
  const tshHome = path.join(home, '.tsh')
  const dataDir = path.join(root, 'data')
  let teleport: TeleportDaemon
  let admin: AuthApi
  let webPort = 0
  let nodePort = 0
  let env: NodeJS.ProcessEnv
  const started = new Date()

  before(async () => {
    mkdirSync(home, {recursive: true})
    const [authPort, proxySshPort] = await Promise.all([freePort(), freePort()])
    nodePort = await freePort()
    webPort = await freePort()
    const config = path.join(root, 'teleport.yaml')
    writeFileSync(config, [
      'teleport:', `  nodename: ${NODE}`, `  data_dir: ${dataDir}`,
      'auth_service:', `  listen_addr: 127.0.0.1:${authPort}`, `  cluster_name: ${CLUSTER}`,
      'proxy_service:', `  listen_addr: 127.0.0.1:${proxySshPort}`, `  web_listen_addr: 127.0.0.1:${webPort}`,
      'ssh_service:', `  listen_addr: 127.0.0.1:${nodePort}`, '',
    ].join('\n'))
    teleport = startTeleport(['-c', config])
    await teleport.waitForLog(/Node service is starting/)
    const identity = readIdentityFile(dataDirPaths(dataDir).adminIdentity)
    admin = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: authPort, credentials: identity, trust: {hostCAs: identity.hostCAs}}))
    env = await inviteAndLogIn(admin, {user: 'alice', login: LOGIN, password: PASSWORD, webPort, home})
  })

  after(async () => {
    await admin?.close()
    await teleport?.stop()
    rmSync(root, {recursive: true, force: true})
  })

  /** The proxy's subsystem events (routing audit) for alice since the start. */
  async function routedNames(): Promise<string[]> {
    const page = await admin.searchEvents({from: started, to: new Date(Date.now() + 60_000), types: ['subsystem'], user: 'alice', limit: 1000})
    return page.events.map((e) => String(e.name))
  }

  async function refusals(): Promise<Array<Record<string, unknown>>> {
    const page = await admin.searchEvents({from: started, to: new Date(Date.now() + 60_000), types: ['auth'], limit: 1000})
    return page.events.filter((e) => e.transport === 'tls-relay') as Array<Record<string, unknown>>
  }

  test('login stores the X.509 certificate and the TLS user CA as Teleport lays them out, 0600', () => {
    const dir = path.join(tshHome, 'keys', '127.0.0.1')
    const certFile = path.join(dir, 'alice-x509.pem')
    const caFile = path.join(dir, 'cas', `${CLUSTER}.pem`)
    for (const file of [certFile, caFile]) assert.equal(statSync(file).mode & 0o777, 0o600, file)
    const cert = new X509Certificate(readFileSync(certFile))
    const ca = new X509Certificate(readFileSync(caFile))
    assert.match(cert.subject, /^CN=alice$/m)
    assert.match(cert.subject, new RegExp(`^L=${LOGIN}$`, 'm'))
    assert.ok(cert.verify(ca.publicKey), 'signed by the stored CA')
    // The private key is the one tsh made for the SSH certificate.
    const key = loadPrivateKey(readFileSync(path.join(dir, 'alice'), 'utf8'))
    assert.ok(cert.checkPrivateKey(key))
    assert.match(readFileSync(path.join(tshHome, '127.0.0.1.yaml'), 'utf8'), /ssh_relay_alpn: teleport-ssh-relay/)
  })

  test('tsh ssh goes through the TLS relay (the proxy audits tls-relay:<node>)', async () => {
    const r = await run(TSH, ['ssh', '-d', `${LOGIN}@${NODE}`, 'echo', 'over-the-relay'], env)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'over-the-relay\n')
    assert.match(r.stderr, /through the TLS relay/)
    await eventually(async () => (await routedNames()).includes(`tls-relay:${NODE}:0@${CLUSTER}`), 'the relay audit event')
  })

  test('stock ssh with ProxyCommand "tsh proxy ssh" goes through the TLS relay', async () => {
    const before = (await routedNames()).filter((n) => n.startsWith('tls-relay:')).length
    const keyFile = path.join(tshHome, 'keys', '127.0.0.1', 'alice')
    const certFile = path.join(tshHome, 'keys', '127.0.0.1', 'alice-ssh', `${CLUSTER}-cert.pub`)
    const r = await run('ssh', [
      '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${path.join(tshHome, 'known_hosts')}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=yes',
      // tsh's known_hosts trusts the host CA for *.<cluster> (at port 22 unless aliased).
      '-o', `HostKeyAlias=${NODE}.${CLUSTER}`,
      '-o', `IdentityFile=${keyFile}`, '-o', `CertificateFile=${certFile}`, '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none',
      '-o', `ProxyCommand=${TSH} proxy ssh --proxy=127.0.0.1:${webPort} %r@%h:%p`, '-p', String(nodePort), `${LOGIN}@${NODE}`, 'cat | wc -c',
    ], env, 'x'.repeat(100_000))
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), '100000')
    await eventually(async () => (await routedNames()).filter((n) => n.startsWith('tls-relay:')).length > before, 'a second relay audit event')
  })

  test('an unknown node is answered with the proxy\'s one line through the relay', async () => {
    const r = await run(TSH, ['ssh', `${LOGIN}@no-such-node`, 'true'], env)
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /^ERROR: .*no-such-node/m)
  })

  /** A raw relay connection with `cert` (or none): the answer line, or how it ended. */
  async function relayAnswer(cert?: {key: string; cert: string}): Promise<string> {
    const socket = tls.connect({host: '127.0.0.1', port: webPort, ALPNProtocols: [SSH_RELAY_ALPN], rejectUnauthorized: false, ...(cert ?? {})})
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve)
      socket.once('error', reject)
    })
    assert.equal(socket.alpnProtocol, SSH_RELAY_ALPN)
    socket.write(encodeRelayLine({host: NODE, cluster: CLUSTER}))
    const line = await readRelayLine(socket)
    socket.destroy()
    return line ?? '(closed)'
  }

  function keyAndCert(pem: string, privateKey: string) {
    return {key: loadPrivateKey(privateKey).export({format: 'pem', type: 'pkcs8'}).toString(), cert: pem}
  }

  test('refused before any request: no certificate, another cluster\'s, an expired one; each audited T3007W', async () => {
    const none = await relayAnswer()
    assert.match(none, /no client certificate/)

    const keys = generateKeyPair()
    const identity = {username: 'alice', roles: ['access'], logins: [LOGIN], cluster: CLUSTER}
    const otherCA = await generateTlsCA('other.example.com', new Date())
    const foreign = await signX509UserCert({ca: otherCA, publicKey: keys.publicKey, identity, ttlMs: 3600_000, now: new Date()})
    assert.match(await relayAnswer(keyAndCert(foreign, keys.privateKey)), /not signed by this cluster's TLS user CA/)

    const ours = await caKeyPair(dataDir, CLUSTER, 'tls')
    const expired = await signX509UserCert({ca: {certificate: ours.publicKey, privateKey: ours.privateKey}, publicKey: keys.publicKey, identity, ttlMs: 3600_000, now: new Date(Date.now() - 2 * 3600_000)})
    assert.match(await relayAnswer(keyAndCert(expired, keys.privateKey)), /expired/)

    const audited = await eventually(async () => {
      const events = await refusals()
      return events.length >= 3 ? events : undefined
    }, 'three audited refusals')
    for (const event of audited) {
      assert.equal(event.code, 'T3007W')
      assert.equal(event.success, false)
    }
    assert.deepEqual(audited.map((e) => String(e.error).split(' ').slice(0, 4).join(' ')).sort(), [
      'no client certificate was',
      'the client certificate expired',
      'the client certificate is',
    ])
  })
})
