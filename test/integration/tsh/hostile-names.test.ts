import assert from 'node:assert/strict'
import {randomUUID} from 'node:crypto'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {openBackend} from '../../../src/backend/index.js'
import {startNodeService} from '../../../src/daemon/node/node-service.js'
import {dataDirPaths} from '../../../src/config/data-dir.js'
import {createLogger} from '../../../src/lib/log.js'
import {generateKeyPair} from '../../../src/sshca/index.js'
import {ApiClient} from '../../../src/api/client.js'
import {AuthApiClient} from '../../../src/api/auth-api-client.js'
import {repoRoot} from '../../helpers/cli.js'
import {eventually, LOGIN, run, startTshCluster, tempDir, TIMEOUT_MS, tsh, type TshCluster} from './helpers.js'

// Names a node chooses (its hostname, its labels) reach users' terminals and the daemon log.
// A hostile node is refused when it registers; a record that got in before that rule is shown
// escaped by tsh and tctl. And tsh speaks about the proxy it was asked for, not another one.

const ESC = '\x1b'
const HOSTILE_HOST = `evil${ESC}[2J${ESC}[H`
const HOSTILE_LABEL = `prod${ESC}]0;pwned\x07`

describe('hostile node names', {timeout: 6 * TIMEOUT_MS}, () => {
  let cluster: TshCluster
  let home: string
  const hostileId = randomUUID()

  before(async () => {
    cluster = await startTshCluster([{name: 'node-1', labels: {env: 'test'}}])
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'ops'}, spec: {allow: {logins: [LOGIN], node_labels: {'*': '*'}}}}, {create: true})
    await cluster.admin.createUser({name: 'alice', roles: ['ops'], traits: {}})
    home = await cluster.login('alice')
    // A record written before registration checked names: straight into the backend.
    const backend = await openBackend({type: 'sqlite', path: dataDirPaths(cluster.dataDir).backend})
    const record = {name: hostileId, hostname: HOSTILE_HOST, addr: '127.0.0.1:2', labels: {env: HOSTILE_LABEL}, cmdLabels: {}, version: '0.1.0'}
    await backend.put({key: `/nodes/${hostileId}`, value: JSON.stringify(record), expires: new Date(Date.now() + 10 * 60_000)})
    await backend.close()
  })
  after(async () => {
    await cluster?.close()
  })

  test('tsh ls and tsh ls -f names show the hostile record escaped', async () => {
    const r = await tsh(home, ['ls'])
    assert.equal(r.code, 0, r.stderr)
    assert.ok(!r.stdout.includes(ESC), JSON.stringify(r.stdout))
    assert.match(r.stdout, /^evil\\x1b\[2J\\x1b\[H +127\.0\.0\.1:2 +env=prod\\x1b\]0;pwned\\x07$/m)
    const names = await tsh(home, ['ls', '-f', 'names'])
    assert.ok(names.stdout.split('\n').includes('evil\\x1b[2J\\x1b[H'), names.stdout)
    // JSON keeps the exact value, escaped by JSON itself.
    const json = JSON.parse((await tsh(home, ['ls', '-f', 'json'])).stdout) as Array<{hostname: string; all_labels: Record<string, string>}>
    assert.ok(json.some((n) => n.hostname === HOSTILE_HOST && n.all_labels.env === HOSTILE_LABEL))
  })

  test('tctl nodes ls shows it escaped too', async () => {
    const identity = dataDirPaths(cluster.dataDir).adminIdentity
    const r = await run(path.join(repoRoot, 'bin', 'tctl'), ['nodes', 'ls', `--identity=${identity}`, `--auth-server=127.0.0.1:${cluster.auth.address.port}`])
    assert.equal(r.code, 0, r.stderr)
    assert.ok(!r.stdout.includes(ESC), JSON.stringify(r.stdout))
    assert.match(r.stdout, new RegExp(`^evil\\\\x1b\\[2J\\\\x1b\\[H +${hostileId} +127\\.0\\.0\\.1:2 +env=prod\\\\x1b\\]0;pwned\\\\x07 +0\\.1\\.0$`, 'm'))
  })

  test('a node announcing a hostile hostname is refused (400), and says so on one log line', async () => {
    const hostId = randomUUID()
    const key = generateKeyPair()
    const certificate = await cluster.auth.auth.issueHostCert({hostId, nodeName: 'hostile', role: 'Node', publicKey: key.publicKey})
    const hostCAs = await cluster.auth.auth.caKeys('host')
    const identity = {privateKey: key.privateKey, certificate, hostCAs}
    const api = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: cluster.auth.address.port, credentials: identity, trust: {hostCAs}}))
    const logFile = path.join(tempDir('hostile-log'), 'node.log')
    cluster.homes.push(path.dirname(logFile))
    const node = await startNodeService({
      dataDir: tempDir('hostile-node'),
      nodeName: `${HOSTILE_HOST}\n2026-12-02T00:00:00.000Z INFO  [AUTH] forged`,
      listen: {host: '127.0.0.1', port: 0},
      log: createLogger({output: logFile, severity: 'INFO'}, 'NODE'),
      cluster: {identity, authApi: api},
    })
    try {
      await eventually(async () => readFileSync(logFile, 'utf8').includes('Heartbeat to the auth server failed'), 'the refused heartbeat to be logged')
      const refusal = readFileSync(logFile, 'utf8').split('\n').find((l) => l.includes('Heartbeat to the auth server failed'))!
      assert.match(refusal, /invalid hostname "evil\\u001b\[2J\\u001b\[H\\n2026-12-02T00:00:00\.000Z INFO  \[AUTH\] forged": use at most 253 letters, digits and - \. _/)
      const log = readFileSync(logFile, 'utf8')
      assert.ok(!log.includes(ESC))
      assert.ok(!/^\S+ INFO  \[AUTH\]/m.test(log), log)
      assert.ok(!(await cluster.admin.listNodes()).some((n) => n.name === hostId))
    } finally {
      await node.close()
      await api.close().catch(() => {})
    }
  })

  test('tsh ls --proxy with another port than the login\'s is refused, not sent to the profile\'s port', async () => {
    const r = await tsh(home, ['ls', '--proxy=127.0.0.1:1'])
    assert.equal(r.code, 1)
    assert.equal(r.stdout, '')
    assert.equal(r.stderr, 'ERROR: Not logged in to 127.0.0.1:1. (log in first: tsh login --proxy=127.0.0.1:1)\n')
    const ssh = await tsh(home, ['ssh', '--proxy=127.0.0.1:1', `${LOGIN}@node-1`, 'true'])
    assert.equal(ssh.code, 1)
    assert.match(ssh.stderr, /^ERROR: Not logged in to 127\.0\.0\.1:1\./)
  })

  test('a node the proxy cannot reach is an ERROR: line like every other error', async () => {
    const r = await tsh(home, ['ssh', '-p', '1', `${LOGIN}@127.0.0.1`, 'true'])
    assert.equal(r.code, 1)
    assert.equal(r.stderr, 'ERROR: failed to connect to 127.0.0.1:1: connection refused\n')
  })
})
