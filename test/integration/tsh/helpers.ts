// A one-process cluster for the tsh tests (auth, proxy and nodes in this process, on 127.0.0.1
// with port 0), a user logged in by writing a tsh profile with the client library into a temp
// TELEPORT_HOME, and the real bin/tsh run as separate processes against it.
//
// The servers live in this process, so tsh must be run asynchronously (spawnSync would block the
// event loop the servers need).

import {spawn, type ChildProcess, type SpawnOptions} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir, userInfo} from 'node:os'
import path from 'node:path'
import {startTestAuth} from '../../helpers/auth.js'
import {ApiClient} from '../../../src/api/client.js'
import type {AuthApi} from '../../../src/api/auth-api.js'
import {AuthApiClient} from '../../../src/api/auth-api-client.js'
import {FileKeyStore} from '../../../src/client/key-store.js'
import {saveLogin} from '../../../src/client/profile.js'
import type {AuthServiceConfig, RunningAuthService} from '../../../src/daemon/auth/auth-service.js'
import {localAccess, type LocalAccess} from '../../../src/daemon/auth/local-access.js'
import {startNodeService, type RunningNodeService} from '../../../src/daemon/node/node-service.js'
import {startProxyService, type RunningProxyService} from '../../../src/daemon/proxy/proxy-service.js'
import {eventually as eventuallyWithin, type PollCheck} from '../../helpers/eventually.js'
import {memoryLogger} from '../../helpers/memory-logger.js'
import {generateKeyPair, parseCert, signUserCert} from '../../../src/sshca/index.js'
import {repoRoot, run, type RunOptions, type RunResult} from '../../helpers/cli.js'

export {run, type RunOptions, type RunResult}

export const CLUSTER = 'example.com'
export const TSH = path.join(repoRoot, 'bin', 'tsh')
export const TIMEOUT_MS = 60_000
/**
 * The OS login the tests use: whoever runs them. A node not running as root may only start
 * sessions as its own user, so this works as root and as anyone else.
 */
export const LOGIN = userInfo().username
export const LOGIN_HOME = userInfo().homedir

/** The shared eventually, with this suite's longer deadline (whole clusters start here). */
export function eventually<T>(check: PollCheck<T>, what: string): Promise<T> {
  return eventuallyWithin(check, what, {timeoutMs: TIMEOUT_MS})
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `tp-tsh-${prefix}-`))
}

export interface NodeSpec {
  name: string
  labels?: Record<string, string>
}

export interface RunningTestNode {
  spec: NodeSpec
  hostUuid: string
  service: RunningNodeService
  api: AuthApi
  dataDir: string
}

export interface TshCluster {
  dataDir: string
  auth: RunningAuthService
  admin: AuthApi
  proxy: RunningProxyService
  nodes: RunningTestNode[]
  /** A TELEPORT_HOME for each user logged in with login(). */
  homes: string[]
  /** Logs `user` in: a fresh key, a certificate from auth, the profile written by the tsh library. Returns TELEPORT_HOME. */
  login(user: string, options?: {ttlMs?: number; expired?: boolean; agentOnly?: string}): Promise<string>
  close(): Promise<void>
}

/** `auth`: auth_service settings the cluster runs with (session_recording, proxy_checks_host_keys). */
export async function startTshCluster(nodeSpecs: NodeSpec[], options: {auth?: Pick<AuthServiceConfig, 'sessionRecording' | 'proxyChecksHostKeys'>} = {}): Promise<TshCluster> {
  const dataDir = tempDir('auth')
  const log = memoryLogger({component: 'TEST'})
  const {auth, admin} = await startTestAuth(dataDir, {clusterName: CLUSTER, proxyPublicAddr: '127.0.0.1:3080', log: (line) => log.debug(line), ...options.auth})
  const access: LocalAccess = await localAccess(auth, {role: 'Proxy', dataDir, nodeName: 'proxy-1'})
  const proxy = await startProxyService({
    dataDir,
    nodeName: 'proxy-1',
    webListen: {host: '127.0.0.1', port: 0},
    sshListen: {host: '127.0.0.1', port: 0},
    cluster: access,
    log: log.child('PROXY'),
  })
  const hostCAs = await auth.auth.caKeys('host')
  const nodes: RunningTestNode[] = []
  for (const spec of nodeSpecs) {
    const hostUuid = randomUUID()
    const key = generateKeyPair()
    const certificate = await auth.auth.issueHostCert({hostId: hostUuid, nodeName: spec.name, role: 'Node', publicKey: key.publicKey})
    const identity = {privateKey: key.privateKey, certificate, hostCAs}
    const api = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: auth.address.port, credentials: identity, trust: {hostCAs}}))
    const nodeData = tempDir('node')
    const service = await startNodeService({
      dataDir: nodeData,
      nodeName: spec.name,
      listen: {host: '127.0.0.1', port: 0},
      labels: spec.labels ?? {},
      log: log.child(spec.name),
      cluster: {identity, authApi: api},
    })
    nodes.push({spec, hostUuid, service, api, dataDir: nodeData})
  }
  // Every node announced before the tests look for them.
  await eventually(async () => {
    const listed = await admin.listNodes()
    return nodes.every((n) => listed.some((l) => l.name === n.hostUuid))
  }, 'the nodes to register')

  const homes: string[] = []
  const recordingProxy = options.auth?.sessionRecording === 'proxy' || options.auth?.sessionRecording === 'proxy-sync'
  const cluster: TshCluster = {
    dataDir,
    auth,
    admin,
    proxy,
    nodes,
    homes,
    async login(user, options = {}) {
      const home = tempDir('home')
      homes.push(home)
      const key = generateKeyPair()
      const signed = await admin.signUserCert({username: user, publicKey: key.publicKey, ttlMs: options.ttlMs ?? 3600_000})
      if (options.expired) {
        // Same key, same shape, but valid only for an hour that ended an hour ago.
        const cert = parseCert(signed.certificate)
        signed.certificate = signUserCert({
          caPrivateKey: generateKeyPair().privateKey,
          publicKey: key.publicKey,
          keyId: user,
          principals: cert.principals,
          ttlMs: 3600_000,
          now: new Date(Date.now() - 2 * 3600_000),
          roles: cert.roles,
          traits: cert.traits,
          routeToCluster: CLUSTER,
        })
      }
      if (options.agentOnly) {
        // As `tsh login --add-keys-to-agent=only`: key and certificate in the agent, no key on disk.
        const keyFile = path.join(home, 'agent-only-key')
        writeFileSync(keyFile, key.privateKey, {mode: 0o600})
        writeFileSync(`${keyFile}-cert.pub`, signed.certificate.trim() + '\n')
        const added = await run('ssh-add', ['-q', keyFile], {env: {SSH_AUTH_SOCK: options.agentOnly}})
        if (added.code !== 0) throw new Error(`ssh-add: ${added.stderr}`)
        rmSync(keyFile)
        rmSync(`${keyFile}-cert.pub`)
      }
      saveLogin(new FileKeyStore(home), {
        profile: {
          webProxyAddr: `127.0.0.1:${proxy.webAddress.port}`,
          sshProxyAddr: `127.0.0.1:${proxy.sshAddress.port}`,
          user,
          cluster: CLUSTER,
          authType: 'local',
          forwardPorts: [],
          dynamicForwardPorts: [],
          // As tsh login keeps it from the proxy's ping.
          ...(recordingProxy ? {recordingProxy: true} : {}),
        },
        ...(options.agentOnly ? {} : {privateKey: key.privateKey}),
        publicKey: key.publicKey,
        certificate: signed.certificate,
        hostCAs: signed.hostCAs,
      })
      return home
    },
    async close() {
      for (const node of nodes) {
        await node.service.close().catch(() => {})
        await node.api.close().catch(() => {})
        rmSync(node.dataDir, {recursive: true, force: true})
      }
      await proxy.close().catch(() => {})
      await access.close().catch(() => {})
      await admin.close().catch(() => {})
      await auth.close().catch(() => {})
      rmSync(dataDir, {recursive: true, force: true})
      for (const home of homes) rmSync(home, {recursive: true, force: true})
    },
  }
  return cluster
}

/** `tsh` with TELEPORT_HOME set. */
export function tsh(home: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return run(TSH, args, {...options, env: {TELEPORT_HOME: home, ...options.env}})
}

/** A long-running tsh (e.g. -N forwarding); the caller stops it. */
export function spawnTsh(home: string, args: string[], options: SpawnOptions = {}): ChildProcess & {output(): string} {
  const child = spawn(TSH, args, {env: {...process.env, NO_COLOR: '1', TELEPORT_HOME: home}, stdio: ['ignore', 'pipe', 'pipe'], ...options})
  let output = ''
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()))
  return Object.assign(child, {output: () => output})
}

/** Resolves with the exit code once the process ended. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}
