import assert from 'node:assert/strict'
import {X509Certificate} from 'node:crypto'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {Agent, request} from 'undici'
import {readIdentityFile} from '../../../src/api/identity-file.js'
import {localAccess} from '../../../src/daemon/auth/local-access.js'
import {startProxyService, type ProxyServiceOptions, type RunningProxyService} from '../../../src/daemon/proxy/proxy-service.js'
import {webCertificatePaths} from '../../../src/daemon/proxy/web-certificate.js'
import {dataDirPaths} from '../../../src/config/data-dir.js'
import {generateKeyPair, parseCert} from '../../../src/sshca/index.js'
import {CLUSTER, connectToProxy, memoryLogger, runSubsystem, startTestCluster, tokenOf, type TestCluster} from './helpers.js'

// A proxy on its own data dir joining the cluster with a proxy token and the CA pin (as
// `teleport start --roles=proxy --token=... --ca-pin=... --auth-server=...` does), with a
// public address; restarted, it needs no token.

describe('proxy joining the cluster', {timeout: 120_000}, () => {
  let cluster: TestCluster
  let dataDir: string
  let proxy: RunningProxyService | undefined
  const logs: string[] = []

  const options = (join: {token?: string; caPins: string[]}): ProxyServiceOptions => ({
    dataDir,
    nodeName: 'proxy-2',
    webListen: {host: '127.0.0.1', port: 0},
    sshListen: {host: '127.0.0.1', port: 0},
    publicAddrs: [{host: 'proxy2.example.com', port: 3080}],
    cluster: {join: {authServers: [cluster.auth.address], ...join}},
    log: memoryLogger({component: 'PROXY', lines: logs}),
  })

  before(async () => {
    cluster = await startTestCluster()
    dataDir = mkdtempSync(path.join(tmpdir(), 'proxy-join-'))
  })
  after(async () => {
    await proxy?.close()
    await cluster?.close()
    rmSync(dataDir, {recursive: true, force: true})
  })

  test('a wrong CA pin is refused before anything is stored', async () => {
    const {token} = await cluster.admin.addToken({roles: ['proxy']})
    await assert.rejects(startProxyService(options({token, caPins: [`sha256:${'0'.repeat(64)}`]})), /does not match --ca-pin/)
  })

  test('joins with a token and the pin; serves its public address; a restart needs no token', async () => {
    const {token} = await cluster.admin.addToken({roles: ['proxy']})
    const caPins = (await cluster.admin.ping()).caPins
    proxy = await startProxyService(options({token, caPins}))
    const identity = readIdentityFile(dataDirPaths(dataDir).hostIdentity('proxy'))
    assert.equal(identity.cert.hostRole, 'Proxy')
    assert.ok(identity.cert.principals.includes('proxy2.example.com'))

    const cert = readFileSync(webCertificatePaths(dataDir).cert, 'utf8')
    assert.ok(new X509Certificate(cert).subjectAltName?.includes('DNS:proxy2.example.com'))
    const agent = new Agent({connect: {ca: cert, servername: 'proxy2.example.com'}})
    try {
      const get = async (p: string) => {
        const res = await request(`https://127.0.0.1:${proxy!.webAddress.port}${p}`, {dispatcher: agent})
        return {status: res.statusCode, text: await res.body.text()}
      }
      const ping = JSON.parse((await get('/v1/webapi/ping')).text)
      assert.equal(ping.cluster_name, CLUSTER)
      assert.equal(ping.proxy.ssh.public_addr, `proxy2.example.com:${proxy.sshAddress.port}`)

      const {invite} = await cluster.admin.createUser({name: 'frank', roles: ['access'], traits: {logins: ['frank']}})
      const details = await get(`/v1/webapi/users/password/token/${tokenOf(invite.url)}`)
      assert.equal(details.status, 200, details.text)
    } finally {
      await agent.close()
    }

    await proxy.close()
    proxy = await startProxyService(options({caPins: []}))
    const key = generateKeyPair()
    const signed = await cluster.admin.signUserCert({username: 'frank', publicKey: key.publicKey, ttlMs: 600_000})
    const hostCAs = (await cluster.admin.getCAKeys()).host
    const client = await connectToProxy(proxy.sshAddress.port, {username: 'frank', privateKey: key.privateKey, certificate: signed.certificate}, hostCAs)
    try {
      const result = await runSubsystem(client, `proxy:127.0.0.1:1@${CLUSTER}`)
      assert.equal(result.stderr, 'failed to connect to 127.0.0.1:1: connection refused\n')
    } finally {
      client.end()
    }
    assert.ok(logs.some((l) => l.includes('Joined cluster "example.com" as proxy')), logs.join('\n'))
    assert.ok(!logs.some((l) => l.includes(token)), 'the token is not logged')
  })

  test('in one process with auth: the identity is issued locally, kept, and reissued when a public address is added', async () => {
    const first = await localAccess(cluster.auth, {role: 'Proxy', dataDir: cluster.dataDir, nodeName: 'proxy-1'})
    await first.close()
    const again = await localAccess(cluster.auth, {role: 'Proxy', dataDir: cluster.dataDir, nodeName: 'proxy-1'})
    await again.close()
    assert.equal(again.identity.certificate, first.identity.certificate)
    const widened = await localAccess(cluster.auth, {role: 'Proxy', dataDir: cluster.dataDir, nodeName: 'proxy-1', principals: ['teleport.example.com']})
    try {
      const cert = parseCert(widened.identity.certificate)
      assert.equal(cert.hostRole, 'Proxy')
      assert.equal(cert.keyId, cluster.auth.hostUuid)
      assert.ok(cert.principals.includes('teleport.example.com'))
      assert.equal((await widened.authApi.ping()).clusterName, CLUSTER)
    } finally {
      await widened.close()
    }
  })
})
