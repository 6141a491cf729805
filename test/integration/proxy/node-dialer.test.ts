import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import type {Duplex} from 'node:stream'
import {after, before, describe, test} from 'node:test'
import ssh2 from 'ssh2'
import {localAccess, type LocalAccess} from '../../../src/daemon/auth/local-access.js'
import {startNodeService, type RunningNodeService} from '../../../src/daemon/node/node-service.js'
import {processUser} from '../../../src/daemon/node/os-login.js'
import type {DialTarget, NodeDialer} from '../../../src/daemon/proxy/node-dialer.js'
import {generateKeyPair} from '../../../src/sshca/index.js'
import {certAuthOptions, hostCertVerifier} from '../../../src/ssh/index.js'
import {duplexPair} from '../../helpers/duplex-pair.js'
import {CLUSTER, connectToProxy, memoryLogger, openSubsystem, startTestCluster, type TestCluster, type UserCredentials} from './helpers.js'

// The proxy reaches nodes only through its NodeDialer. Here a memory dialer hands one end of an
// in-memory stream pair to a node running in this process; the address the node announced
// (TEST-NET, unroutable) is never dialled over TCP.

const ANNOUNCED = {host: '192.0.2.1', port: 3022}

/** Connects to `node` through a stream pair, whatever the target's address; records each target. */
class MemoryDialer implements NodeDialer {
  readonly targets: DialTarget[] = []
  constructor(private readonly node: () => RunningNodeService) {}

  async dial(target: DialTarget): Promise<Duplex> {
    this.targets.push(target)
    const [proxyEnd, nodeEnd] = duplexPair()
    this.node().handle({stream: nodeEnd, local: {host: target.host, port: target.port}, remote: {host: 'memory', port: 0}})
    return proxyEnd
  }
}

describe('proxy with an injected NodeDialer', {timeout: 120_000}, () => {
  let cluster: TestCluster
  let nodeAccess: LocalAccess
  let node: RunningNodeService
  let nodeData: string
  let user: UserCredentials
  let hostCAs: string[]
  const login = processUser().name
  const dialer = new MemoryDialer(() => node)

  before(async () => {
    cluster = await startTestCluster()
    hostCAs = (await cluster.admin.getCAKeys()).host
    await cluster.admin.createUser({name: 'alice', roles: ['access'], traits: {logins: [login]}})
    const key = generateKeyPair()
    const signed = await cluster.admin.signUserCert({username: 'alice', publicKey: key.publicKey, ttlMs: 3600_000})
    user = {username: login, privateKey: key.privateKey, certificate: signed.certificate}
    nodeData = mkdtempSync(path.join(tmpdir(), 'dialer-node-'))
    nodeAccess = await localAccess(cluster.auth, {dataDir: nodeData, nodeName: 'node-m', role: 'Node'})
    node = await startNodeService({
      dataDir: nodeData,
      nodeName: 'node-m',
      listen: {host: '127.0.0.1', port: 0},
      advertiseAddr: ANNOUNCED,
      log: memoryLogger(),
      cluster: {identity: nodeAccess.identity, authApi: nodeAccess.authApi},
    })
    await cluster.restartProxy({nodeDialer: dialer})
  })
  after(async () => {
    await node?.close()
    await nodeAccess?.close()
    await cluster?.close()
    if (nodeData) rmSync(nodeData, {recursive: true, force: true})
  })

  test('a session through the proxy reaches the node by the dialer; the preamble still names the real client', async () => {
    const proxyClient = await connectToProxy(cluster.proxy.sshAddress.port, user, hostCAs)
    try {
      const channel = await openSubsystem(proxyClient, `proxy:node-m:3022@${CLUSTER}`)
      const client = new ssh2.Client()
      const verifier = hostCertVerifier({trustedHostCAs: hostCAs, hostname: 'node-m'})
      await new Promise<void>((resolve, reject) => {
        client.once('ready', () => resolve())
        client.once('error', (err) => reject(verifier.explain(err)))
        client.connect({sock: channel as never, readyTimeout: 20_000, ...verifier.connectOptions(), ...certAuthOptions(user)})
      })
      const out = await new Promise<string>((resolve, reject) =>
        client.exec('echo "$SSH_CLIENT"', (err, stream) => {
          if (err) return reject(err)
          let text = ''
          stream.on('data', (d: Buffer) => (text += d.toString()))
          stream.on('close', () => resolve(text))
        }),
      )
      client.end()
      assert.match(out.trim(), /^127\.0\.0\.1 \d+ 3022$/)
      assert.equal(dialer.targets.length, 1)
      assert.deepEqual({host: dialer.targets[0]!.host, port: dialer.targets[0]!.port, node: dialer.targets[0]!.node?.hostname}, {...ANNOUNCED, node: 'node-m'})
    } finally {
      proxyClient.end()
    }
  })
})
