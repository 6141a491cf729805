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

// Idle TCP connections against each SSH listener (auth API, proxy, node): past the per-source cap
// they are closed at once, the admitted ones are closed at the login deadline, and an
// authenticated connection is neither counted nor closed. The deadline is shortened for the
// test; nothing here measures time.

const LIMITS = {graceMs: 8_000, maxPerSource: 5, maxTotal: 100}

describe('unauthenticated connections on the SSH listeners', {timeout: 120_000, concurrency: true}, () => {
  let dataDir: string
  let auth: RunningAuthService
  let admin: AuthApi
  let proxyAccess: LocalAccess
  let proxy: RunningProxyService
  let node: RunningNodeService
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
    const nodeAccess = await localAccess(auth, {role: 'Node', dataDir, nodeName: 'node-1'})
    node = await startNodeService({dataDir, nodeName: 'node-1', listen: {host: '127.0.0.1', port: 0}, log: memoryLogger(), cluster: nodeAccess, startupLimits: LIMITS})
  })

  after(async () => {
    await node?.close()
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
    const admitted = await untilClosed(idle, 3)
    assert.equal(admitted.length, LIMITS.maxPerSource, 'the 3 over the per-source cap are closed at once; 5 wait for the deadline')
    await Promise.all(admitted.map((c) => c.closed))
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
})
