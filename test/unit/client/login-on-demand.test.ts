import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {FileKeyStore} from '../../../src/client/key-store.js'
import type {Prompter} from '../../../src/client/login.js'
import {identityOrLogin} from '../../../src/client/login-on-demand.js'
import {LoginRequiredError, saveLogin} from '../../../src/client/profile.js'
import {generateKeyPair} from '../../../src/sshca/index.js'
import {HOST_CA, sampleProfile, selfSignedTls, startFakeProxy, tempDir, userCert, type FakeProxy} from './helpers.js'

// Logging in on demand: the real login sequence against an HTTPS server speaking the proxy's
// web API, with the tsh home on disk and the config file beside it.

const dir = tempDir('tsh-on-demand-')
const tls = selfSignedTls(dir.path)
let proxy: FakeProxy
before(async () => {
  proxy = await startFakeProxy({tls, password: 'pw', otp: '123456'})
})
after(async () => {
  await proxy?.close()
  dir.cleanup()
})

let n = 0
/** A fresh tsh home; with `certAgeMs`, alice is logged in to the proxy with a 1-minute certificate made that long ago. */
function home(opts: {certAgeMs?: number; config?: string} = {}): {env: NodeJS.ProcessEnv; home: string} {
  const tshHome = path.join(dir.path, `home-${++n}`)
  if (opts.certAgeMs !== undefined) {
    const key = generateKeyPair()
    saveLogin(new FileKeyStore(tshHome), {
      profile: sampleProfile({webProxyAddr: proxy.addr}),
      privateKey: key.privateKey,
      publicKey: key.publicKey,
      certificate: userCert({publicKey: key.publicKey, ttlMs: 60_000, now: new Date(Date.now() - opts.certAgeMs)}),
      hostCAs: [HOST_CA.publicKey],
    })
  }
  if (opts.config !== undefined) {
    mkdirSync(path.join(tshHome, 'config'), {recursive: true})
    writeFileSync(path.join(tshHome, 'config', 'config.yaml'), opts.config)
  }
  return {home: tshHome, env: {TELEPORT_HOME: tshHome, TELEPORT_GLOBAL_TSH_CONFIG: path.join(dir.path, 'no-site-config.yaml')}}
}

function prompter(asked: string[]): Prompter {
  return {password: async (m) => (asked.push(m), 'pw'), otp: async (m) => (asked.push(m), '123456')}
}

const quiet = {warn: () => {}, debug: () => {}, ca: [tls.cert]}

describe('login on demand', () => {
  test('an expired certificate: the password and OTP are asked, and the command gets a fresh identity', async () => {
    const h = home({certAgeMs: 5 * 60_000})
    const asked: string[] = []
    const warnings: string[] = []
    const before = proxy.requests.length
    const identity = await identityOrLogin({...h, ...quiet, warn: (l) => warnings.push(l), prompter: prompter(asked)})
    assert.deepEqual(asked, ['Enter password for Teleport user alice:', 'Enter your OTP token:'])
    assert.ok(identity.cert.validBefore!.getTime() > Date.now() + 3600_000)
    assert.equal(identity.profile.user, 'alice')
    assert.equal(proxy.requests.length - before, 2)
    assert.match(warnings[0]!, new RegExp(`^the certificate for alice@127\\.0\\.0\\.1 expired at .*: logging in to ${proxy.addr}$`))
  })

  test('a valid certificate: nothing asked, nothing sent', async () => {
    const h = home({certAgeMs: 0})
    const asked: string[] = []
    const before = proxy.requests.length
    await identityOrLogin({...h, ...quiet, prompter: prompter(asked)})
    assert.deepEqual(asked, [])
    assert.equal(proxy.requests.length, before)
  })

  test('without a terminal: the error that says to run tsh login, and no request', async () => {
    const h = home({certAgeMs: 5 * 60_000})
    const before = proxy.requests.length
    await assert.rejects(identityOrLogin({...h, ...quiet}), (e: unknown) => e instanceof LoginRequiredError && /tsh login --proxy=/.test(e.hint ?? ''))
    assert.equal(proxy.requests.length, before)
  })

  test('never logged in: the config file\'s proxy and user, with its extra headers for that proxy', async () => {
    const h = home({config: `proxy: ${proxy.addr}\nuser: bob\nextra_headers:\n  - proxy: "127.0.0.*"\n    headers: {X-Team: blue}\n  - proxy: "*.example.com"\n    headers: {X-Other: no}\n`})
    const asked: string[] = []
    const before = proxy.requests.length
    const identity = await identityOrLogin({...h, ...quiet, prompter: prompter(asked)})
    assert.equal(identity.profile.user, 'bob')
    assert.deepEqual(asked, ['Enter password for Teleport user bob:', 'Enter your OTP token:'])
    const sent = proxy.requests.slice(before)
    assert.equal(sent.length, 2)
    for (const r of sent) {
      assert.equal(r.headers['x-team'], 'blue')
      assert.equal(r.headers['x-other'], undefined)
    }
  })

  test('never logged in and no proxy anywhere: the not-logged-in error stands', async () => {
    const h = home()
    await assert.rejects(identityOrLogin({...h, ...quiet, prompter: prompter([])}), (e: unknown) => e instanceof LoginRequiredError && e.message === 'Not logged in.')
  })
})
