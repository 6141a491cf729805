import type {SessionRecordingMode} from '../../../src/api/auth-api.js'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import ssh2 from 'ssh2'
import type {ClientChannel} from 'ssh2'
import {Agent, request} from 'undici'
import {startTestAuth} from '../../helpers/auth.js'
import {memoryLogger} from '../../helpers/memory-logger.js'
import type {AuthApi} from '../../../src/api/auth-api.js'
import {AuthApiClient} from '../../../src/api/auth-api-client.js'
import type {RunningAuthService} from '../../../src/daemon/auth/auth-service.js'
import {localAccess} from '../../../src/daemon/auth/local-access.js'
import {startProxyService, type ProxyServiceOptions, type RunningProxyService} from '../../../src/daemon/proxy/proxy-service.js'
import {webCertificatePaths} from '../../../src/daemon/proxy/web-certificate.js'
import type {WebCaller} from '../../helpers/invite-page.js'
import type {SecondFactor} from '../../../src/services/index.js'
import {parseCert} from '../../../src/sshca/index.js'
import {certAuthOptions, hostCertVerifier} from '../../../src/ssh/index.js'
import type {Clock} from '../../../src/lib/clock.js'
import type {ReverseTunnelServer} from '../../../src/daemon/proxy/tunnel-server.js'

// A real cluster for the proxy's tests: the auth service on a temp data dir (port 0), and the
// proxy service in the same process with a Proxy host identity issued by that auth server, as
// the one-process cluster does. Everything over real sockets on 127.0.0.1.

export {acceptUserToken, readUserToken, redeemUserToken, tokenOf, type WebCaller} from '../../helpers/invite-page.js'
export {memoryLogger}
export const CLUSTER = 'example.com'

export interface TestCluster {
  dataDir: string
  auth: RunningAuthService
  admin: AuthApi
  proxy: RunningProxyService
  /** The proxy's own auth API client (closed by close()). */
  proxyApi: AuthApi
  proxyIdentity: {privateKey: string; certificate: string; hostCAs: string[]}
  logs: string[]
  /** The proxy's self-signed certificate (PEM), to verify HTTPS against. */
  webCertificate(): string
  web(method: string, urlPath: string, body?: {json?: unknown; form?: Record<string, string>; raw?: {type: string; data: string}; headers?: Record<string, string>}): Promise<WebResponse>
  /** The same as a WebCaller (JSON bodies). */
  caller: WebCaller
  restartProxy(overrides?: Partial<ProxyServiceOptions>): Promise<void>
  close(): Promise<void>
}

export interface WebResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json<T = Record<string, unknown>>(): T
}

export async function startTestCluster(options: {secondFactor?: SecondFactor; webAssetsDir?: string; authClock?: Clock; sessionRecording?: SessionRecordingMode} = {}): Promise<TestCluster> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'proxy-test-'))
  const logs: string[] = []
  const {auth, admin} = await startTestAuth(dataDir, {clusterName: CLUSTER, secondFactor: options.secondFactor ?? 'otp', log: (line) => logs.push(`AUTH ${line}`), ...(options.authClock ? {clock: options.authClock} : {}), ...(options.sessionRecording ? {sessionRecording: options.sessionRecording} : {})})
  // As the one-process cluster does: the auth server issues the proxy's identity in-process.
  const access = await localAccess(auth, {role: 'Proxy', dataDir, nodeName: 'proxy-1'})
  const proxyIdentity = {...access.identity, hostCAs: await auth.auth.caKeys('host')}
  const proxyApi = access.authApi

  const proxyOptions = (): ProxyServiceOptions => ({
    dataDir,
    nodeName: 'proxy-1',
    webListen: {host: '127.0.0.1', port: 0},
    sshListen: {host: '127.0.0.1', port: 0},
    cluster: access,
    log: memoryLogger({component: 'PROXY', lines: logs}),
    ...(options.webAssetsDir ? {webAssetsDir: options.webAssetsDir} : {}),
  })
  let proxy = await startProxyService(proxyOptions())
  let agent = new Agent({connect: {ca: readFileSync(webCertificatePaths(dataDir).cert, 'utf8')}})

  const cluster: TestCluster = {
    dataDir,
    auth,
    admin,
    get proxy() {
      return proxy
    },
    proxyApi,
    proxyIdentity,
    logs,
    webCertificate: () => readFileSync(webCertificatePaths(dataDir).cert, 'utf8'),
    async web(method, urlPath, body) {
      let payload: string | undefined
      const headers: Record<string, string> = {...body?.headers}
      if (body?.json !== undefined) {
        payload = JSON.stringify(body.json)
        headers['content-type'] = 'application/json'
      } else if (body?.form) {
        payload = new URLSearchParams(body.form).toString()
        headers['content-type'] = 'application/x-www-form-urlencoded'
      } else if (body?.raw) {
        payload = body.raw.data
        headers['content-type'] = body.raw.type
      }
      const response = await request(`https://127.0.0.1:${proxy.webAddress.port}${urlPath}`, {method: method as 'GET', headers, body: payload, dispatcher: agent})
      const text = await response.body.text()
      return {status: response.statusCode, headers: response.headers, text, json: <T>() => JSON.parse(text) as T}
    },
    caller: async (method, urlPath, json) => cluster.web(method, urlPath, json === undefined ? undefined : {json}),
    async restartProxy(overrides = {}) {
      await proxy.close()
      await agent.close()
      proxy = await startProxyService({...proxyOptions(), ...overrides})
      agent = new Agent({connect: {ca: readFileSync(webCertificatePaths(dataDir).cert, 'utf8')}})
    },
    async close() {
      await proxy.close().catch(() => {})
      await agent.close().catch(() => {})
      await proxyApi.close().catch(() => {})
      await admin.close().catch(() => {})
      await auth.close().catch(() => {})
      rmSync(dataDir, {recursive: true, force: true})
    },
  }
  return cluster
}

/** The 32-hex token at the end of an invite/reset URL. */
export interface SubsystemResult {
  stdout: Buffer
  stderr: string
  exitCode: number | undefined
}

export interface UserCredentials {
  username: string
  privateKey: string
  certificate: string
}

/** An SSH connection to the proxy (host certificate checked against the cluster's host CA). */
export function connectToProxy(port: number, credentials: UserCredentials, hostCAs: string[]): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client()
    const verifier = hostCertVerifier({trustedHostCAs: hostCAs, hostname: '127.0.0.1'})
    client.once('ready', () => resolve(client))
    client.once('error', (err) => reject(verifier.explain(err)))
    // Hosts (nodes that joined through the proxy) log in with their host certificate.
    const auth = parseCert(credentials.certificate).type === 'user' ? certAuthOptions(credentials) : {...credentials, authHandler: ['publickey' as const]}
    client.connect({host: '127.0.0.1', port, readyTimeout: 20_000, ...verifier.connectOptions(), ...auth})
  })
}

export function openSubsystem(client: ssh2.Client, name: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => client.subsys(name, (err, channel) => (err ? reject(err) : resolve(channel))))
}

/** Runs a subsystem to its end, writing `input` (then EOF), collecting output and exit status. */
/** Opens the subsystem and collects its output; listening starts in ssh2's callback, so even an
 * exit status in the same packet as the channel confirmation is seen. */
export function runSubsystem(client: ssh2.Client, name: string, input?: Buffer | string): Promise<SubsystemResult> {
  return new Promise((resolve, reject) => client.subsys(name, (err, channel) => (err ? reject(err) : resolve(collect(channel, input)))))
}

export function collect(channel: ClientChannel, input?: Buffer | string): Promise<SubsystemResult> {
  return new Promise((resolve) => {
    const out: Buffer[] = []
    let stderr = ''
    let exitCode: number | undefined
    channel.on('data', (d: Buffer) => out.push(d))
    channel.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    channel.on('exit', (code: number) => (exitCode = code))
    channel.on('close', () => resolve({stdout: Buffer.concat(out), stderr, exitCode}))
    if (input !== undefined) channel.end(input)
  })
}

/** Writes `text` to the node `nodeId` through its reverse tunnel and resolves with the first answer (an echo). */
export async function tunnelRoundTrip(server: ReverseTunnelServer, nodeId: string, text: string): Promise<string> {
  const stream = await server.dial(nodeId, {host: '192.0.2.9', port: 4242})
  return new Promise((resolve, reject) => {
    stream.once('data', (d: Buffer) => {
      stream.destroy()
      resolve(d.toString())
    })
    stream.once('error', reject)
    stream.write(text)
  })
}
