import assert from 'node:assert/strict'
import {mkdtempSync} from 'node:fs'
import https from 'node:https'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {MemoryKeyStore} from '../../../src/client/key-store.js'
import {login, otpRequirement, type Prompter} from '../../../src/client/login.js'
import {loadCurrentIdentity} from '../../../src/client/profile.js'
import {WebClient, sshProxyAddrFromPing, type WebPing} from '../../../src/client/web-client.js'
import {AccessDeniedError, UserError} from '../../../src/lib/errors.js'
import {generateKeyPair} from '../../../src/sshca/index.js'
import {selfSignedTls, startFakeProxy, tempDir, userCert, type FakeProxy} from './helpers.js'

// tsh login's library against an HTTPS server speaking the proxy's web API: TLS trust and
// --insecure, the request it sends, what it stores, and the refusals.

const dir = tempDir('tsh-login-')
const tls = selfSignedTls(dir.path)
let proxy: FakeProxy
let noOtpProxy: FakeProxy

before(async () => {
  proxy = await startFakeProxy({tls, password: 'correct horse', otp: '123456', sshPort: 3023})
  noOtpProxy = await startFakeProxy({tls, password: 'pw', secondFactor: 'off'})
})
after(async () => {
  await proxy?.close()
  await noOtpProxy?.close()
  dir.cleanup()
})

function prompter(answers: {password: string; otp?: string}, asked: string[] = []): Prompter {
  return {
    password: async (m) => (asked.push(m), answers.password),
    otp: async (m) => (asked.push(m), answers.otp ?? ''),
  }
}

const quiet = {warn: () => {}, debug: () => {}}

describe('web client TLS', () => {
  test('a self-signed proxy is refused with a hint to use --insecure', async () => {
    const web = new WebClient({proxyAddr: proxy.addr})
    await assert.rejects(web.ping(), (e: unknown) => e instanceof UserError && /not trusted/.test(e.message) && /--insecure/.test(e.hint ?? ''))
    await web.close()
  })

  test('--insecure skips verification; a trusted CA verifies', async () => {
    for (const web of [new WebClient({proxyAddr: proxy.addr, insecure: true}), new WebClient({proxyAddr: proxy.addr, ca: [tls.cert]})]) {
      const ping = await web.ping()
      assert.equal(ping.cluster_name, 'example.com')
      await web.close()
    }
  })

  test('nothing listening: one line', async () => {
    const web = new WebClient({proxyAddr: '127.0.0.1:9', insecure: true})
    await assert.rejects(web.ping(), /cannot (connect|reach)/)
    await web.close()
  })

  test('the proxy\'s 403 {error: {message}} becomes an AccessDeniedError with that message', async () => {
    const web = new WebClient({proxyAddr: proxy.addr, insecure: true})
    await assert.rejects(
      web.createSshCert({user: 'alice', password: 'wrong', pub_key: generateKeyPair().publicKey, ttl: 60e9}),
      (e: unknown) => e instanceof AccessDeniedError && e.message === 'invalid username, password or second factor',
    )
    await web.close()
  })

  test('the SSH address: public_addr, else the web host with the listen port', () => {
    const ping = (ssh: WebPing['proxy']['ssh']) => ({auth: {type: 'local', second_factor: 'otp'}, proxy: {ssh}, server_version: '', cluster_name: 'c'}) as WebPing
    assert.equal(sshProxyAddrFromPing(ping({listen_addr: '0.0.0.0:3023'}), 'proxy.example.com:3080'), 'proxy.example.com:3023')
    assert.equal(sshProxyAddrFromPing(ping({listen_addr: '0.0.0.0:4023', public_addr: 'ssh.example.com:443'}), 'proxy.example.com:3080'), 'ssh.example.com:443')
  })
})

describe('login', () => {
  test('prompts, sends the public key, TTL in nanoseconds and the OTP; stores everything', async () => {
    const store = new MemoryKeyStore()
    const asked: string[] = []
    const outcome = await login({store, proxy: proxy.addr, user: 'alice', ttlMinutes: 90, ca: [tls.cert], addKeysToAgent: 'no', prompter: prompter({password: 'correct horse', otp: '123456'}, asked), ...quiet})
    assert.equal(outcome.kind, 'logged-in')
    assert.deepEqual(asked, ['Enter password for Teleport user alice:', 'Enter your OTP token:'])
    const sent = proxy.requests.at(-1)!.body!
    assert.equal(sent.ttl, 90 * 60 * 1e9)
    assert.equal(sent.otp_token, '123456')
    assert.match(sent.pub_key, /^ssh-ed25519 /)
    const id = loadCurrentIdentity({store})
    assert.equal(id.publicKey, sent.pub_key.trim())
    assert.match(id.privateKey, /BEGIN OPENSSH PRIVATE KEY/)
    assert.equal(sent.pub_key.includes('PRIVATE'), false)
    assert.deepEqual(id.profile, {webProxyAddr: proxy.addr, sshProxyAddr: '127.0.0.1:3023', user: 'alice', cluster: 'example.com', authType: 'local', forwardPorts: [], dynamicForwardPorts: []})
    assert.equal(id.hostCAs.length, 1)
    assert.equal(store.currentProfile(), '127.0.0.1')
    const ttl = id.cert.validBefore!.getTime() - Date.now()
    assert.ok(ttl > 80 * 60_000 && ttl <= 90 * 60_000, `ttl ${ttl}`)

    // Again with no arguments: the valid login is shown, nothing is asked.
    const again: string[] = []
    const second = await login({store, ca: [tls.cert], addKeysToAgent: 'no', prompter: prompter({password: 'x'}, again), ...quiet})
    assert.equal(second.kind, 'already-logged-in')
    assert.deepEqual(again, [])
  })

  test('--insecure says so on stderr and is remembered in the profile', async () => {
    const store = new MemoryKeyStore()
    const warnings: string[] = []
    await login({store, proxy: noOtpProxy.addr, user: 'bob', insecure: true, addKeysToAgent: 'no', prompter: prompter({password: 'pw'}), warn: (l) => warnings.push(l), debug: () => {}})
    assert.match(warnings[0]!, /^WARNING: you are using insecure connection to the proxy https:\/\/127\.0\.0\.1:\d+/)
    assert.equal(loadCurrentIdentity({store}).profile.insecure, true)
  })

  test('the first --insecure login pins the proxy certificate: later logins verify it, and refuse a different one', async () => {
    const store = new MemoryKeyStore()
    const prompts = () => prompter({password: 'pw'})
    await login({store, proxy: noOtpProxy.addr, user: 'bob', insecure: true, addKeysToAgent: 'no', prompter: prompts(), ...quiet})
    assert.match(store.readProxyCertificate('127.0.0.1') ?? '', /-----BEGIN CERTIFICATE-----/)
    const warnings: string[] = []
    const again = await login({store, proxy: noOtpProxy.addr, user: 'carol', addKeysToAgent: 'no', prompter: prompts(), warn: (l) => warnings.push(l), debug: () => {}})
    assert.equal(again.kind, 'logged-in')
    assert.deepEqual(warnings, [], 'no insecure warning: the pinned certificate verified')

    const other = await startFakeProxy({tls: selfSignedTls(mkdtempSync(path.join(dir.path, 'other-'))), password: 'pw', secondFactor: 'off'})
    try {
      await assert.rejects(login({store, proxy: other.addr, user: 'carol', addKeysToAgent: 'no', prompter: prompts(), ...quiet}), /not trusted/)
    } finally {
      await other.close()
    }
  })

  test('second factor off: no OTP prompt', async () => {
    const asked: string[] = []
    await login({store: new MemoryKeyStore(), proxy: noOtpProxy.addr, user: 'bob', ca: [tls.cert], addKeysToAgent: 'no', prompter: prompter({password: 'pw'}, asked), ...quiet})
    assert.deepEqual(asked, ['Enter password for Teleport user bob:'])
    assert.equal(noOtpProxy.requests.at(-1)!.body!.otp_token, undefined)
  })

  test('without a terminal: fails naming what it needed, before generating or sending anything', async () => {
    const before = proxy.requests.filter((r) => r.method === 'POST').length
    await assert.rejects(
      login({store: new MemoryKeyStore(), proxy: proxy.addr, user: 'alice', ca: [tls.cert], addKeysToAgent: 'no', ...quiet}),
      (e: unknown) => e instanceof UserError && e.message === 'password and OTP code are required; tsh login needs a terminal to ask for them',
    )
    assert.equal(proxy.requests.filter((r) => r.method === 'POST').length, before)
  })

  test('wrong password: the proxy\'s message, nothing stored', async () => {
    const store = new MemoryKeyStore()
    await assert.rejects(login({store, proxy: proxy.addr, user: 'alice', ca: [tls.cert], addKeysToAgent: 'no', prompter: prompter({password: 'nope', otp: '123456'}), ...quiet}), AccessDeniedError)
    assert.deepEqual(store.profileNames(), [])
  })

  test('no --proxy and no profile: a usage error with an example', async () => {
    await assert.rejects(login({store: new MemoryKeyStore(), addKeysToAgent: 'no', ...quiet}), /--proxy is required/)
  })

  test('--add-keys-to-agent=only without an agent fails before prompting', async () => {
    await assert.rejects(login({store: new MemoryKeyStore(), proxy: proxy.addr, addKeysToAgent: 'only', env: {}, prompter: prompter({password: 'x'}), ...quiet}), /needs a running SSH agent/)
  })

  test('second-factor settings', () => {
    assert.equal(otpRequirement('otp'), 'required')
    assert.equal(otpRequirement('on'), 'required')
    assert.equal(otpRequirement('optional'), 'optional')
    assert.equal(otpRequirement('off'), 'none')
    assert.throws(() => otpRequirement('webauthn'), /does not support/)
  })
})

describe('login against a proxy that answers with the wrong JSON types', () => {
  // Whoever answers at the proxy's address before its certificate is pinned writes this JSON.
  async function hostileProxy(answers: {ping: unknown; signers: unknown}): Promise<{addr: string; close: () => Promise<void>}> {
    const server = https.createServer({key: tls.key, cert: tls.cert}, (req, res) => {
      let text = ''
      req.on('data', (d: Buffer) => (text += d.toString()))
      req.on('end', () => {
        res.writeHead(200, {'content-type': 'application/json'})
        if (req.url === '/v1/webapi/ping') return res.end(JSON.stringify(answers.ping))
        const body = JSON.parse(text) as {pub_key: string; user: string}
        res.end(JSON.stringify({username: body.user, cert: userCert({publicKey: body.pub_key, user: body.user, ttlMs: 60_000}), host_signers: answers.signers}))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return {addr: `127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve()))}
  }
  const goodPing = {auth: {type: 'local', second_factor: 'off'}, proxy: {ssh: {listen_addr: '0.0.0.0:3023'}}, server_version: '1', cluster_name: 'example.com'}
  const cases = [
    {what: 'a ping whose proxy.ssh.public_addr is a number', ping: {...goodPing, proxy: {ssh: {public_addr: 3023}}}, signers: [], message: /answered ping without the expected fields/},
    {what: 'host_signers holding null', ping: goodPing, signers: [null], message: /no host certificate authorities/},
    {what: 'checking_keys holding a number', ping: goodPing, signers: [{domain_name: 'example.com', checking_keys: [42]}], message: /not key lines/},
  ]
  for (const c of cases) {
    test(`${c.what}: a UserError saying so, not a crash`, async () => {
      const hostile = await hostileProxy(c)
      try {
        await assert.rejects(
          login({store: new MemoryKeyStore(), proxy: hostile.addr, user: 'alice', ca: [tls.cert], addKeysToAgent: 'no', prompter: prompter({password: 'pw'}), ...quiet}),
          (e: unknown) => e instanceof UserError && c.message.test(e.message),
        )
      } finally {
        await hostile.close()
      }
    })
  }
})
