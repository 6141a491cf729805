import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {connect} from 'node:tls'
import {promisify} from 'node:util'
import {after, before, describe, test} from 'node:test'
import {Agent, request} from 'undici'
import {WebClient} from '../../../src/client/web-client.js'
import {LimitExceededError} from '../../../src/lib/errors.js'
import {generateKeyPair} from '../../../src/sshca/index.js'
import {openIdle, untilClosed} from '../../helpers/idle-connections.js'
import {startTestCluster, type TestCluster} from './helpers.js'

// The web port's defences: TLS 1.2 with AEAD suites only (checked with openssl s_client), HSTS
// only with a certificate browsers can verify, request deadlines that cover bodies, and password
// logins refused per address (429) before the auth server spends bcrypt on them.

const run = promisify(execFile)

/** Whether openssl completes a TLS 1.2 handshake offering only `cipher`. */
async function handshakes(port: number, cipher: string): Promise<boolean> {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-tls1_2', '-cipher', cipher]
  const stdout = await new Promise<string>((resolve) => {
    // s_client quits when its stdin ends; it exits non-zero when the handshake fails.
    const child = execFile('openssl', args, {timeout: 20_000}, (err, out) => resolve(err ? '' : out))
    child.stdin?.end()
  })
  return stdout.includes(`Cipher is ${cipher}`)
}

/** A CA and an RSA server certificate it signed, for localhost and 127.0.0.1. */
async function caSignedPair(dir: string): Promise<{ca: string; keyFile: string; certFile: string}> {
  const file = (name: string) => path.join(dir, name)
  writeFileSync(file('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n')
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=Test CA'])
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('web.key'), '-out', file('web.csr'), '-subj', '/CN=localhost'])
  await run('openssl', ['x509', '-req', '-in', file('web.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('web.pem'), '-days', '2', '-extfile', file('san.ext')])
  return {ca: readFileSync(file('ca.pem'), 'utf8'), keyFile: file('web.key'), certFile: file('web.pem')}
}

describe('proxy web port limits', {timeout: 180_000}, () => {
  let cluster: TestCluster

  before(async () => {
    cluster = await startTestCluster()
  })
  after(async () => {
    await cluster?.close()
  })

  test('self-signed (ECDSA): TLS 1.2 CBC-SHA1 refused, AES-GCM accepted; no HSTS', async () => {
    const port = cluster.proxy.webAddress.port
    assert.equal(await handshakes(port, 'ECDHE-ECDSA-AES128-SHA'), false)
    assert.equal(await handshakes(port, 'ECDHE-ECDSA-AES256-SHA384'), false)
    assert.equal(await handshakes(port, 'ECDHE-ECDSA-AES128-GCM-SHA256'), true)
    const res = await cluster.web('GET', '/v1/webapi/ping')
    assert.equal(res.status, 200)
    assert.equal(res.headers['strict-transport-security'], undefined)
  })

  test('a CA-signed certificate (RSA): CBC-SHA1 refused, GCM accepted; HSTS on every answer', async () => {
    const pair = await caSignedPair(cluster.dataDir)
    await cluster.restartProxy({httpsKeyPairs: [{keyFile: pair.keyFile, certFile: pair.certFile}]})
    const port = cluster.proxy.webAddress.port
    assert.equal(await handshakes(port, 'ECDHE-RSA-AES128-SHA'), false)
    assert.equal(await handshakes(port, 'ECDHE-RSA-AES128-GCM-SHA256'), true)
    const agent = new Agent({connect: {ca: pair.ca}})
    try {
      for (const [method, urlPath] of [['GET', '/v1/webapi/ping'], ['GET', '/nope'], ['GET', '/web/invite/0123']] as const) {
        const res = await request(`https://localhost:${port}${urlPath}`, {method, dispatcher: agent})
        await res.body.text()
        assert.equal(res.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains', urlPath)
      }
    } finally {
      await agent.close()
    }
  })

  // (the test's own timeout is under the old 60 s default: a deadline not configured fails it)
  test('a request body trickled past the request deadline is cut off (408), quietly', {timeout: 30_000}, async () => {
    await cluster.restartProxy({webTimeouts: {headersMs: 1_000, requestMs: 1_500}})
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect({host: '127.0.0.1', port: cluster.proxy.webAddress.port, rejectUnauthorized: false}, () => {
        socket.write('POST /v1/webapi/ssh/certs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{')
        const trickle = setInterval(() => socket.write(' '), 100)
        socket.once('close', () => clearInterval(trickle))
      })
      let text = ''
      socket.on('data', (d: Buffer) => (text += d.toString()))
      socket.on('close', () => resolve(text))
      socket.on('error', reject)
    })
    assert.match(answer, /^HTTP\/1\.1 408 /)
    assert.deepEqual(cluster.logs.filter((l) => l.includes('/v1/webapi/ssh/certs')), [], 'a cut-off body is not a proxy error')
  })

  test('idle connections: past the per-source caps (5 in their TLS handshake, 2 waiting) closed at once, the rest when no request came in time; one that made a request is not counted', async () => {
    // Long Node timeouts, a short startup deadline: what closes the idle ones here is the limiter.
    await cluster.restartProxy({startupLimits: {graceMs: 4_000, maxPerSource: 5, maxWaitingPerSource: 2}, webTimeouts: {handshakeMs: 60_000, headersMs: 60_000, requestMs: 60_000, keepAliveMs: 60_000}})
    const port = cluster.proxy.webAddress.port
    const active = connect({host: '127.0.0.1', port, rejectUnauthorized: false})
    let activeClosed = false
    active.on('close', () => (activeClosed = true))
    const firstAnswer = new Promise<string>((resolve) => active.once('data', (d: Buffer) => resolve(d.toString())))
    active.write('GET /v1/webapi/ping HTTP/1.1\r\nHost: localhost\r\n\r\n')
    assert.match(await firstAnswer, /^HTTP\/1\.1 200 /)

    const idle = await openIdle(port, 8)
    const held = await untilClosed(idle, 1)
    assert.equal(held.length, 7)
    await Promise.all(held.map((c) => c.closed))
    assert.equal(activeClosed, false)
    active.destroy()
    assert.ok(cluster.logs.some((l) => /WARN \[PROXY\] web proxy: refused \d+ connection\(s\) over the limit/.test(l)), cluster.logs.join('\n'))
  })

  test('16 parallel sign-ins of unknown names: those past the limit get 429 with when to retry', async () => {
    const pubKey = generateKeyPair().publicKey
    const results = await Promise.all(
      Array.from({length: 16}, (_, i) => cluster.web('POST', '/v1/webapi/ssh/certs', {json: {user: `nobody-${i}`, password: 'guess', otp_token: '123456', pub_key: pubKey}})),
    )
    const statuses = results.map((r) => r.status).sort()
    assert.deepEqual(statuses, [...Array(10).fill(403), ...Array(6).fill(429)])
    const limited = results.find((r) => r.status === 429)!
    const {error} = limited.json<{error: {kind: string; message: string}}>()
    assert.equal(error.kind, 'limit-exceeded')
    assert.match(error.message, /^too many login attempts, try again in [1-6] seconds$/)

    // tsh's web client turns the 429 into the same one-line error (a token may have come back meanwhile: try a few).
    const web = new WebClient({proxyAddr: `127.0.0.1:${cluster.proxy.webAddress.port}`, insecure: true})
    try {
      const errors: unknown[] = []
      for (let i = 0; i < 3; i++) errors.push(await web.createSshCert({user: 'nobody', password: 'guess', pub_key: pubKey, ttl: 60e9}).catch((err: unknown) => err))
      assert.ok(errors.some((e) => e instanceof LimitExceededError && /^too many login attempts, try again in \d+ seconds$/.test(e.message)), String(errors))
    } finally {
      await web.close()
    }
  })
})
