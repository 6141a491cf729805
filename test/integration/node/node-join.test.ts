import assert from 'node:assert/strict'
import {randomUUID} from 'node:crypto'
import {existsSync, readFileSync, rmSync, statSync} from 'node:fs'
import https from 'node:https'
import {connect as netConnect, createServer, type Server} from 'node:net'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import ssh2 from 'ssh2'
import {ApiClient} from '../../../src/api/client.js'
import {AuthApiClient} from '../../../src/api/auth-api-client.js'
import {joinCluster, loadOrJoin} from '../../../src/daemon/common/join.js'
import {clusterFilePath} from '../../../src/daemon/common/joined-identity.js'
import {startNodeService} from '../../../src/daemon/node/node-service.js'
import {dataDirPaths} from '../../../src/config/data-dir.js'
import {FakeClock} from '../../../src/lib/clock.js'
import {AccessDeniedError} from '../../../src/lib/errors.js'
import {generateKeyPair, verifyCert} from '../../../src/sshca/index.js'
import {certifiedHostKey, type PublicKeyAuthAttempt} from '../../../src/ssh/index.js'
import {CLUSTER, TIMEOUT_MS, eventually, knownHostsFile, memoryLogger, run, sshOptions, startCluster, tempDir, userCert, type TestCluster} from './helpers.js'

// Joining: straight to the auth API (SSH) or through a proxy's web address (HTTPS), with the CA
// pin checked before anything is trusted; the token is needed once, a restart reuses the identity.
// The proxy here is a stand-in speaking the agreed protocol: /v1/webapi/ping, /v1/webapi/host/credentials
// (relaying to auth's register), and the SSH subsystem proxy:@<cluster> piped to the auth API.

const WRONG_PIN = 'sha256:' + '0'.repeat(64)

// Auth's time, which judges token expiry: it starts at the real time (certificates it signs are
// checked against that) and only moves when a test moves it.

describe('joining the cluster', {timeout: 12 * TIMEOUT_MS}, () => {
  let cluster: TestCluster
  const clock = new FakeClock(Date.now())
  const dirs: string[] = []
  const newDir = (prefix: string) => {
    const d = tempDir(prefix)
    dirs.push(d)
    return d
  }
  const token = async (roles = ['node'], ttlMs = 5 * 60_000) => (await cluster.admin.addToken({roles, ttlMs})).token
  const authAddr = () => ({host: '127.0.0.1', port: cluster.port})
  const join = (options: {dataDir: string; token: string; caPins?: string[]; authServers?: {host: string; port: number}[]; hostUuid?: string}, log = memoryLogger()) =>
    joinCluster({
      authServers: options.authServers ?? [authAddr()],
      token: options.token,
      caPins: options.caPins ?? [cluster.caPin],
      dataDir: options.dataDir,
      role: 'node',
      nodeName: 'joiner',
      // A fresh host each time: auth never hands a registered host id to another key.
      hostUuid: options.hostUuid ?? randomUUID(),
      log,
    })

  before(async () => {
    cluster = await startCluster({clock})
  })
  after(async () => {
    await cluster?.close()
    for (const d of dirs) rmSync(d, {recursive: true, force: true})
  })

  test('with a dynamic token and the right pin: identity written 0600, usable, token not needed again', async () => {
    const dataDir = newDir('join-ok')
    const joined = await join({dataDir, token: await token()})
    assert.equal(joined.clusterName, CLUSTER)
    assert.equal(joined.cert.hostRole, 'Node')
    assert.deepEqual(joined.authRoute, {kind: 'auth', addr: authAddr()})
    verifyCert(joined.certificate, {type: 'host', trustedCAs: joined.hostCAs})
    const identityFile = dataDirPaths(dataDir).hostIdentity('node')
    assert.equal(statSync(identityFile).mode & 0o777, 0o600)
    assert.equal(statSync(clusterFilePath(dataDir, 'node')).mode & 0o777, 0o600)
    assert.match(readFileSync(identityFile, 'utf8'), /BEGIN OPENSSH PRIVATE KEY/)
  })

  test('a node started with a token joins, serves SSH, heartbeats; restarted without the token it reuses its identity', async () => {
    const dataDir = newDir('node-join')
    const userDir = newDir('node-join-user')
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'joined-ops'}, spec: {allow: {logins: ['root'], node_labels: {'*': '*'}}}}, {create: true})
    await cluster.admin.createUser({name: 'dave', roles: ['joined-ops'], traits: {}})
    const dave = await userCert(cluster, userDir, 'dave')
    const knownHosts = knownHostsFile(userDir, cluster.hostCA)
    const start = (joinToken?: string) =>
      startNodeService({
        dataDir,
        nodeName: 'joined-node',
        // Every interface: the node announces 0.0.0.0:<port> and auth fills in the address it called from.
        listen: {host: '0.0.0.0', port: 0},
        labels: {role: 'joined'},
        log: memoryLogger(),
        cluster: {join: {authServers: [authAddr()], caPins: [cluster.caPin], ...(joinToken ? {token: joinToken} : {})}},
      })
    let node = await start(await token())
    try {
      const r = await run('ssh', [...sshOptions(dave, knownHosts, node.address.port), 'root@127.0.0.1', 'hostname >/dev/null && echo joined-ok'])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout.trim(), 'joined-ok')
      const listed = await cluster.admin.listNodes()
      const record = listed.find((n) => n.name === node.hostUuid)
      assert.ok(record, JSON.stringify(listed))
      assert.equal(record.hostname, 'joined-node')
      assert.equal(record.labels.role, 'joined')
      assert.equal(record.addr, `127.0.0.1:${node.address.port}`)
    } finally {
      await node.close()
    }
    const certBefore = readFileSync(dataDirPaths(dataDir).hostIdentity('node'), 'utf8')
    node = await start(undefined)
    try {
      assert.equal(readFileSync(dataDirPaths(dataDir).hostIdentity('node'), 'utf8'), certBefore)
      const r = await run('ssh', [...sshOptions(dave, knownHosts, node.address.port), 'root@127.0.0.1', 'echo again'])
      assert.equal(r.stdout.trim(), 'again', r.stderr)
    } finally {
      await node.close()
    }
  })

  test('a host running proxy and node joins both roles with one single-use token, under one id and key', async () => {
    const dataDir = newDir('two-roles')
    const hostUuid = randomUUID()
    const shared = await token(['node', 'proxy'])
    const common = {authServers: [authAddr()], token: shared, caPins: [cluster.caPin], dataDir, nodeName: 'both', hostUuid, log: memoryLogger()}
    const proxy = await joinCluster({...common, role: 'proxy'})
    const node = await joinCluster({...common, role: 'node'})
    assert.deepEqual([proxy.cert.hostRole, node.cert.hostRole], ['Proxy', 'Node'])
    assert.equal(node.cert.publicKey, proxy.cert.publicKey)
    // The token admitted one host; another host cannot use it.
    await assert.rejects(join({dataDir: newDir('two-roles-other'), token: shared}), /join token has already been used/)
  })

  test('a node that never joined and has no token says so', async () => {
    const dataDir = newDir('no-token')
    await assert.rejects(
      startNodeService({dataDir, nodeName: 'x', listen: {host: '127.0.0.1', port: 0}, log: memoryLogger(), cluster: {join: {authServers: [authAddr()], caPins: [cluster.caPin]}}}),
      /has not joined a cluster yet and no join token was given/,
    )
  })

  test('a wrong CA pin is refused before the token is sent; nothing is stored', async () => {
    const dataDir = newDir('wrong-pin')
    const t = await token()
    await assert.rejects(join({dataDir, token: t, caPins: [WRONG_PIN]}), (err: Error) => {
      assert.ok(err instanceof AccessDeniedError)
      assert.match(err.message, new RegExp(`^the cluster's CA pin is ${cluster.caPin}, which does not match --ca-pin ${WRONG_PIN}$`))
      return true
    })
    assert.equal(existsSync(dataDirPaths(dataDir).hostIdentity('node')), false)
    // The token was not spent: it still works.
    await join({dataDir, token: t})
  })

  test('an unknown, an expired and a wrong-role token are refused with the auth server\'s message', async () => {
    const dataDir = newDir('bad-token')
    await assert.rejects(join({dataDir, token: 'f'.repeat(32)}), /^AccessDeniedError: unknown join token$/)
    const shortLived = await token(['node'], 1000)
    clock.advance(1500)
    await assert.rejects(join({dataDir, token: shortLived}), /join token expired|unknown join token/)
    await assert.rejects(join({dataDir, token: await token(['proxy'])}), /token does not allow role "node"; it is for proxy/)
  })

  test('joining without a pin works with a warning', async () => {
    const log = memoryLogger()
    await join({dataDir: newDir('no-pin'), token: await token(), caPins: []}, log)
    assert.ok(log.lines.some((l) => /^WARN .*joining without a CA pin: /.test(l)), log.lines.join('\n'))
  })

  test('an unreachable address, and one that is neither a proxy nor auth, give one clear line', async () => {
    const closed = await freePort()
    await assert.rejects(join({dataDir: newDir('unreachable'), token: 'x', authServers: [{host: '127.0.0.1', port: closed}]}), new RegExp(`cannot reach 127\\.0\\.0\\.1:${closed}: connection refused`))
    const junk = createServer((socket) => socket.end('HELLO, I am something else\r\n'))
    await new Promise<void>((resolve) => junk.listen(0, '127.0.0.1', resolve))
    try {
      const port = (junk.address() as {port: number}).port
      await assert.rejects(join({dataDir: newDir('junk'), token: 'x', authServers: [{host: '127.0.0.1', port}]}), /neither a Teleport proxy \(HTTPS\) nor an auth server \(SSH\) answers at 127\.0\.0\.1:\d+/)
    } finally {
      junk.close()
    }
  })

  describe('through a proxy web address', () => {
    let proxy: {webPort: number; sshPort: number; close(): Promise<void>}
    before(async () => {
      proxy = await startStandInProxy(cluster, newDir('proxy-tls'))
    })
    after(async () => proxy?.close())

    test('the pin is checked against the CA the proxy returns', async () => {
      const dataDir = newDir('proxy-wrong-pin')
      await assert.rejects(join({dataDir, token: await token(), caPins: [WRONG_PIN], authServers: [{host: '127.0.0.1', port: proxy.webPort}]}), /^AccessDeniedError: the cluster's CA pin is sha256:[0-9a-f]{64}, which does not match --ca-pin sha256:0{64}$/)
      assert.equal(existsSync(dataDirPaths(dataDir).hostIdentity('node')), false)
      await assert.rejects(join({dataDir, token: 'f'.repeat(32), authServers: [{host: '127.0.0.1', port: proxy.webPort}]}), /^AccessDeniedError: unknown join token$/)
    })

    test('joins, then reaches auth through the proxy\'s proxy:@cluster subsystem (heartbeat arrives)', async () => {
      const dataDir = newDir('proxy-join')
      const node = await startNodeService({
        dataDir,
        nodeName: 'behind-proxy',
        listen: {host: '127.0.0.1', port: 0},
        log: memoryLogger(),
        cluster: {join: {authServers: [{host: '127.0.0.1', port: proxy.webPort}], caPins: [cluster.caPin], token: await token()}},
      })
      try {
        const cluster_ = JSON.parse(readFileSync(clusterFilePath(dataDir, 'node'), 'utf8'))
        assert.deepEqual(cluster_.authRoute, {kind: 'proxy', webAddr: {host: '127.0.0.1', port: proxy.webPort}, sshAddr: {host: '127.0.0.1', port: proxy.sshPort}})
        const listed = await eventually(async () => (await cluster.admin.listNodes()).find((n) => n.hostname === 'behind-proxy'), 'the node record')
        assert.equal(listed.name, node.hostUuid)
      } finally {
        await node.close()
      }
    })

    test('pointed at another address after joining, the node finds out what it is and keeps the new route', async () => {
      const dataDir = newDir('reroute')
      const hostUuid = '0a0a0a0a-1111-4222-8333-444455556666'
      const joined = await join({dataDir, token: await token(), hostUuid})
      assert.equal(joined.authRoute.kind, 'auth')
      const log = memoryLogger()
      const moved = await loadOrJoin({authServers: [{host: '127.0.0.1', port: proxy.webPort}], caPins: [], dataDir, role: 'node', nodeName: 'joiner', hostUuid, log})
      assert.deepEqual(moved.authRoute, {kind: 'proxy', webAddr: {host: '127.0.0.1', port: proxy.webPort}, sshAddr: {host: '127.0.0.1', port: proxy.sshPort}})
      assert.equal(moved.certificate, joined.certificate)
      assert.ok(log.lines.some((l) => /Reaching the cluster via the proxy/.test(l)))
      const back = await loadOrJoin({authServers: [authAddr()], caPins: [], dataDir, role: 'node', nodeName: 'joiner', hostUuid, log})
      assert.deepEqual(back.authRoute, {kind: 'auth', addr: authAddr()})
    })
  })
})

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const {port} = srv.address() as {port: number}
      srv.close(() => resolve(port))
    })
  })
}

/**
 * A stand-in for the proxy, speaking what the node expects of it: HTTPS (self-signed)
 * /v1/webapi/ping and /v1/webapi/host/credentials (relayed to auth's register as an anonymous
 * caller), and SSH with a Proxy host certificate serving proxy:@<cluster> to hosts.
 */
async function startStandInProxy(cluster: TestCluster, dir: string) {
  const keyFile = path.join(dir, 'key.pem')
  const certFile = path.join(dir, 'cert.pem')
  const made = await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost'])
  assert.equal(made.code, 0, made.stderr)

  const proxyKey = generateKeyPair()
  const proxyCert = await cluster.service.auth.issueHostCert({hostId: 'stand-in-proxy', nodeName: 'proxy', role: 'Proxy', publicKey: proxyKey.publicKey})
  const hostCAs = await cluster.service.auth.caKeys('host')
  const sshServer = new ssh2.Server({hostKeys: [certifiedHostKey({privateKey: proxyKey.privateKey, certificate: proxyCert})]}, (client) => {
    client.on('error', () => {})
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') return ctx.reject(['publickey'])
      const attempt = ctx as unknown as PublicKeyAuthAttempt
      try {
        const cert = verifyCert(attempt.key.data, {type: 'host', trustedCAs: hostCAs})
        if (cert.keyId !== ctx.username) return ctx.reject()
        ctx.accept() // the signature is checked by the auth API inside the pipe; enough for a stand-in
      } catch {
        ctx.reject()
      }
    })
    client.on('session', (accept) => {
      const session = accept()
      session.on('subsystem', (acceptSub, reject, info) => {
        if (info.name !== `proxy:@${CLUSTER}`) return reject()
        const channel = acceptSub()
        const upstream = netConnect(cluster.port, '127.0.0.1')
        upstream.on('error', () => channel.destroy())
        channel.pipe(upstream).pipe(channel)
        channel.on('close', () => upstream.destroy())
      })
    })
  })
  const sshListening = await new Promise<Server>((resolve) => {
    sshServer.listen(0, '127.0.0.1', () => resolve(sshServer as unknown as Server))
  })
  const sshPort = (sshServer.address() as {port: number}).port

  const web = https.createServer({key: readFileSync(keyFile), cert: readFileSync(certFile)}, (req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, {'content-type': 'application/json'})
      res.end(JSON.stringify(body))
    }
    if (req.method === 'GET' && req.url === '/v1/webapi/ping') {
      return reply(200, {auth: {type: 'local', second_factor: 'otp'}, proxy: {ssh: {listen_addr: `0.0.0.0:${sshPort}`, public_addr: ''}}, server_version: '0.1.0', cluster_name: CLUSTER})
    }
    if (req.method === 'POST' && req.url === '/v1/webapi/host/credentials') {
      let text = ''
      req.on('data', (d: Buffer) => (text += d.toString()))
      req.on('end', async () => {
        const b = JSON.parse(text)
        const anon = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: cluster.port, credentials: {privateKey: generateKeyPair().privateKey}, trust: {hostCAs}}))
        try {
          const r = await anon.register({token: b.token, hostId: b.hostID, nodeName: b.node_name, role: b.role, publicKey: b.public_ssh_key, additionalPrincipals: b.additional_principals})
          reply(200, {cert: r.certificate, host_ca_keys: r.hostCAs, user_ca_keys: r.userCAs, cluster_name: r.clusterName})
        } catch (err) {
          reply(403, {error: {kind: 'access-denied', message: (err as Error).message}})
        } finally {
          await anon.close()
        }
      })
      return
    }
    reply(404, {error: {kind: 'not-found', message: 'not found'}})
  })
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve))
  const webPort = (web.address() as {port: number}).port
  void sshListening
  return {
    webPort,
    sshPort,
    async close() {
      web.closeAllConnections()
      await new Promise((resolve) => web.close(resolve))
      await new Promise((resolve) => sshServer.close(resolve))
    },
  }
}
