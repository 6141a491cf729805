import assert from 'node:assert/strict'
import {readdirSync, rmSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import type {AuthApi} from '../../../src/api/auth-api.js'
import {AuthApiClient} from '../../../src/api/auth-api-client.js'
import {ApiClient} from '../../../src/api/client.js'
import {dataDirPaths} from '../../../src/config/data-dir.js'
import {startNodeService, type RunningNodeService} from '../../../src/daemon/node/node-service.js'
import {generateKeyPair} from '../../../src/sshca/index.js'
import {eventually} from '../../helpers/eventually.js'
import {memoryLogger} from '../../helpers/memory-logger.js'
import {tempDir} from '../node/helpers.js'
import {startTestCluster, type TestCluster} from './helpers.js'
import {openWebTerminal, webSignIn} from './web-terminal.js'

// The web terminal in recording proxy mode: the proxy terminates the shell's connection itself and
// reaches the node with the web session's agent (it holds it: no agent is forwarded), so the
// browser's shell is recorded at the proxy as tsh's is; the node records no copy. The page is told
// the proxy's session id (the recording's), and the Active sessions join attaches to the session
// the proxy holds.

const HOST_ID = '7a1b2c3d-0000-4000-8000-0000000000e2'
const PASSWORD = 'correct horse battery'

describe('terminal WebSocket in recording proxy mode', {timeout: 120_000}, () => {
  let cluster: TestCluster
  let node: RunningNodeService
  let nodeApi: AuthApi
  let nodeData: string

  before(async () => {
    cluster = await startTestCluster({secondFactor: 'off', sessionRecording: 'proxy'})
    const {admin} = cluster
    await admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'ops'}, spec: {allow: {logins: ['root'], node_labels: {'*': '*'}, rules: [{resources: ['session'], verbs: ['list', 'read']}]}}}, {create: true})
    await admin.createUser({name: 'alice', roles: ['ops'], traits: {}})
    await cluster.auth.auth.users.setPassword('alice', PASSWORD)
    const key = generateKeyPair()
    const certificate = await cluster.auth.auth.issueHostCert({hostId: HOST_ID, nodeName: 'web-node', role: 'Node', publicKey: key.publicKey})
    const identity = {privateKey: key.privateKey, certificate, hostCAs: await cluster.auth.auth.caKeys('host')}
    nodeApi = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: cluster.auth.address.port, credentials: identity, trust: {hostCAs: identity.hostCAs}}))
    nodeData = tempDir('webterm-rec')
    node = await startNodeService({dataDir: nodeData, nodeName: 'web-node', listen: {host: '127.0.0.1', port: 0}, log: memoryLogger(), cluster: {identity, authApi: nodeApi}})
    await eventually(async () => (await admin.listNodes()).some((n) => n.name === HOST_ID), 'the node registered')
  })

  after(async () => {
    await node?.close()
    await nodeApi?.close()
    await cluster?.close()
    if (nodeData) rmSync(nodeData, {recursive: true, force: true})
  })

  test('a shell runs through the proxy, which records it; the node records nothing', async () => {
    const alice = await webSignIn(cluster, 'alice', PASSWORD)
    const term = openWebTerminal(cluster, alice, {server_id: HOST_ID})
    await term.opened
    term.type('echo web-rec-$((6*7))\r')
    await term.waitFor(/web-rec-42/)
    // The page is told the id of the session the proxy holds and records (its links play and join it).
    const told = (await term.frame('session')) as {session: {sid: string; server_id: string}}
    assert.equal(told.session.server_id, HOST_ID)
    const trackers = await cluster.admin.listSessionTrackers()
    assert.deepEqual(trackers.map((t) => [t.sessionId, t.serverId]), [[told.session.sid, HOST_ID]], 'one tracker, the proxy\'s, naming the node')
    // The Active sessions page's join: a second terminal joins the session held at the proxy.
    const joined = openWebTerminal(cluster, alice, {sid: told.session.sid, mode: 'peer'})
    await joined.waitFor(/participant mode: peer/)
    joined.type('echo joined-$((6*7))\r')
    await term.waitFor(/joined-42/)
    term.type('exit 3\r')
    assert.equal((await joined.closed).code, 1000, 'the joiner\'s terminal ends with the session')
    assert.equal((await term.closed).code, 1000)
    assert.deepEqual(term.texts.at(-1), {type: 'close', reason: 'exit status 3'})
    const records = path.join(dataDirPaths(cluster.dataDir).log, 'records')
    await cluster.proxy.flushAudit()
    const starts = (await cluster.admin.searchEvents({from: new Date(0), to: new Date(Date.now() + 60_000), types: ['session.start']})).events
    const atProxy = starts.find((e) => e.server_id !== HOST_ID && e.user === 'alice')
    assert.ok(atProxy, `the proxy audited the session: ${JSON.stringify(starts)}`)
    assert.equal(atProxy.sid, told.session.sid, 'the page was told the recording\'s id')
    const joins = (await cluster.admin.searchEvents({from: new Date(0), to: new Date(Date.now() + 60_000), sid: told.session.sid, types: ['session.join']})).events
    assert.deepEqual(joins.map((e) => [e.user, e.participant_mode]), [['alice', 'peer']], 'the join is audited under the recording\'s id')
    await eventually(async () => readdirSync(records).includes(`${String(atProxy.sid)}.rec`), 'the proxy\'s recording uploaded')
    assert.deepEqual(readdirSync(dataDirPaths(nodeData).recordingsToUpload), [], 'the node recorded nothing')
    assert.equal(readdirSync(records).length, 1)
  })
})
