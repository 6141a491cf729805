import assert from 'node:assert/strict'
// Shared plumbing for the node service tests: an in-process auth service on a temp data dir, its
// admin API, users with certificates written where OpenSSH finds them, a node, and OpenSSH
// clients run against it. Everything started here is stopped by the handles' close().

import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import type {ClientChannel} from 'ssh2'
import {startTestAuth} from '../../helpers/auth.js'
import {run} from '../../interop/helpers.js'
import {ApiClient} from '../../../src/api/client.js'
import type {AuthApi} from '../../../src/api/auth-api.js'
import {AuthApiClient} from '../../../src/api/auth-api-client.js'
import type {AuthServiceConfig, RunningAuthService} from '../../../src/daemon/auth/auth-service.js'
import {generateKeyPair} from '../../../src/sshca/index.js'

export const TIMEOUT_MS = 30_000
export const CLUSTER = 'example.com'

export {memoryLogger} from '../../helpers/memory-logger.js'
export {eventually} from '../../helpers/eventually.js'

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `tp-node-${prefix}-`))
}

export interface TestCluster {
  dataDir: string
  service: RunningAuthService
  admin: AuthApi
  port: number
  caPin: string
  hostCA: string
  close(): Promise<void>
}

export async function startCluster(overrides: Partial<AuthServiceConfig> = {}): Promise<TestCluster> {
  const dataDir = tempDir('auth')
  const {auth: service, admin} = await startTestAuth(dataDir, {clusterName: CLUSTER, ...overrides})
  const port = service.address.port
  const ping = await admin.ping()
  const cas = await admin.getCAKeys()
  return {
    dataDir,
    service,
    admin,
    port,
    caPin: ping.caPins[0]!,
    hostCA: cas.host[0]!,
    async close() {
      await admin.close().catch(() => {})
      await service.close().catch(() => {})
      rmSync(dataDir, {recursive: true, force: true})
    },
  }
}

/** A Node host identity issued in-process, as a one-process cluster hands it to the node service. */
export async function nodeIdentity(cluster: TestCluster, hostId: string, nodeName: string) {
  const key = generateKeyPair()
  const certificate = await cluster.service.auth.issueHostCert({hostId, nodeName, role: 'Node', publicKey: key.publicKey})
  const identity = {privateKey: key.privateKey, certificate, hostCAs: await cluster.service.auth.caKeys('host')}
  const authApi = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: cluster.port, credentials: identity, trust: {hostCAs: identity.hostCAs}}))
  return {identity, authApi}
}

export interface UserKey {
  /** Path of the private key; the certificate is beside it as <path>-cert.pub. */
  keyPath: string
  certPath: string
  certificate: string
  privateKey: string
  publicKey: string
}

/** Writes a key (and its certificate when given) where `ssh -i` finds them. */
export function writeUserKey(dir: string, name: string, key: {privateKey: string; publicKey: string}, certificate?: string): UserKey {
  const keyPath = path.join(dir, name)
  writeFileSync(keyPath, key.privateKey.endsWith('\n') ? key.privateKey : key.privateKey + '\n', {mode: 0o600})
  chmodSync(keyPath, 0o600)
  writeFileSync(`${keyPath}.pub`, key.publicKey.trim() + '\n')
  const certPath = `${keyPath}-cert.pub`
  if (certificate) writeFileSync(certPath, certificate.trim() + '\n')
  return {keyPath, certPath, certificate: certificate ?? '', privateKey: key.privateKey, publicKey: key.publicKey}
}

/** A user certificate from auth for a fresh key, written to `dir`. */
export async function userCert(cluster: TestCluster, dir: string, username: string, ttlMs = 3600_000): Promise<UserKey> {
  const key = generateKeyPair()
  const signed = await cluster.admin.signUserCert({username, publicKey: key.publicKey, ttlMs})
  return writeUserKey(dir, username, key, signed.certificate)
}

export function knownHostsFile(dir: string, hostCA: string): string {
  const file = path.join(dir, 'known_hosts')
  writeFileSync(file, `@cert-authority * ${hostCA.trim().split(/\s+/).slice(0, 2).join(' ')}\n`)
  return file
}

export {run, type RunResult} from '../../interop/helpers.js'

/** OpenSSH options that use exactly this key + certificate and trust exactly this host CA. */
export function sshOptions(key: UserKey, knownHosts: string, port: number): string[] {
  return [
    '-F', '/dev/null',
    '-i', key.keyPath,
    '-o', `CertificateFile=${key.certPath}`,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', `UserKnownHostsFile=${knownHosts}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=20',
    '-p', String(port),
  ]
}

/** A real OpenSSH ssh-agent holding `keys` (added in that order); stop() ends it and removes its socket. */
export async function startSshAgent(keys: string[]): Promise<{sock: string; env: NodeJS.ProcessEnv; stop(): void}> {
  const dir = tempDir('agent')
  const sock = path.join(dir, 'agent.sock')
  const started = await run('ssh-agent', ['-a', sock])
  assert.equal(started.code, 0, started.stderr)
  const pid = /SSH_AGENT_PID=(\d+)/.exec(started.stdout)?.[1]
  const stop = () => {
    if (pid) process.kill(Number(pid), 'SIGTERM')
    rmSync(dir, {recursive: true, force: true})
  }
  const env = {...process.env, SSH_AUTH_SOCK: sock}
  for (const key of keys) {
    const added = await run('ssh-add', [key], {env})
    if (added.code !== 0) stop()
    assert.equal(added.code, 0, added.stderr)
  }
  return {sock, env, stop}
}

/** What a channel prints (stdout and stderr), a wait for a pattern in stdout, and how it ended. */
export function watch(channel: ClientChannel) {
  let stdout = ''
  let stderr = ''
  const waiters: {re: RegExp; resolve: () => void}[] = []
  const check = () => {
    for (const w of [...waiters]) if (w.re.test(stdout)) w.resolve()
  }
  channel.on('data', (d: Buffer) => {
    stdout += d.toString()
    check()
  })
  channel.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  let code: number | undefined
  channel.on('exit', (c: number) => (code = c))
  return {
    get stdout() {
      return stdout
    },
    /** Resolves when `re` matches what was printed (from `from` on). */
    waitFor: (re: RegExp) => (re.test(stdout) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({re, resolve}))),
    closed: new Promise<{code: number | undefined; stdout: string; stderr: string}>((resolve) => channel.on('close', () => resolve({code, stdout, stderr}))),
  }
}

/** The session id a command printed as SID=<id> (echo SID=$SSH_SESSION_ID). */
export const sidIn = (output: string) => /SID=([0-9a-f-]{36})/.exec(output)?.[1] ?? assert.fail(`no session id in ${JSON.stringify(output.slice(0, 200))}`)
