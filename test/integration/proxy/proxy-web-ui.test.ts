import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {generateTotpCode} from '../../../src/services/index.js'
import {totpCodes} from '../../helpers/totp.js'
import {acceptUserToken, readUserToken, redeemUserToken, startTestCluster, tokenOf, type TestCluster, type WebResponse} from './helpers.js'

// The web UI's side of the proxy over real HTTPS against a real auth service: the built app
// served under /web, the security headers, sign-in (cookie and bearer token), the rule that an
// API call needs both, the UI's JSON routes as the user, and sign-out.

const PASSWORD = 'correct horse battery'
const INDEX = '<!doctype html><html><head><script type="module" src="/web/app/index-3f2a9c1b.js"></script></head><body></body></html>'
const SCRIPT = 'console.log("app")'
const NODE_ID = '6f1c2d3e-0000-4000-8000-0000000000d1'

const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

function assertSecurityHeaders(res: WebResponse, what: string): void {
  assert.equal(res.headers['content-security-policy'], CSP, what)
  assert.equal(res.headers['x-frame-options'], 'DENY', what)
  assert.equal(res.headers['x-content-type-options'], 'nosniff', what)
  assert.equal(res.headers['referrer-policy'], 'no-referrer', what)
  assert.equal(res.headers['strict-transport-security'], undefined, `${what}: no HSTS with a self-signed certificate`)
}

describe('proxy web UI (HTTPS)', {timeout: 120_000}, () => {
  let cluster: TestCluster
  let assets: string

  before(async () => {
    assets = mkdtempSync(path.join(tmpdir(), 'web-assets-'))
    mkdirSync(path.join(assets, 'app'))
    writeFileSync(path.join(assets, 'index.html'), INDEX)
    writeFileSync(path.join(assets, 'app', 'index-3f2a9c1b.js'), SCRIPT)
    writeFileSync(path.join(assets, 'app', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
    writeFileSync(path.join(assets, 'secret.txt'), 'not an asset')
    cluster = await startTestCluster({webAssetsDir: assets})
    await cluster.admin.upsertNode({name: NODE_ID, hostname: 'web-node', addr: '127.0.0.1:3022', labels: {env: 'test', app: 'db'}, cmdLabels: {}, version: '0.1.0'})
  })
  after(async () => {
    await cluster?.close()
    if (assets) rmSync(assets, {recursive: true, force: true})
  })

  /**
   * A new user (logins root and their name; password and TOTP set through the invite link), signed
   * in with the next step's code: a code is good once, so each sign-in here is another user's.
   */
  let users = 0
  async function signIn(roles = ['access']): Promise<{res: WebResponse; token: string; cookie: string; user: string; secret: string}> {
    const user = `user${++users}`
    const {invite} = await cluster.admin.createUser({name: user, roles, traits: {logins: ['root', user]}})
    const secret = await acceptUserToken(cluster.caller, invite.url, PASSWORD)
    const res = await cluster.web('POST', '/v1/webapi/sessions/web', {json: {user, pass: PASSWORD, second_factor_token: generateTotpCode(secret, Date.now() + 30_000)}})
    assert.equal(res.status, 200, res.text)
    const setCookie = String(res.headers['set-cookie'])
    const cookie = /^(__Host-session=[0-9a-f]+);/.exec(setCookie)?.[1] ?? assert.fail(`no session cookie in ${setCookie}`)
    return {res, token: res.json<{token: string}>().token, cookie, user, secret}
  }

  const site = (route: string) => `/v1/webapi/sites/example.com/${route}`

  test('every page of the app is index.html, never cached; hashed assets are immutable; nothing outside app/ is served', async () => {
    for (const page of ['/web', '/web/', '/web/login', '/web/nodes', '/web/invite/0123abcd', `/web/terminal/${NODE_ID}/root`, '/web/player/abc']) {
      const res = await cluster.web('GET', page)
      assert.equal(res.status, 200, page)
      assert.equal(res.text, INDEX, page)
      assert.match(String(res.headers['content-type']), /^text\/html/, page)
      assert.equal(res.headers['cache-control'], 'no-store', page)
      assertSecurityHeaders(res, page)
    }
    const script = await cluster.web('GET', '/web/app/index-3f2a9c1b.js')
    assert.equal(script.status, 200)
    assert.equal(script.text, SCRIPT)
    assert.match(String(script.headers['content-type']), /^text\/javascript/)
    assert.match(String(script.headers['cache-control']), /immutable/)
    assertSecurityHeaders(script, 'asset')
    const logo = await cluster.web('GET', '/web/app/logo.svg')
    assert.equal(logo.headers['content-type'], 'image/svg+xml')
    assert.equal(logo.headers['cache-control'], 'no-store', 'a name without a hash may change')

    for (const bad of ['/web/app/%2e%2e/secret.txt', '/web/app/..%2fsecret.txt', '/web/app/%2e%2e%2findex.html', '/web/app/missing.js', '/web/app/', '/web/unknown-page']) {
      const res = await cluster.web('GET', bad)
      assert.equal(res.status, 404, bad)
      assert.ok(!res.text.includes('not an asset'), bad)
      assertSecurityHeaders(res, bad)
    }
    assert.equal((await cluster.web('POST', '/web/nodes')).status, 405)
  })

  test('sign-in: bearer token in the answer, the session in a __Host- cookie (Secure, HttpOnly, SameSite=Strict)', async () => {
    const {res, token, user, secret} = await signIn()
    const body = res.json<{type: string; token: string; expires_in: number; user: string}>()
    assert.equal(body.type, 'Bearer')
    assert.equal(body.user, user)
    assert.ok(token.length >= 32)
    assert.ok(body.expires_in > 3600 && body.expires_in <= 30 * 3600, String(body.expires_in))
    assert.match(String(res.headers['set-cookie']), /^__Host-session=[0-9a-f]{64}; Path=\/; Secure; HttpOnly; SameSite=Strict$/)
    assert.ok(!String(res.headers['set-cookie']).includes(token), 'the cookie is not the bearer token')
    assertSecurityHeaders(res, 'sign-in')

    const wrong = await cluster.web('POST', '/v1/webapi/sessions/web', {json: {user, pass: 'wrong password', second_factor_token: generateTotpCode(secret, Date.now())}})
    assert.equal(wrong.status, 403)
    assert.equal(wrong.headers['set-cookie'], undefined)
    assert.match(wrong.json<{error: {message: string}}>().error.message, /invalid username, password or second factor/)
  })

  test('an API call needs the cookie AND the bearer token: either alone is 401 with a one-line JSON error', async () => {
    const {token, cookie, user} = await signIn()
    const cookieOnly = await cluster.web('GET', site('context'), {headers: {cookie}})
    assert.equal(cookieOnly.status, 401)
    const message = cookieOnly.json<{error: {message: string}}>().error.message
    assert.match(message, /sign in/)
    assert.ok(!message.includes('\n'))
    assertSecurityHeaders(cookieOnly, '401')
    assert.equal((await cluster.web('GET', site('context'), {headers: {authorization: `Bearer ${token}`}})).status, 401)
    assert.equal((await cluster.web('GET', site('context'), {headers: {cookie, authorization: `Bearer ${'0'.repeat(token.length)}`}})).status, 401)

    const both = await cluster.web('GET', site('context'), {headers: {cookie, authorization: `Bearer ${token}`}})
    assert.equal(both.status, 200, both.text)
    const context = both.json<{user: {name: string; roles: string[]}; cluster: {name: string; version: string}; session: {expires: string; idle_timeout_ms: number}}>()
    assert.deepEqual(context.user, {name: user, roles: ['access']})
    assert.equal(context.cluster.name, 'example.com')
    assert.ok(Date.parse(context.session.expires) > Date.now())
    assert.equal(context.session.idle_timeout_ms, 30 * 60_000)
    assert.equal((await cluster.web('GET', '/v1/webapi/sites/other.example/context', {headers: {cookie, authorization: `Bearer ${token}`}})).status, 404)
  })

  test('nodes as the user: labels sorted, and the logins their roles allow there', async () => {
    const {token, cookie, user} = await signIn()
    const res = await cluster.web('GET', site('nodes'), {headers: {cookie, authorization: `Bearer ${token}`}})
    assert.equal(res.status, 200, res.text)
    const {items} = res.json<{items: Array<{id: string; hostname: string; addr: string; labels: {name: string; value: string}[]; logins: string[]}>}>()
    assert.deepEqual(items, [
      {id: NODE_ID, hostname: 'web-node', addr: '127.0.0.1:3022', labels: [{name: 'app', value: 'db'}, {name: 'env', value: 'test'}], logins: ['root', user].sort()},
    ])
    const sessions = await cluster.web('GET', site('sessions'), {headers: {cookie, authorization: `Bearer ${token}`}})
    assert.deepEqual(sessions.json(), {items: []})
    const from = new Date(Date.now() - 3600_000).toISOString()
    const to = new Date(Date.now() + 60_000).toISOString()
    const recordings = await cluster.web('GET', `${site('recordings')}?from=${from}&to=${to}`, {headers: {cookie, authorization: `Bearer ${token}`}})
    assert.deepEqual(recordings.json(), {items: []})
    const badRange = await cluster.web('GET', `${site('recordings')}?from=yesterday&to=${to}`, {headers: {cookie, authorization: `Bearer ${token}`}})
    assert.equal(badRange.status, 400)
  })

  test('change password as the user (current password and a code); the audit log is auth\'s to show or refuse', async () => {
    // Enrolled, signed in and the password changed with three codes, each for a later step.
    const {invite} = await cluster.admin.createUser({name: 'pwuser', roles: ['access'], traits: {logins: ['pwuser']}})
    const token = tokenOf(invite.url)
    const secret = (await readUserToken(cluster.caller, token)).view!.totp.secret
    const code = totpCodes(secret)
    assert.equal((await redeemUserToken(cluster.caller, {token, password: PASSWORD, second_factor_token: await code()})).status, 200)
    const signedIn = await cluster.web('POST', '/v1/webapi/sessions/web', {json: {user: 'pwuser', pass: PASSWORD, second_factor_token: await code()}})
    assert.equal(signedIn.status, 200, signedIn.text)
    const headers = {cookie: /^(__Host-session=[0-9a-f]+);/.exec(String(signedIn.headers['set-cookie']))![1]!, authorization: `Bearer ${signedIn.json<{token: string}>().token}`}
    const done = await cluster.web('PUT', '/v1/webapi/users/password', {headers, json: {old_password: PASSWORD, new_password: 'a new long password', second_factor_token: await code()}})
    assert.equal(done.status, 200, done.text)
    const changes = (await cluster.admin.searchEvents({from: new Date(Date.now() - 600_000), to: new Date(Date.now() + 60_000), types: ['user.password_change']})).events
    assert.ok(changes.some((e) => e.user === 'pwuser'), JSON.stringify(changes))

    const from = new Date(Date.now() - 3600_000).toISOString()
    const to = new Date(Date.now() + 60_000).toISOString()
    const events = await cluster.web('GET', `${site('events/search')}?from=${from}&to=${to}&include=user.login`, {headers})
    // The access role does not read the audit log: auth refuses, the page hears it in one line.
    assert.equal(events.status, 403, events.text)
    assert.match(events.json<{error: {message: string}}>().error.message, /access denied/)
  })

  test('audit events for an auditor: newest first, only the types included, paged by startKey', async () => {
    const {token, cookie, user} = await signIn(['access', 'auditor'])
    const headers = {cookie, authorization: `Bearer ${token}`}
    const from = new Date(Date.now() - 3600_000).toISOString()
    const to = new Date(Date.now() + 60_000).toISOString()
    const page = (startKey?: string) =>
      cluster.web('GET', `${site('events/search')}?from=${from}&to=${to}&include=user.login,user.create&limit=2${startKey ? `&startKey=${encodeURIComponent(startKey)}` : ''}`, {headers})
    const first = await page()
    assert.equal(first.status, 200, first.text)
    const one = first.json<{items: Array<Record<string, unknown>>; startKey?: string}>()
    assert.equal(one.items.length, 2)
    assert.ok(one.items.every((e) => e.event === 'user.login' || e.event === 'user.create'))
    assert.equal(one.items[0]!.event, 'user.login', 'newest first: this sign-in')
    assert.equal(one.items[0]!.user, user)
    assert.ok(Date.parse(String(one.items[0]!.time)) >= Date.parse(String(one.items[1]!.time)))
    assert.ok(one.startKey, 'a full page names where the next one starts')
    const two = (await page(one.startKey)).json<{items: Array<Record<string, unknown>>}>()
    assert.ok(two.items.length > 0)
    assert.ok(!two.items.some((e) => e.uid === one.items[0]!.uid || e.uid === one.items[1]!.uid), 'the next page goes on')
  })

  test('sign-out: auth forgets the session; the cookie is cleared; the token no longer works', async () => {
    const {token, cookie} = await signIn()
    const headers = {cookie, authorization: `Bearer ${token}`}
    const out = await cluster.web('DELETE', '/v1/webapi/sessions/web', {headers})
    assert.equal(out.status, 200, out.text)
    assert.match(String(out.headers['set-cookie']), /^__Host-session=; Path=\/; Secure; HttpOnly; SameSite=Strict; Max-Age=0$/)
    assert.equal((await cluster.web('GET', site('context'), {headers})).status, 401)
    assert.equal((await cluster.web('DELETE', '/v1/webapi/sessions/web', {headers})).status, 401)
  })

  test('without a built UI, /web says to run npm run build (503)', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'web-empty-'))
    try {
      await cluster.restartProxy({webAssetsDir: empty})
      const res = await cluster.web('GET', '/web/nodes')
      assert.equal(res.status, 503)
      assert.match(res.text, /npm run build/)
      assertSecurityHeaders(res, '503')
    } finally {
      await cluster.restartProxy({webAssetsDir: assets})
      rmSync(empty, {recursive: true, force: true})
    }
  })
})
