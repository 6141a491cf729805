import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {Agent, request} from 'undici'
import {ALPN_AUTH, dialAlpn} from '../../../src/api/alpn.js'
import type {AuthApi} from '../../../src/api/auth-api.js'
import {AuthApiClient} from '../../../src/api/auth-api-client.js'
import {dialAuthPipe} from '../../../src/api/auth-via-proxy-web.js'
import {ApiClient} from '../../../src/api/client.js'
import {readIdentityFile} from '../../../src/api/identity-file.js'
import {dataDirPaths} from '../../../src/config/data-dir.js'
import {startAuthService, type RunningAuthService} from '../../../src/daemon/auth/auth-service.js'
import {startProxyService, type RunningProxyService} from '../../../src/daemon/proxy/proxy-service.js'
import {adminApi, testAuthConfig} from '../../helpers/auth.js'
import {memoryLogger} from '../../helpers/memory-logger.js'

// Two auth servers of one cluster on one store, a proxy joined with both in auth_servers (in
// multiplex mode, so every way in is on its web port). When the auth server the proxy uses goes
// away, everything the proxy opens to auth moves to the other: its own calls (web sign-in), a
// web session's connection as its user (web UI calls), the `proxy:@<cluster>` pipe (tsh and tctl
// through the proxy, nodes joined through it) and the ALPN teleport-auth@ pipe.

const CLUSTER = 'ha.example.com'
const TOKEN = 'proxy-join-token-0123456789abcdef'
const PASSWORD = 'a long enough password'

describe('a proxy with two auth servers fails over in every connection to auth', {timeout: 120_000}, () => {
  const root = mkdtempSync(path.join(tmpdir(), 'auth-failover-'))
  const store = {type: 'sqlite' as const, path: path.join(root, 'shared.db')}
  const auths: RunningAuthService[] = []
  let proxy: RunningProxyService
  let admin: AuthApi
  const web = new Agent({connect: {rejectUnauthorized: false}})
  const adminIdentity = () => readIdentityFile(dataDirPaths(path.join(root, 'b')).adminIdentity)

  before(async () => {
    for (const name of ['a', 'b']) {
      const config = testAuthConfig(path.join(root, name), {nodeName: `auth-${name}`, clusterName: CLUSTER, storage: store, secondFactor: 'off', staticTokens: [`proxy:${TOKEN}`], proxyListenerMode: 'multiplex'})
      auths.push(await startAuthService(config))
    }
    admin = adminApi(path.join(root, 'b'), auths[1]!.address.port)
    proxy = await startProxyService({
      dataDir: path.join(root, 'proxy'),
      nodeName: 'proxy-1',
      webListen: {host: '127.0.0.1', port: 0},
      sshListen: {host: '127.0.0.1', port: 0},
      cluster: {join: {authServers: auths.map((a) => a.address), token: TOKEN, caPins: (await admin.status()).caPins}},
      log: memoryLogger(),
    })
    const {invite} = await admin.createUser({name: 'alice', roles: ['access'], traits: {logins: ['alice']}})
    await admin.redeemUserToken({token: invite.token, password: PASSWORD})
  })
  after(async () => {
    await proxy?.close()
    await admin?.close()
    for (const auth of auths) await auth.close().catch(() => {})
    await web.close()
    rmSync(root, {recursive: true, force: true})
  })

  async function call(method: string, urlPath: string, options: {json?: unknown; headers?: Record<string, string>} = {}): Promise<{status: number; text: string; headers: Record<string, unknown>}> {
    const res = await request(`https://127.0.0.1:${proxy.webAddress.port}${urlPath}`, {
      method: method as 'GET',
      dispatcher: web,
      headers: {...options.headers, ...(options.json === undefined ? {} : {'content-type': 'application/json'})},
      ...(options.json === undefined ? {} : {body: JSON.stringify(options.json)}),
    })
    return {status: res.statusCode, text: await res.body.text(), headers: res.headers}
  }

  async function signIn(): Promise<Record<string, string>> {
    const res = await call('POST', '/v1/webapi/sessions/web', {json: {user: 'alice', pass: PASSWORD}})
    assert.equal(res.status, 200, res.text)
    const cookie = /^(__Host-session=[0-9a-f]+);/.exec(String(res.headers['set-cookie']))?.[1] ?? assert.fail('no session cookie')
    return {cookie, authorization: `Bearer ${(JSON.parse(res.text) as {token: string}).token}`}
  }

  const nodes = (headers: Record<string, string>) => call('GET', `/v1/webapi/sites/${CLUSTER}/nodes`, {headers})

  /** The admin identity's auth API over a stream the proxy pipes to auth; the cluster name it answers. */
  async function pingThrough(dial: () => Promise<import('node:stream').Duplex>): Promise<string> {
    const {privateKey, certificate, hostCAs} = adminIdentity()
    const api = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: proxy.webAddress.port, credentials: {privateKey, certificate}, trust: {hostCAs}, dial}))
    try {
      return (await api.ping()).clusterName
    } finally {
      await api.close()
    }
  }
  const viaSubsystem = () => {
    const {privateKey, certificate, hostCAs} = adminIdentity()
    return dialAuthPipe(proxy.webAddress, CLUSTER, {username: 'tctl', privateKey, certificate, hostCAs}, {tlsRouting: true})
  }
  const viaAlpn = () => dialAlpn(proxy.webAddress, ALPN_AUTH)

  test('with the first auth server gone: web sign-in, a web session\'s calls, proxy:@cluster and teleport-auth@ go to the other', async () => {
    const session = await signIn()
    assert.equal((await nodes(session)).status, 200, 'the web session\'s connection as alice is open (to the first auth server)')
    assert.equal(await pingThrough(viaSubsystem), CLUSTER)
    assert.equal(await pingThrough(viaAlpn), CLUSTER)

    await auths[0]!.close()

    const listed = await nodes(session)
    assert.equal(listed.status, 200, `the session's calls reconnect to the other auth server: ${listed.text}`)
    assert.equal((await nodes(await signIn())).status, 200, 'a new sign-in and its calls')
    assert.equal(await pingThrough(viaSubsystem), CLUSTER, 'proxy:@cluster pipes to the auth server still up')
    assert.equal(await pingThrough(viaAlpn), CLUSTER, 'so does ALPN teleport-auth@')
  })
})
