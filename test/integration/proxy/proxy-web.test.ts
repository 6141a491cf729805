import assert from 'node:assert/strict'
import {X509Certificate, createPublicKey} from 'node:crypto'
import {statSync} from 'node:fs'
import {connect} from 'node:tls'
import {after, before, describe, test} from 'node:test'
import {generateTotpCode} from '../../../src/services/index.js'
import {generateKeyPair, loadPrivateKey, parseCert} from '../../../src/sshca/index.js'
import {webCertificatePaths} from '../../../src/daemon/proxy/web-certificate.js'
import {CLUSTER, acceptUserToken, readUserToken, redeemUserToken, startTestCluster, tokenOf, type TestCluster} from './helpers.js'

// The proxy's HTTPS side against a real auth service: ping, password + TOTP login, host
// registration, and invite/reset links through the web API as the UI's page follows them, with
// the TOTP code computed from the secret the API gives.

const PASSWORD = 'correct horse battery'

/** A code valid now but not the one given (the enrolment code may not be replayed at login). */
function codeAt(secret: string, offsetMs = 0): string {
  return generateTotpCode(secret, Date.now() + offsetMs)
}

function wrongCode(secret: string): string {
  const valid = new Set([-30_000, 0, 30_000].map((o) => codeAt(secret, o)))
  for (let n = 123456; ; n++) if (!valid.has(String(n))) return String(n)
}

/** Creates a user and sets the password (and TOTP) through the invite link; returns the TOTP secret. */
async function inviteAndRedeem(cluster: TestCluster, name: string, logins: string[]): Promise<string> {
  const {invite} = await cluster.admin.createUser({name, roles: ['access'], traits: {logins}})
  return acceptUserToken(cluster.caller, invite.url, PASSWORD)
}

describe('proxy web (HTTPS)', {timeout: 120_000}, () => {
  let cluster: TestCluster

  before(async () => {
    cluster = await startTestCluster()
  })
  after(async () => {
    await cluster?.close()
  })

  test('serves a self-signed ECDSA certificate kept 0600 in <data_dir>/proxy, naming loopback and the nodename', async () => {
    const files = webCertificatePaths(cluster.dataDir)
    assert.equal(statSync(files.key).mode & 0o777, 0o600)
    assert.equal(statSync(files.cert).mode & 0o777, 0o600)
    const kept = new X509Certificate(cluster.webCertificate())
    assert.equal(kept.publicKey.asymmetricKeyType, 'ec')
    for (const name of ['DNS:localhost', 'IP Address:127.0.0.1', 'DNS:proxy-1']) assert.ok(kept.subjectAltName?.includes(name), kept.subjectAltName)
    const served = await new Promise<X509Certificate>((resolve, reject) => {
      const socket = connect({host: '127.0.0.1', port: cluster.proxy.webAddress.port, rejectUnauthorized: false}, () => {
        resolve(socket.getPeerX509Certificate()!)
        socket.end()
      })
      socket.on('error', reject)
    })
    assert.equal(served.fingerprint256, kept.fingerprint256)
  })

  test('GET /v1/webapi/ping: auth type, second factor, SSH addresses, version, cluster and CA pins', async () => {
    const res = await cluster.web('GET', '/v1/webapi/ping')
    assert.equal(res.status, 200)
    const ping = res.json<{auth: {type: string; second_factor: string}; proxy: {ssh: {listen_addr: string; public_addr: string}}; server_version: string; cluster_name: string; ca_pins: string[]}>()
    const sshPort = cluster.proxy.sshAddress.port
    assert.deepEqual(ping.auth, {type: 'local', second_factor: 'otp'})
    assert.deepEqual(ping.proxy.ssh, {listen_addr: `127.0.0.1:${sshPort}`, public_addr: `127.0.0.1:${sshPort}`})
    assert.equal(ping.cluster_name, CLUSTER)
    assert.match(ping.server_version, /^\d+\.\d+\.\d+/)
    assert.deepEqual(ping.ca_pins, (await cluster.admin.ping()).caPins)
    assert.equal(res.headers['cache-control'], 'no-store')
    assert.match(String(res.headers['content-type']), /^application\/json/)
  })

  test('unknown paths are a JSON 404; wrong methods 405; bodies are JSON and size-limited', async () => {
    const missing = await cluster.web('GET', '/nope')
    assert.equal(missing.status, 404)
    assert.deepEqual(missing.json(), {error: {message: 'not found'}})
    assert.equal((await cluster.web('GET', '/v1/webapi/ssh/certs')).status, 405)
    assert.equal((await cluster.web('POST', '/v1/webapi/ssh/certs', {raw: {type: 'text/plain', data: '{}'}})).status, 415)
    assert.equal((await cluster.web('POST', '/v1/webapi/ssh/certs', {raw: {type: 'application/json', data: '{not json'}})).status, 400)
    const huge = await cluster.web('POST', '/v1/webapi/ssh/certs', {json: {user: 'x', password: 'y'.repeat(100_000)}})
    assert.equal(huge.status, 413)
  })

  test('invite link: user, expiry, TOTP secret, otpauth URL and QR code; refused redemptions keep the link usable', async () => {
    const {invite} = await cluster.admin.createUser({name: 'alice', roles: ['access'], traits: {logins: ['alice', 'root']}})
    const token = tokenOf(invite.url)

    const read = await readUserToken(cluster.caller, token)
    assert.equal(read.status, 200, read.text)
    const view = read.view!
    assert.equal(view.kind, 'invite')
    assert.equal(view.user, 'alice')
    assert.ok(Date.parse(view.expires) > Date.now())
    const secret = view.totp.secret
    assert.equal((await cluster.admin.getUserToken(token)).totp.secret, secret)
    assert.match(view.totp.otpauth_url, new RegExp(`^otpauth://totp/.*secret=${secret}`))
    assert.match(view.totp.qr_svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"[\s\S]*<\/svg>\s*$/)
    assert.ok(!view.totp.qr_svg.includes('<script'), 'a QR code is only shapes')

    const redeem = (body: {password: string; second_factor_token?: string}) => redeemUserToken(cluster.caller, {token, ...body})
    const short = await redeem({password: 'abc', second_factor_token: codeAt(secret)})
    assert.equal(short.status, 400)
    assert.match(short.text, /between 6 and 128 characters/)
    const noCode = await redeem({password: PASSWORD})
    assert.equal(noCode.status, 400)
    assert.match(noCode.text, /6-digit code/)
    const badCode = await redeem({password: PASSWORD, second_factor_token: wrongCode(secret)})
    assert.equal(badCode.status, 403)
    assert.match(badCode.text, /invalid one-time password code/i)
    assert.equal((await readUserToken(cluster.caller, token)).status, 200, 'the link still works after refused attempts')

    const done = await redeem({password: PASSWORD, second_factor_token: codeAt(secret)})
    assert.equal(done.status, 200, done.text)
    assert.deepEqual(JSON.parse(done.text), {user: 'alice'})

    const used = await readUserToken(cluster.caller, token)
    assert.equal(used.status, 404)
    assert.match(used.text, /invalid, has expired or was already used/)
    assert.equal((await redeem({password: PASSWORD, second_factor_token: codeAt(secret, 30_000)})).status, 404)
    assert.equal((await readUserToken(cluster.caller, 'not-a-token')).status, 404)

    for (const line of cluster.logs) {
      assert.ok(!line.includes(token) && !line.includes(PASSWORD) && !line.includes(secret), `secret in log line: ${line}`)
    }
  })

  test('POST /v1/webapi/ssh/certs: password + TOTP give a certificate with the user\'s logins', async () => {
    const secret = await inviteAndRedeem(cluster, 'dave', ['dave', 'ubuntu'])

    const key = generateKeyPair()
    const res = await cluster.web('POST', '/v1/webapi/ssh/certs', {
      json: {user: 'dave', password: PASSWORD, otp_token: codeAt(secret, 30_000), pub_key: key.publicKey, ttl: 3600 * 1e9},
    })
    assert.equal(res.status, 200, res.text)
    const body = res.json<{username: string; cert: string; tls_cert: string; host_signers: Array<{domain_name: string; checking_keys: string[]; tls_certs?: string[]}>}>()
    assert.equal(body.username, 'dave')
    const cert = parseCert(body.cert)
    assert.equal(cert.type, 'user')
    assert.equal(cert.keyId, 'dave')
    assert.deepEqual([...cert.principals].sort(), ['dave', 'ubuntu'])
    assert.equal((cert.validBefore!.getTime() - cert.validAfter.getTime()) / 1000, 3600 + 60)
    const cas = await cluster.admin.getCAKeys()
    assert.deepEqual(body.host_signers, [{domain_name: CLUSTER, checking_keys: cas.host, tls_certs: cas.tls}])
    // The same identity as X.509 on the same key, signed by the TLS user CA, with the same TTL.
    const x509 = new X509Certificate(body.tls_cert)
    assert.ok(x509.verify(new X509Certificate(cas.tls![0]!).publicKey))
    assert.ok(x509.publicKey.export({format: 'der', type: 'spki'}).equals(createPublicKey(loadPrivateKey(key.privateKey)).export({format: 'der', type: 'spki'})))
    assert.match(x509.subject, /^CN=dave$/m)
    assert.equal((new Date(x509.validTo).getTime() - new Date(x509.validFrom).getTime()) / 1000, 3600 + 60)

    const logins = (await cluster.admin.searchEvents({from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000), types: ['user.login']})).events
    assert.ok(logins.some((e) => e.user === 'dave' && e.code === 'T1000I' && e['addr.remote'] === '127.0.0.1'), 'the login is audited with the HTTP client\'s address')
  })

  test('wrong password: 403 with the auth server\'s message; the 6th attempt is refused as locked', async () => {
    const secret = await inviteAndRedeem(cluster, 'carol', ['carol'])
    const key = generateKeyPair()
    const login = (password: string) => cluster.web('POST', '/v1/webapi/ssh/certs', {json: {user: 'carol', password, otp_token: codeAt(secret, 30_000), pub_key: key.publicKey}})
    for (let i = 0; i < 5; i++) {
      const res = await login('wrong password')
      assert.equal(res.status, 403)
      assert.equal(res.json<{error: {message: string}}>().error.message, 'invalid username, password or second factor')
    }
    const locked = await login(PASSWORD)
    assert.equal(locked.status, 403)
    assert.match(locked.json<{error: {message: string}}>().error.message, /^user "carol" is locked until .+ after too many failed login attempts$/)
  })

  test('POST /v1/webapi/host/credentials: a join token buys a host certificate; a bad token is 403', async () => {
    const {token} = await cluster.admin.addToken({roles: ['node'], ttlMs: 5 * 60_000})
    const key = generateKeyPair()
    const request = {token, hostID: '0d9b1c1e-5a0f-4a53-9d1e-0123456789ab', node_name: 'node-7', role: 'node', public_ssh_key: key.publicKey, additional_principals: ['node-7.lan']}
    const res = await cluster.web('POST', '/v1/webapi/host/credentials', {json: request})
    assert.equal(res.status, 200, res.text)
    const body = res.json<{cert: string; host_ca_keys: string[]; user_ca_keys: string[]; cluster_name: string}>()
    const cert = parseCert(body.cert)
    assert.equal(cert.type, 'host')
    assert.equal(cert.hostRole, 'Node')
    assert.equal(cert.keyId, request.hostID)
    assert.ok(cert.principals.includes('node-7') && cert.principals.includes('node-7.lan'))
    const cas = await cluster.admin.getCAKeys()
    assert.deepEqual(body.host_ca_keys, cas.host)
    assert.deepEqual(body.user_ca_keys, cas.user)
    assert.equal(body.cluster_name, CLUSTER)

    const bad = await cluster.web('POST', '/v1/webapi/host/credentials', {json: {...request, token: 'f'.repeat(32)}})
    assert.equal(bad.status, 403)
    assert.match(bad.json<{error: {message: string}}>().error.message, /unknown join token/)
    const wrongRole = await cluster.web('POST', '/v1/webapi/host/credentials', {json: {...request, role: 'auth'}})
    assert.equal(wrongRole.status, 400)
  })

  test('reset link: sets a new password and TOTP device', async () => {
    const reset = await cluster.admin.resetUser('alice')
    assert.equal((await readUserToken(cluster.caller, tokenOf(reset.url))).view?.kind, 'reset')
    const newPassword = 'a brand new password'
    const secret = await acceptUserToken(cluster.caller, reset.url, newPassword)
    const key = generateKeyPair()
    const login = await cluster.web('POST', '/v1/webapi/ssh/certs', {json: {user: 'alice', password: newPassword, otp_token: codeAt(secret, 30_000), pub_key: key.publicKey}})
    assert.equal(login.status, 200, login.text)
  })

  test('a restart reuses the certificate and loses nothing', async () => {
    const before = cluster.webCertificate()
    await cluster.restartProxy()
    assert.equal(cluster.webCertificate(), before)
    const res = await cluster.web('GET', '/v1/webapi/ping')
    assert.equal(res.status, 200)
    assert.ok(cluster.logs.some((l) => l.includes('Web proxy service is starting on https://127.0.0.1:')))
    assert.ok(cluster.logs.some((l) => l.includes('SSH proxy service is starting on 127.0.0.1:')))
  })
})

describe('proxy web with second_factor: off', {timeout: 60_000}, () => {
  let cluster: TestCluster
  before(async () => {
    cluster = await startTestCluster({secondFactor: 'off'})
  })
  after(async () => {
    await cluster?.close()
  })

  test('an invite link with password alone sets up the account and logs in', async () => {
    const {invite} = await cluster.admin.createUser({name: 'erin', roles: ['access'], traits: {logins: ['erin']}})
    await acceptUserToken(cluster.caller, invite.url, PASSWORD, {otp: false})
    assert.equal((await cluster.web('GET', '/v1/webapi/ping')).json<{auth: {second_factor: string}}>().auth.second_factor, 'off')
    const key = generateKeyPair()
    const login = await cluster.web('POST', '/v1/webapi/ssh/certs', {json: {user: 'erin', password: PASSWORD, pub_key: Buffer.from(key.publicKey).toString('base64')}})
    assert.equal(login.status, 200, login.text)
    assert.deepEqual(parseCert(login.json<{cert: string}>().cert).principals, ['erin'])
  })
})
