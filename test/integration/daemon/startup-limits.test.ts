import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import type ssh2 from 'ssh2'
import {startTestAuth} from '../../helpers/auth.js'
import {openIdle, untilClosed} from '../../helpers/idle-connections.js'
import type {AuthApi} from '../../../src/api/auth-api.js'
import type {RunningAuthService} from '../../../src/daemon/auth/auth-service.js'
import {localAccess, type LocalAccess} from '../../../src/daemon/auth/local-access.js'
import {startNodeService, type RunningNodeService} from '../../../src/daemon/node/node-service.js'
import {startProxyService, type RunningProxyService} from '../../../src/daemon/proxy/proxy-service.js'
import {connectToProxy, memoryLogger} from '../proxy/helpers.js'

// Idle TCP connections against each SSH listener (auth API, proxy, node): past the per-source
// handshake cap they wait, past the waiting cap they are closed at once, the others are closed at
// the login deadline, and an authenticated connection is neither counted nor closed. A burst of
// real logins from one address, far past the handshake cap, all get in. The deadline is
// shortened for the idle test; nothing here measures time.

const LIMITS = {graceMs: 8_000, maxPerSource: 5, maxTotal: 100, maxWaitingPerSource: 2}
/** A second proxy for the burst: small handshake caps (the test stays cheap), room to wait. */
const BURST_LIMITS = {maxPerSource: 4, maxTotal: 8, maxWaitingPerSource: 200}
const BURST = 100

describe('unauthenticated connections on the SSH listeners', {timeout: 120_000, concurrency: true}, () => {
  let dataDir: string
  let auth: RunningAuthService
  let admin: AuthApi
  let proxyAccess: LocalAccess
  let proxy: RunningProxyService
  let node: RunningNodeService
  let burstProxy: RunningProxyService
  const proxyLines: string[] = []

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'startup-limits-'))
    ;({auth, admin} = await startTestAuth(dataDir, {startupLimits: LIMITS}))
    proxyAccess = await localAccess(auth, {role: 'Proxy', dataDir, nodeName: 'proxy-1'})
    proxy = await startProxyService({
      dataDir,
      nodeName: 'proxy-1',
      webListen: {host: '127.0.0.1', port: 0},
      sshListen: {host: '127.0.0.1', port: 0},
      cluster: proxyAccess,
      log: memoryLogger({component: 'PROXY', lines: proxyLines}),
      startupLimits: LIMITS,
    })
    burstProxy = await startProxyService({
      dataDir: path.join(dataDir, 'burst'),
      nodeName: 'proxy-2',
      webListen: {host: '127.0.0.1', port: 0},
      sshListen: {host: '127.0.0.1', port: 0},
      cluster: proxyAccess,
      log: memoryLogger(),
      startupLimits: BURST_LIMITS,
    })
    const nodeAccess = await localAccess(auth, {role: 'Node', dataDir, nodeName: 'node-1'})
    node = await startNodeService({dataDir, nodeName: 'node-1', listen: {host: '127.0.0.1', port: 0}, log: memoryLogger(), cluster: nodeAccess, startupLimits: LIMITS})
  })

  after(async () => {
    await node?.close()
    await burstProxy?.close()
    await proxy?.close()
    await proxyAccess?.close()
    await admin?.close()
    await auth?.close()
    rmSync(dataDir, {recursive: true, force: true})
  })

  /** A logged-in SSH connection with the proxy's host identity (auth API and proxy accept it). */
  async function loggedIn(port: number): Promise<{client: ssh2.Client; isClosed(): boolean}> {
    const client = await connectToProxy(port, {username: 'proxy', ...proxyAccess.identity}, proxyAccess.identity.hostCAs)
    let closed = false
    client.on('close', () => (closed = true))
    return {client, isClosed: () => closed}
  }

  async function check(port: number, options: {withLogin: boolean}): Promise<void> {
    const session = options.withLogin ? await loggedIn(port) : undefined
    const idle = await openIdle(port, 8)
    const held = await untilClosed(idle, 1)
    assert.equal(held.length, LIMITS.maxPerSource + LIMITS.maxWaitingPerSource, 'the one past the waiting cap is closed at once; 5 in their handshake and 2 waiting stay until the deadline')
    await Promise.all(held.map((c) => c.closed))
    if (session) {
      assert.equal(session.isClosed(), false, 'a logged-in connection is neither counted nor closed at the deadline')
      session.client.end()
    }
  }

  test('auth API port', () => check(auth.address.port, {withLogin: true}))
  test('proxy SSH port', async () => {
    await check(proxy.sshAddress.port, {withLogin: true})
    assert.ok(proxyLines.some((l) => /^WARN \[PROXY\] SSH proxy: refused \d+ connection\(s\) over the limit of unauthenticated connections \(latest from 127\.0\.0\.1/.test(l)), proxyLines.join('\n'))
  })
  test('node SSH port (before the version line)', () => check(node.address.port, {withLogin: false}))
  test(`${BURST} logins at once from one address to a proxy SSH port that lets ${BURST_LIMITS.maxPerSource} handshake at a time: all log in`, async () => {
    const results = await Promise.allSettled(Array.from({length: BURST}, () => loggedIn(burstProxy.sshAddress.port)))
    const failed = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))
    for (const r of results) if (r.status === 'fulfilled') r.value.client.end()
    assert.deepEqual(failed, [], `${failed.length} of ${BURST} failed`)
  })
})
