import assert from 'node:assert/strict'
import {rmSync} from 'node:fs'
import {after, before, describe, test} from 'node:test'
import {WebSocket} from 'ws'
import type {AuthApi} from '../../../src/api/auth-api.js'
import {AuthApiClient} from '../../../src/api/auth-api-client.js'
import {ApiClient} from '../../../src/api/client.js'
import type {TerminalParams} from '../../../src/api/web-ui-routes.js'
import {startNodeService, type RunningNodeService} from '../../../src/daemon/node/node-service.js'
import {generateKeyPair} from '../../../src/sshca/index.js'
import {eventually} from '../../helpers/eventually.js'
import {memoryLogger} from '../../helpers/memory-logger.js'
import {tempDir} from '../node/helpers.js'
import {startTestCluster, type TestCluster} from './helpers.js'
import {openWebTerminal, webSignIn, type SignedIn} from './web-terminal.js'

// The terminal WebSocket end to end: a browser's user signed in at the proxy, a real node service
// in this process, shells opened through the proxy as that user (certificate and agent of the
// web session), typed into and resized; a second user joining the live session as an observer;
// refusals as error frames with their close codes.

const HOST_ID = '7a1b2c3d-0000-4000-8000-0000000000e1'
const PASSWORD = 'correct horse battery'
const role = (name: string, allow: Record<string, unknown>) => ({kind: 'role', version: 'v5', metadata: {name}, spec: {allow}})
// Like the access role, users list the sessions they take part in (how the page learns a new shell's id).
const ANY_NODE = {logins: ['root'], node_labels: {'*': '*'}, rules: [{resources: ['session'], verbs: ['list', 'read'], where: 'contains(session.participants, user.metadata.name)'}]}

describe('terminal WebSocket', {timeout: 180_000}, () => {
  let cluster: TestCluster
  let node: RunningNodeService
  let nodeApi: AuthApi
  let nodeData: string
  const sockets: WebSocket[] = []

  before(async () => {
    cluster = await startTestCluster({secondFactor: 'off'})
    const {admin} = cluster
    await admin.upsertRole(role('ops', ANY_NODE), {create: true})
    await admin.upsertRole(role('watcher', {...ANY_NODE, join_sessions: [{name: 'watch ops', roles: ['ops'], kinds: ['ssh'], modes: ['observer']}]}), {create: true})
    for (const [name, roles] of Object.entries({alice: ['ops'], wendy: ['ops', 'watcher']})) {
      await admin.createUser({name, roles, traits: {}})
      await cluster.auth.auth.users.setPassword(name, PASSWORD)
    }
    const key = generateKeyPair()
    const certificate = await cluster.auth.auth.issueHostCert({hostId: HOST_ID, nodeName: 'web-node', role: 'Node', publicKey: key.publicKey})
    const identity = {privateKey: key.privateKey, certificate, hostCAs: await cluster.auth.auth.caKeys('host')}
    nodeApi = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: cluster.auth.address.port, credentials: identity, trust: {hostCAs: identity.hostCAs}}))
    nodeData = tempDir('webterm')
    node = await startNodeService({dataDir: nodeData, nodeName: 'web-node', listen: {host: '127.0.0.1', port: 0}, log: memoryLogger(), cluster: {identity, authApi: nodeApi}})
    await eventually(async () => (await admin.listNodes()).some((n) => n.name === HOST_ID), 'the node registered')
  })

  after(async () => {
    for (const ws of sockets) ws.terminate()
    await node?.close()
    await nodeApi?.close()
    await cluster?.close()
    if (nodeData) rmSync(nodeData, {recursive: true, force: true})
  })

  const signIn = (user: string): Promise<SignedIn> => webSignIn(cluster, user, PASSWORD)

  /** A terminal socket as the page opens it: cookie on the upgrade, then the auth frame. */
  function terminal(who: SignedIn, params: Partial<TerminalParams>, options: {origin?: string; token?: string | null} = {}) {
    const term = openWebTerminal(cluster, who, {server_id: HOST_ID, ...params}, options)
    sockets.push(term.ws)
    return term
  }

  test('a shell: typed commands run, the session is named, resize reaches stty, exit closes with the status', async () => {
    const alice = await signIn('alice')
    const term = terminal(alice, {term: {w: 80, h: 24}})
    await term.opened
    const session = (await term.frame('session')).session as {sid: string; server_id: string; login: string; hostname: string}
    assert.match(session.sid, /^[0-9a-f-]{36}$/)
    assert.deepEqual({...session, sid: ''}, {sid: '', server_id: HOST_ID, login: 'root', hostname: 'web-node'})
    term.type('echo SID=$SSH_SESSION_ID; echo web-$((6*7))\r')
    await term.waitFor(/web-42/)
    assert.ok(term.output.includes(`SID=${session.sid}`), 'the session frame names this shell\'s session')
    assert.ok(!term.output.includes('web-$((6*7))\r\nweb-$((6*7))'), 'echoed once')

    term.type('stty size\r')
    await term.waitFor(/\r24 80\r\n/)
    term.ws.send(JSON.stringify({type: 'resize', size: '100:40'}))
    term.type('stty size\r')
    await term.waitFor(/\r40 100\r\n/)

    term.type('exit 3\r')
    const closed = await term.closed
    assert.equal(closed.code, 1000)
    assert.deepEqual(term.texts.at(-1), {type: 'close', reason: 'exit status 3'})

    // Audited like the SSH proxy's routing: the subsystem event names the user, login and node.
    await cluster.proxy.flushAudit()
    const events = (await cluster.admin.searchEvents({from: new Date(Date.now() - 600_000), to: new Date(Date.now() + 60_000), types: ['subsystem']})).events
    assert.ok(events.some((e) => e.user === 'alice' && e.login === 'root' && e.node_id === HOST_ID && e.code === 'T3001I'), JSON.stringify(events))
  })

  test('joining a live session as an observer: the page gets its output; its keystrokes do not reach the shell', async () => {
    const alice = await signIn('alice')
    const owner = terminal(alice, {})
    await owner.opened
    const sid = ((await owner.frame('session')).session as {sid: string}).sid
    owner.type('echo before-$((1+1))\r')
    await owner.waitFor(/before-2/)

    const wendy = await signIn('wendy')
    const sessions = await cluster.web('GET', '/v1/webapi/sites/example.com/sessions', {headers: {cookie: wendy.cookie, authorization: `Bearer ${wendy.token}`}})
    const listed = sessions.json<{items: Array<{sid: string; join_modes: string[]}>}>().items.find((s) => s.sid === sid)
    assert.deepEqual(listed?.join_modes, ['observer'], sessions.text)

    const observer = terminal(wendy, {sid, mode: 'observer'})
    await observer.opened
    assert.equal(((await observer.frame('session')).session as {sid: string}).sid, sid)
    await observer.waitFor(/before-2/) // the screen as it is
    await owner.waitFor(/User wendy joined the session with participant mode: observer/)
    owner.type('echo live-$((20+1))\r')
    await observer.waitFor(/live-21/)
    observer.type('echo from-observer\r')
    await observer.waitFor(/You are an observer: your keystrokes do not reach the session/)
    owner.type('echo after-$((3+4))\r')
    await owner.waitFor(/after-7/)
    assert.ok(!owner.output.includes('from-observer'), 'an observer does not type into the session')
    owner.type('exit\r')
    assert.equal((await owner.closed).code, 1000)
    assert.equal((await observer.closed).code, 1000)
  })

  test('refusals: a login the roles do not allow (4003), an unknown node (4004), a wrong token (4001), a foreign Origin (no upgrade)', async () => {
    const alice = await signIn('alice')
    const nobody = terminal(alice, {login: 'nobody'})
    assert.equal((await nobody.closed).code, 4003)
    assert.match(String((await nobody.frame('error')).message), /access denied|denied/i)

    const unknown = terminal(alice, {server_id: '7a1b2c3d-0000-4000-8000-00000000dead'})
    assert.equal((await unknown.closed).code, 4004)
    assert.match(String((await unknown.frame('error')).message), /not found/)

    const forged = terminal(alice, {}, {token: 'f'.repeat(64)})
    assert.equal((await forged.closed).code, 4001)
    assert.match(String((await forged.frame('error')).message), /sign in/)

    const foreign = terminal(alice, {}, {origin: 'https://evil.example'})
    await assert.rejects(foreign.opened, /upgrade refused: 403/)
  })

  /** A player socket over the proxy, authenticated like the terminal. */
  function player(who: SignedIn, sid: string) {
    const port = cluster.proxy.webAddress.port
    const ws = new WebSocket(`wss://127.0.0.1:${port}/v1/webapi/sites/example.com/sessionrecording/${sid}/stream`, {ca: cluster.webCertificate(), origin: `https://127.0.0.1:${port}`, headers: {cookie: who.cookie}})
    sockets.push(ws)
    let output = ''
    const texts: Record<string, unknown>[] = []
    ws.on('message', (data, isBinary) => (isBinary ? (output += (data as Buffer).toString()) : texts.push(JSON.parse(data.toString()))))
    ws.once('open', () => ws.send(JSON.stringify({type: 'auth', token: who.token})))
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
    return {
      ws,
      closed,
      texts,
      get output() {
        return output
      },
      frame: (type: string) => eventually(() => texts.find((t) => t.type === type), `a ${type} frame (got ${JSON.stringify(texts)})`),
    }
  }

  test('the recording of a web shell plays in the player WebSocket, for its user only', async () => {
    const alice = await signIn('alice')
    const term = terminal(alice, {})
    const sid = ((await term.frame('session')).session as {sid: string}).sid
    term.type('echo rec-$((5*5))\r')
    await term.waitFor(/rec-25/)
    term.type('exit\r')
    await term.closed
    await eventually(async () => (await cluster.auth.auth.recordings.stat(sid).catch(() => undefined))?.complete, 'the recording at auth')

    const play = player(alice, sid)
    const meta = await play.frame('meta')
    assert.equal(meta.size, '80:24')
    assert.equal(meta.user, 'alice')
    assert.equal(meta.login, 'root')
    assert.equal(meta.hostname, 'web-node')
    assert.ok(((await play.frame('duration')).duration_ms as number) > 0)
    play.ws.send(JSON.stringify({type: 'seek', ms: 3_600_000}))
    await play.frame('end')
    assert.match(play.output, /rec-25/)
    play.ws.close()

    const wendy = await signIn('wendy')
    const refused = player(wendy, sid)
    assert.equal(await refused.closed, 4003)
    assert.match(String((await refused.frame('error')).message), /access denied/)
  })

  test('sign-out closes the session\'s terminals', async () => {
    const alice = await signIn('alice')
    const term = terminal(alice, {})
    await term.opened
    await term.frame('session')
    const out = await cluster.web('DELETE', '/v1/webapi/sessions/web', {headers: {cookie: alice.cookie, authorization: `Bearer ${alice.token}`}})
    assert.equal(out.status, 200, out.text)
    assert.equal((await term.closed).code, 4001)
  })
})
