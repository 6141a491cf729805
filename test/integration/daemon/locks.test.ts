import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'
import {ApiClient} from '../../../src/api/client.js'
import type {AuthApi} from '../../../src/api/auth-api.js'
import {AuthApiClient} from '../../../src/api/auth-api-client.js'
import {WebClient} from '../../../src/client/web-client.js'
import {AccessDeniedError} from '../../../src/lib/errors.js'
import {totpCodes} from '../../helpers/totp.js'
import {generateKeyPair} from '../../../src/sshca/index.js'
import {certAuthOptions, hostCertVerifier} from '../../../src/ssh/index.js'
import ssh2 from 'ssh2'
import {eventually, exited, LOGIN, spawnTsh, startTshCluster, TIMEOUT_MS, tsh, type TshCluster} from '../tsh/helpers.js'

// Stale rights and locks on a one-process cluster over real sockets (auth API, proxy web and
// SSH ports, a node), driven by the real bin/tsh and by API clients holding user certificates.

describe('authorization against the current user, and locks', {timeout: 10 * TIMEOUT_MS}, () => {
  let cluster: TshCluster

  before(async () => {
    cluster = await startTshCluster([{name: 'node-1'}])
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'ops'}, spec: {allow: {logins: [LOGIN], node_labels: {'*': '*'}}}}, {create: true})
  })
  after(async () => {
    await cluster?.close()
  })

  /** An auth API client holding `user`'s certificate, as an identity file would give it. */
  async function userApi(user: string): Promise<AuthApi> {
    const key = generateKeyPair()
    const signed = await cluster.admin.signUserCert({username: user, publicKey: key.publicKey})
    return new AuthApiClient(new ApiClient({host: '127.0.0.1', port: cluster.auth.address.port, credentials: {privateKey: key.privateKey, certificate: signed.certificate}, trust: {hostCAs: signed.hostCAs}}))
  }

  /** A key and certificate for `user`, issued while they may still have one. */
  async function userKey(user: string) {
    const key = generateKeyPair()
    return {privateKey: key.privateKey, ...(await cluster.admin.signUserCert({username: user, publicKey: key.publicKey}))}
  }

  /** An SSH connection straight to the node (not through the proxy). */
  async function connectToNode(signed: Awaited<ReturnType<typeof userKey>>): Promise<void> {
    const client = new ssh2.Client()
    const verifier = hostCertVerifier({trustedHostCAs: signed.hostCAs, hostname: '127.0.0.1'})
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('ready', () => resolve())
        client.once('error', reject)
        client.connect({host: '127.0.0.1', port: cluster.nodes[0]!.service.address.port, readyTimeout: TIMEOUT_MS, ...verifier.connectOptions(), ...certAuthOptions({username: LOGIN, privateKey: signed.privateKey, certificate: signed.certificate})})
      })
    } finally {
      client.end()
    }
  }

  async function refusals(user: string) {
    const events = (await cluster.admin.searchEvents({from: new Date(Date.now() - 3600_000), to: new Date(Date.now() + 60_000), types: ['auth']})).events
    return events.filter((e) => e.user === user && e.code === 'T3007W')
  }

  test('an editor demoted, then deleted, can no longer create users or tokens with the old identity', async () => {
    await cluster.admin.createUser({name: 'eve', roles: ['editor', 'ops'], traits: {}})
    const eve = await userApi('eve')
    try {
      await eve.createUser({name: 'made-by-eve', roles: ['ops'], traits: {}})
      await cluster.admin.upsertUser({name: 'eve', roles: ['ops'], traits: {}})
      await assert.rejects(eve.createUser({name: 'made-after-demotion', roles: ['ops'], traits: {}}), AccessDeniedError)
      await assert.rejects(eve.addToken({roles: ['node']}), AccessDeniedError)
      await cluster.admin.deleteUser('eve')
      await assert.rejects(eve.createUser({name: 'made-after-deletion', roles: ['ops'], traits: {}}), AccessDeniedError)
      await assert.rejects(eve.addToken({roles: ['node']}), AccessDeniedError)
      await assert.rejects(eve.listNodes(), AccessDeniedError)
      assert.deepEqual((await cluster.admin.listUsers()).map((u) => u.name).filter((n) => n.startsWith('made-')), ['made-by-eve'])
      assert.equal((await cluster.admin.listTokens()).length, 0)
      const audited = await refusals('eve')
      assert.equal(audited.length, 5)
      assert.equal(audited.at(-1)!.error, 'user "eve" no longer exists')
    } finally {
      await eve.close()
    }
  })

  test('a lock on a user refuses tsh login at the proxy; removed, login works again', async () => {
    await cluster.admin.createUser({name: 'lena', roles: ['ops'], traits: {}})
    const {token} = await cluster.admin.resetUser('lena')
    const {totp} = await cluster.admin.getUserToken(token)
    const code = totpCodes(totp.secret)
    await cluster.admin.redeemUserToken({token, password: 'correct horse', otpCode: await code()})
    const web = new WebClient({proxyAddr: `127.0.0.1:${cluster.proxy.webAddress.port}`, insecure: true})
    // Each code must be from a later time step than the last one used (replay protection).
    const login = async () => web.createSshCert({user: 'lena', password: 'correct horse', otp_token: await code(), pub_key: generateKeyPair().publicKey, ttl: 3600e9})
    try {
      const lock = await cluster.admin.createLock({target: {user: 'lena'}, message: 'on leave'})
      await assert.rejects(login(), {name: 'AccessDeniedError', message: 'lock targeting User:"lena" is in force: on leave'})
      await cluster.admin.deleteLock(lock.metadata.name)
      assert.equal((await login()).username, 'lena')
    } finally {
      await web.close()
    }
  })

  test('a lock ends a running tsh session with its message and refuses new ones', async () => {
    await cluster.admin.createUser({name: 'lou', roles: ['ops'], traits: {}})
    const home = await cluster.login('lou')
    const key = await userKey('lou')
    const node = cluster.nodes[0]!
    const session = spawnTsh(home, ['ssh', `${LOGIN}@node-1`, 'echo started; sleep 120'])
    try {
      await eventually(async () => session.output().includes('started'), 'the session to start')
      const lock = await cluster.admin.createLock({target: {user: 'lou'}, message: 'incident 42'})
      await node.service.refreshAccess()
      assert.notEqual(await exited(session), 0)
      assert.match(session.output(), /Teleport > lock targeting User:"lou" is in force: incident 42/)

      await assert.rejects(connectToNode(key), /authentication methods failed/)
      // The proxy hears of the lock on its next poll; then tsh says why, not "log in again".
      await eventually(async () => /^ERROR: lock targeting User:"lou" is in force: incident 42$/m.test((await tsh(home, ['ssh', `${LOGIN}@node-1`, 'true'])).stderr), 'the proxy to refuse with the lock message')
      await cluster.admin.deleteLock(lock.metadata.name)
      await node.service.refreshAccess()
      // ...and the proxy of its removal on its next poll.
      await eventually(async () => (await tsh(home, ['ssh', `${LOGIN}@node-1`, 'echo', 'back'])).stdout.trim() === 'back', 'the session to work again once the lock is gone')
    } finally {
      session.kill()
    }
    await node.service.flushAudit()
    const events = (await cluster.admin.searchEvents({from: new Date(Date.now() - 3600_000), to: new Date(Date.now() + 60_000), types: ['client.disconnect', 'auth']})).events
    assert.ok(events.some((e) => e.event === 'client.disconnect' && e.user === 'lou' && e.reason === 'lock targeting User:"lou" is in force: incident 42'))
    assert.ok(events.some((e) => e.event === 'auth' && e.user === 'lou' && e.server_id === node.hostUuid && e.error === 'lock targeting User:"lou" is in force: incident 42'))
  })

  test('a connection with no session yet is closed with the lock message in its DISCONNECT', async () => {
    await cluster.admin.createUser({name: 'noa', roles: ['ops'], traits: {}})
    const signed = await userKey('noa')
    const node = cluster.nodes[0]!
    const client = new ssh2.Client()
    const verifier = hostCertVerifier({trustedHostCAs: signed.hostCAs, hostname: '127.0.0.1'})
    // ssh2's client keeps a DISCONNECT "by application" to its debug log (OpenSSH prints it).
    const debug: string[] = []
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve())
      client.once('error', reject)
      client.connect({host: '127.0.0.1', port: node.service.address.port, readyTimeout: TIMEOUT_MS, debug: (line) => debug.push(line), ...verifier.connectOptions(), ...certAuthOptions({username: LOGIN, privateKey: signed.privateKey, certificate: signed.certificate})})
    })
    try {
      const lock = await cluster.admin.createLock({target: {user: 'noa'}, message: 'no more'})
      await node.service.refreshAccess()
      await closed
      assert.ok(debug.includes('Inbound: Received DISCONNECT (11, "Teleport > lock targeting User:\"noa\" is in force: no more")'), debug.filter((l) => /DISCONNECT/.test(l)).join('\n'))
      await cluster.admin.deleteLock(lock.metadata.name)
    } finally {
      client.end()
    }
  })

  test('deleting a user ends their running session and refuses new ones at the node', async () => {
    await cluster.admin.createUser({name: 'dan', roles: ['ops'], traits: {}})
    const home = await cluster.login('dan')
    const key = await userKey('dan')
    const node = cluster.nodes[0]!
    const session = spawnTsh(home, ['ssh', `${LOGIN}@node-1`, 'echo started; sleep 120'])
    try {
      await eventually(async () => session.output().includes('started'), 'the session to start')
      await cluster.admin.deleteUser('dan')
      await node.service.refreshAccess()
      assert.notEqual(await exited(session), 0)
      assert.match(session.output(), /Teleport > user "dan" no longer exists/)
      await assert.rejects(connectToNode(key), /authentication methods failed/)
    } finally {
      session.kill()
    }
  })

  test('a locked node gets no new sessions through the proxy', async () => {
    await cluster.admin.createUser({name: 'nia', roles: ['ops'], traits: {}})
    const home = await cluster.login('nia')
    const node = cluster.nodes[0]!
    const lock = await cluster.admin.createLock({target: {node: node.hostUuid}, message: 'maintenance'})
    try {
      // The proxy learns of the lock on its next poll (every few seconds).
      let last = ''
      await eventually(async () => {
        const r = await tsh(home, ['ssh', `${LOGIN}@node-1`, 'true'])
        last = r.stderr
        return r.code !== 0 && r.stderr.includes(`lock targeting Node:"${node.hostUuid}" is in force: maintenance`)
      }, 'the proxy to refuse the locked node')
      assert.ok(last)
    } finally {
      await cluster.admin.deleteLock(lock.metadata.name)
    }
  })
})
