// Real etcd processes for tests: Debian's etcd-server (/usr/bin/etcd), started with explicit flags
// on loopback ports the OS picked, data in a temporary directory, killed and removed on close.
// One member or a 3-member cluster; optionally TLS with certificates made by openssl.
import {spawn, execFileSync, type ChildProcess} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {request as httpsRequest} from 'node:https'
import {request as httpRequest} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {randomBytes} from 'node:crypto'
import {Etcd3, Range} from 'etcd3'
import {freePort} from './daemon.js'
import {eventually} from './eventually.js'

export const ETCD_BINARY = '/usr/bin/etcd'

export interface EtcdTls {
  /** CA that signed the server and client certificates. */
  caFile: string
  serverCertFile: string
  serverKeyFile: string
  clientCertFile: string
  clientKeyFile: string
}

export interface EtcdMember {
  name: string
  clientUrl: string
  /** The etcd process (for its CPU and memory in the benchmarks). */
  pid: number | undefined
  /** Kills the process (SIGKILL), as a crash would; the others keep the cluster going. */
  kill(): Promise<void>
  readonly running: boolean
}

export interface EtcdCluster {
  members: EtcdMember[]
  /** Every member's client URL, for `peers:`. */
  peers: string[]
  tls?: EtcdTls
  /** Kills every member and removes the data. */
  close(): Promise<void>
}

export interface EtcdClusterOptions {
  /** 1 (default) or 3. */
  size?: number
  /** Serve clients over TLS and require client certificates. */
  tls?: boolean
}

export async function startEtcd(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  const size = options.size ?? 1
  const dir = mkdtempSync(join(tmpdir(), 'etcd-test-'))
  const tls = options.tls ? makeCertificates(dir) : undefined
  const scheme = tls ? 'https' : 'http'
  const names = Array.from({length: size}, (_, i) => `m${i}`)
  const ports: {client: number; peer: number}[] = []
  for (let i = 0; i < size; i++) ports.push({client: await freePort(), peer: await freePort()})
  const initialCluster = names.map((name, i) => `${name}=http://127.0.0.1:${ports[i]!.peer}`).join(',')
  const token = `test-${randomBytes(6).toString('hex')}`
  const processes: ChildProcess[] = []
  const logs: string[] = []

  const members: EtcdMember[] = names.map((name, i) => {
    const clientUrl = `${scheme}://127.0.0.1:${ports[i]!.client}`
    const peerUrl = `http://127.0.0.1:${ports[i]!.peer}`
    const args = [
      `--name=${name}`,
      `--data-dir=${join(dir, name)}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=${initialCluster}`,
      `--initial-cluster-token=${token}`,
      '--initial-cluster-state=new',
      // etcd's default of 128 operations per transaction is below the conformance suite's bulk write.
      '--max-txn-ops=2048',
      '--log-level=error',
      '--logger=zap',
    ]
    if (tls) {
      args.push(`--cert-file=${tls.serverCertFile}`, `--key-file=${tls.serverKeyFile}`, `--trusted-ca-file=${tls.caFile}`, '--client-cert-auth')
    }
    const child = spawn(ETCD_BINARY, args, {stdio: ['ignore', 'ignore', 'pipe']})
    logs[i] = ''
    child.stderr!.on('data', (chunk: Buffer) => (logs[i] += chunk.toString()))
    processes.push(child)
    return {
      name,
      clientUrl,
      pid: child.pid,
      get running() {
        return child.exitCode === null && child.signalCode === null
      },
      kill: () => stopProcess(child),
    }
  })

  const cluster: EtcdCluster = {
    members,
    peers: members.map((member) => member.clientUrl),
    tls,
    close: async () => {
      await Promise.all(processes.map(stopProcess))
      rmSync(dir, {recursive: true, force: true})
    },
  }
  try {
    for (const member of members) {
      await eventually(() => isHealthy(member.clientUrl, tls), `etcd member ${member.name} to be healthy`, {timeoutMs: 30_000})
    }
  } catch (error) {
    await cluster.close()
    throw new Error(`${(error as Error).message}\n${logs.join('\n')}`)
  }
  return cluster
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGKILL')
  })
}

/** etcd's /health answers {"health":"true"} once the member has a leader. */
function isHealthy(clientUrl: string, tls: EtcdTls | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const url = new URL('/health', clientUrl)
    const done = (healthy: boolean) => resolve(healthy)
    const onResponse = (response: import('node:http').IncomingMessage) => {
      let body = ''
      response.on('data', (chunk: Buffer) => (body += chunk.toString()))
      response.on('end', () => done(response.statusCode === 200 && /"health":\s*"true"/.test(body)))
    }
    const req = tls
      ? httpsRequest(url, {ca: readFileSync(tls.caFile), cert: readFileSync(tls.clientCertFile), key: readFileSync(tls.clientKeyFile), timeout: 2000}, onResponse)
      : httpRequest(url, {timeout: 2000}, onResponse)
    req.on('error', () => done(false))
    req.on('timeout', () => req.destroy())
    req.end()
  })
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made by openssl. */
export function makeCertificates(dir: string): EtcdTls {
  const file = (name: string) => join(dir, name)
  const openssl = (...args: string[]) => execFileSync('openssl', args, {stdio: ['ignore', 'ignore', 'pipe']})
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=etcd test CA', '-keyout', file('ca.key'), '-out', file('ca.crt'))
  const issue = (name: string, subject: string, extensions: string) => {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', subject, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`))
    const ext = file(`${name}.ext`)
    writeFileSync(ext, `${extensions}\n`)
    openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', file(`${name}.crt`))
  }
  issue('server', '/CN=etcd server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth')
  issue('client', '/CN=teleport', 'extendedKeyUsage=clientAuth')
  return {
    caFile: file('ca.crt'),
    serverCertFile: file('server.crt'),
    serverKeyFile: file('server.key'),
    clientCertFile: file('client.crt'),
    clientKeyFile: file('client.key'),
  }
}

/**
 * Turns on etcd's password authentication with a user allowed only under `prefix`, as an operator
 * would with etcdctl (not installed; the etcd3 client speaks the same API); returns a file holding
 * the user's password.
 */
export async function enablePasswordAuth(cluster: EtcdCluster, user: string, password: string, prefix: string, dir: string): Promise<string> {
  const client = new Etcd3({hosts: cluster.peers})
  try {
    await client.user('root').create(randomBytes(12).toString('hex'))
    await client.role('root').create().catch(() => undefined) // etcd 3.4 makes it with the user
    await client.user('root').addRole('root')
    const role = await client.role(`${user}-role`).create()
    await role.grant({permission: 'Readwrite', range: Range.prefix(`${prefix}/`)})
    await (await client.user(user).create(password)).addRole(role)
    await client.auth.authEnable()
  } finally {
    client.close()
  }
  const passwordFile = join(dir, `${user}-password`)
  writeFileSync(passwordFile, `${password}\n`, {mode: 0o600})
  return passwordFile
}
