import assert from 'node:assert/strict'
import {rmSync} from 'node:fs'
import {after, before, describe, test} from 'node:test'
import ssh2 from 'ssh2'
import {ApiClient} from '../../../src/api/client.js'
import {AuthApiClient} from '../../../src/api/auth-api-client.js'
import type {AuthApi, NewWebSession} from '../../../src/api/auth-api.js'
import {WebSessionAgent} from '../../../src/api/web-session-agent.js'
import {openWebUserApi} from '../../../src/api/web-user-api.js'
import {startNodeService, type RunningNodeService} from '../../../src/daemon/node/node-service.js'
import {EventCode} from '../../../src/events/index.js'
import {WEB_SESSION_GONE} from '../../../src/services/index.js'
import {generateKeyPair} from '../../../src/sshca/index.js'
import {agentAuthOptions, hostCertVerifier} from '../../../src/ssh/index.js'
import {TIMEOUT_MS, memoryLogger, nodeIdentity, startCluster, tempDir, type TestCluster} from '../node/helpers.js'

// A web session used as the proxy uses it, over the real transports: the proxy signs a user in
// at auth, then opens the auth API and an SSH connection to a real node AS that user, with the
// session's certificate and an agent whose signatures auth makes with the key it keeps. Auth and
// the node see a normal certificate login by the user; after sign-out nothing new connects.

const HOST_ID = '5b1b2c3d-0000-4111-8222-933344445555'

describe('web sessions over the real auth API and a real node', {timeout: 10 * TIMEOUT_MS}, () => {
  let cluster: TestCluster
  let proxy: AuthApi
  let node: RunningNodeService
  let nodeApi: AuthApi
  let nodeData: string
  const opened: {close(): Promise<void>}[] = []
  const log = memoryLogger()

  before(async () => {
    cluster = await startCluster({secondFactor: 'off'})
    const {auth} = cluster.service
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'ops'}, spec: {allow: {logins: ['root'], node_labels: {'*': '*'}}}}, {create: true})
    await cluster.admin.createUser({name: 'alice', roles: ['ops'], traits: {}})
    await auth.users.setPassword('alice', 'alice-password')
    const key = generateKeyPair()
    const certificate = await auth.issueHostCert({hostId: 'proxy-host', nodeName: 'proxy', role: 'Proxy', publicKey: key.publicKey})
    proxy = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: cluster.port, credentials: {privateKey: key.privateKey, certificate}, trust: {hostCAs: [cluster.hostCA]}}))
    const handed = await nodeIdentity(cluster, HOST_ID, 'web-node')
    nodeApi = handed.authApi
    node = await startNodeService({dataDir: (nodeData = tempDir('webnode')), nodeName: 'web-node', listen: {host: '127.0.0.1', port: 0}, log, cluster: handed})
  })

  after(async () => {
    for (const api of opened) await api.close().catch(() => {})
    await node?.close()
    await nodeApi?.close()
    await proxy?.close()
    await cluster?.close()
    if (nodeData) rmSync(nodeData, {recursive: true, force: true})
  })

  const agentFor = (session: NewWebSession) => new WebSessionAgent({sessionId: session.id, certificate: session.certificate, auth: proxy})

  const webUserApi = (agent: WebSessionAgent) => {
    const api = openWebUserApi({host: '127.0.0.1', port: cluster.port, trust: {hostCAs: [cluster.hostCA]}, agent})
    opened.push(api)
    return api
  }

  /** Runs `command` on the node as `login`, authenticated through `agent`. */
  function execOnNode(agent: WebSessionAgent, command: string): Promise<{stdout: string; code: number | undefined}> {
    const client = new ssh2.Client()
    const verifier = hostCertVerifier({trustedHostCAs: [cluster.hostCA], hostname: '127.0.0.1'})
    return new Promise((resolve, reject) => {
      // An agent that cannot sign is one error, and running out of methods is another: the first says why.
      client.on('error', (err) => reject(verifier.explain(err)))
      client.once('ready', () => {
        client.exec(command, (err, channel) => {
          if (err) return reject(err)
          let stdout = ''
          let code: number | undefined
          channel.on('data', (d: Buffer) => (stdout += d.toString()))
          channel.stderr.on('data', () => {})
          channel.on('exit', (c: number) => (code = c))
          channel.on('close', () => {
            client.end()
            resolve({stdout, code})
          })
        })
      })
      client.connect({host: '127.0.0.1', port: node.address.port, readyTimeout: TIMEOUT_MS, ...verifier.connectOptions(), ...agentAuthOptions({username: 'root', agent})})
    })
  }

  test('the auth API as the web user: their RBAC applies, and they change their own password', async () => {
    const session = await proxy.createWebSession({username: 'alice', password: 'alice-password', clientAddr: '203.0.113.9'})
    const api = webUserApi(agentFor(session))
    assert.equal((await api.getUser('alice')).name, 'alice')
    assert.equal((await api.getRole('ops')).metadata.name, 'ops')
    assert.ok(Array.isArray(await api.listNodes()))
    await assert.rejects(api.getUser('admin'), {name: 'AccessDeniedError'})
    await assert.rejects(api.searchEvents({from: new Date(0), to: new Date()}), {name: 'AccessDeniedError'})
    await api.changePassword('alice', {oldPassword: 'alice-password', newPassword: 'alice-password-2'})
    await cluster.service.auth.users.checkPassword('alice', 'alice-password-2')
    // The calls came from alice's certificate, as auth's audit log says.
    const search = await cluster.admin.searchEvents({from: new Date(0), to: new Date(Date.now() + 60_000), types: ['auth', 'user.password_change']})
    const changed = search.events.find((e) => e.code === EventCode.UserPasswordChange)
    assert.equal(changed?.user, 'alice')
    const refused = search.events.find((e) => e.code === EventCode.AuthAttemptFailure && e.action === 'read user')
    assert.equal(refused?.user, 'alice')
    await cluster.service.auth.users.setPassword('alice', 'alice-password')
  })

  test('an ssh2 client logs into a real node with the same agent: a normal certificate login by the user', async () => {
    const session = await proxy.createWebSession({username: 'alice', password: 'alice-password'})
    const agent = agentFor(session)
    const outcome = await execOnNode(agent, 'echo web-ok; echo "user=$SSH_TELEPORT_USER"')
    assert.equal(outcome.code, 0)
    assert.equal(outcome.stdout, 'web-ok\nuser=alice\n')
  })

  test('after sign-out a connection to auth opened before is refused too', async () => {
    const session = await proxy.createWebSession({username: 'alice', password: 'alice-password'})
    const api = webUserApi(agentFor(session))
    assert.equal((await api.getUser('alice')).name, 'alice')
    await proxy.deleteWebSession({id: session.id})
    await assert.rejects(api.getUser('alice'), {name: 'AccessDeniedError', message: WEB_SESSION_GONE})
    await assert.rejects(api.listNodes(), {name: 'AccessDeniedError', message: WEB_SESSION_GONE})
  })

  test('after sign-out the agent cannot sign: no new connection to the node or to auth', async () => {
    const session = await proxy.createWebSession({username: 'alice', password: 'alice-password'})
    const agent = agentFor(session)
    await proxy.deleteWebSession({id: session.id})
    await assert.rejects(execOnNode(agent, 'true'), (err: Error) => /web session expired or signed out/.test(err.message))
    await assert.rejects(webUserApi(agent).getUser('alice'), {name: 'AccessDeniedError', message: WEB_SESSION_GONE})
  })
})
