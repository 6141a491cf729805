// Fixtures for the tsh client tests: temp tsh homes, certificates from a throwaway CA, a TLS
// certificate made by openssl, and a small HTTPS server speaking the proxy's web API shapes
// (GET /v1/webapi/ping, POST /v1/webapi/ssh/certs).

import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import type http from 'node:http'
import https from 'node:https'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {generateKeyPair, signUserCert} from '../../../src/sshca/index.js'
import type {Profile} from '../../../src/client/profile.js'

export function tempDir(prefix = 'tsh-test-'): {path: string; cleanup: () => void} {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return {path, cleanup: () => rmSync(path, {recursive: true, force: true})}
}

export const USER_CA = generateKeyPair('user-ca')
export const HOST_CA = generateKeyPair('host-ca')

export function userCert(opts: {publicKey: string; user?: string; ttlMs?: number; now?: Date; roles?: string[]; logins?: string[]; cluster?: string}): string {
  return signUserCert({
    caPrivateKey: USER_CA.privateKey,
    publicKey: opts.publicKey,
    keyId: opts.user ?? 'alice',
    principals: opts.logins ?? ['root', 'alice'],
    ttlMs: opts.ttlMs ?? 12 * 3600_000,
    ...(opts.now ? {now: opts.now} : {}),
    permitAgentForwarding: true,
    permitPortForwarding: true,
    roles: opts.roles ?? ['editor', 'access'],
    traits: {logins: opts.logins ?? ['root', 'alice']},
    routeToCluster: opts.cluster ?? 'example.com',
  })
}

export function sampleProfile(overrides: Partial<Profile> = {}): Profile {
  return {
    webProxyAddr: 'proxy.example.com:3080',
    sshProxyAddr: 'proxy.example.com:3023',
    user: 'alice',
    cluster: 'example.com',
    authType: 'local',
    forwardPorts: [],
    dynamicForwardPorts: [],
    ...overrides,
  }
}

/** A self-signed ECDSA certificate for localhost / 127.0.0.1, made by openssl. */
export function selfSignedTls(dir: string): {key: string; cert: string; certPath: string} {
  const keyPath = join(dir, 'tls.key')
  const certPath = join(dir, 'tls.crt')
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ], {stdio: 'ignore'})
  return {key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), certPath}
}

export interface CertsRequestBody {
  user: string
  password: string
  otp_token?: string
  pub_key: string
  ttl: number
}

export interface FakeProxy {
  port: number
  addr: string
  requests: {method: string; url: string; body?: CertsRequestBody; headers: http.IncomingHttpHeaders}[]
  close: () => Promise<void>
}

/**
 * The proxy's web API in a few lines: ping answers with `secondFactor`; certs accepts
 * `password` (and `otp` when given) and signs the key with USER_CA; anything else is a 403
 * {error: {message}} like the real proxy's.
 */
export async function startFakeProxy(opts: {tls: {key: string; cert: string}; password: string; otp?: string; secondFactor?: string; cluster?: string; sshPort?: number; logins?: string[]}): Promise<FakeProxy> {
  const requests: FakeProxy['requests'] = []
  const cluster = opts.cluster ?? 'example.com'
  const server = https.createServer({key: opts.tls.key, cert: opts.tls.cert}, (req, res) => {
    let text = ''
    req.on('data', (d: Buffer) => (text += d.toString()))
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, {'content-type': 'application/json'})
        res.end(JSON.stringify(body))
      }
      if (req.method === 'GET' && req.url === '/v1/webapi/ping') {
        requests.push({method: 'GET', url: req.url, headers: req.headers})
        return reply(200, {
          auth: {type: 'local', second_factor: opts.secondFactor ?? 'otp'},
          proxy: {ssh: {listen_addr: `0.0.0.0:${opts.sshPort ?? 3023}`}},
          server_version: '0.1.0',
          cluster_name: cluster,
          ca_pins: [],
        })
      }
      if (req.method === 'POST' && req.url === '/v1/webapi/ssh/certs') {
        const body = JSON.parse(text) as CertsRequestBody
        requests.push({method: 'POST', url: req.url, body, headers: req.headers})
        if (body.password !== opts.password || (opts.otp !== undefined && body.otp_token !== opts.otp)) {
          return reply(403, {error: {message: 'invalid username, password or second factor'}})
        }
        const cert = userCert({publicKey: body.pub_key, user: body.user, ttlMs: Math.floor(body.ttl / 1e6), cluster, ...(opts.logins ? {logins: opts.logins} : {})})
        return reply(200, {username: body.user, cert, host_signers: [{domain_name: cluster, checking_keys: [HOST_CA.publicKey]}]})
      }
      reply(404, {error: {message: 'not found'}})
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    port,
    addr: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
