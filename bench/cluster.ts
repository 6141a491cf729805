// A one-process cluster for the benchmarks: `teleport start` with auth, proxy and node on loopback,
// a user `bench` (role access, the current login) whose certificate is saved as a tsh login in
// <dir>/tsh (with the X.509 certificate of the same login and the proxy's HTTPS certificate
// pinned, as `tsh login --insecure` leaves it, so tsh takes the TLS relay) and in <dir>/tsh-ssh
// without them (tsh takes the proxy's SSH subsystem), and also kept as OpenSSH files
// (<dir>/bench, -cert.pub) for the OpenSSH paths.
import {spawnSync} from 'node:child_process'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {userInfo} from 'node:os'
import path from 'node:path'
import {ApiClient} from '../src/api/client.js'
import {AuthApiClient} from '../src/api/auth-api-client.js'
import {readIdentityFile} from '../src/api/identity-file.js'
import {SSH_RELAY_ALPN} from '../src/api/ssh-relay.js'
import {dataDirPaths} from '../src/config/data-dir.js'
import {FileKeyStore} from '../src/client/key-store.js'
import {fetchProxyCertificate} from '../src/client/web-client.js'
import {saveLogin} from '../src/client/profile.js'
import {repoRoot} from '../test/helpers/cli.js'
import {freePort, startTeleport} from '../test/helpers/daemon.js'

/**
 * The OS login of every session (default the current user). Each session starts that user's shell,
 * so pick one whose start-up is cheap and has no lock: root's ~/.bashrc here runs `pyenv init`,
 * whose rehash lock makes concurrent shells wait on one another.
 */
export const LOGIN = process.env.BENCH_LOGIN || userInfo().username
export const CLUSTER = 'bench.local'
export const NODE = 'benchnode'
export const tsh = path.join(repoRoot, 'bin', 'tsh')
export const tctl = path.join(repoRoot, 'bin', 'tctl')

export function must(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  // Room for `tsh ls -f json` of 10,000 nodes (spawnSync's default is 1 MiB).
  const r = spawnSync(cmd, args, {encoding: 'utf8', maxBuffer: 256 * 1024 ** 2, env: {...process.env, ...env}})
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? r.stderr}`)
  return r.stdout
}

export interface BenchCluster {
  dir: string
  config: string
  webPort: number
  proxySshPort: number
  nodePort: number
  authPort: number
  /** The teleport process (auth, proxy and node in one). */
  pid: number
  /** What it logged so far. */
  logs(): string
  /** TELEPORT_HOME of the saved login (the TLS relay). */
  env: NodeJS.ProcessEnv
  /** TELEPORT_HOME of the same login without the X.509 certificate (the SSH subsystem path). */
  sshEnv: NodeJS.ProcessEnv
  stop(): Promise<unknown>
}

export interface BenchClusterOptions {
  sessionRecording?: string
  /** Lines of `teleport.storage` (indented under it); default the SQLite backend in data_dir. */
  storage?: string[]
}

export async function startBenchCluster(dir: string, options: BenchClusterOptions = {}): Promise<BenchCluster> {
  mkdirSync(dir, {recursive: true})
  const [authPort, webPort, proxySshPort, nodePort] = await Promise.all([freePort(), freePort(), freePort(), freePort()])
  const config = path.join(dir, 'teleport.yaml')
  writeFileSync(config, [
    'teleport:', `  nodename: ${NODE}`, `  data_dir: ${path.join(dir, 'data')}`,
    ...(options.storage ? ['  storage:', ...options.storage.map((l) => `    ${l}`)] : []),
    'auth_service:', `  listen_addr: 127.0.0.1:${authPort}`, `  cluster_name: ${CLUSTER}`,
    ...(options.sessionRecording ? [`  session_recording: ${options.sessionRecording}`] : []),
    'proxy_service:', `  listen_addr: 127.0.0.1:${proxySshPort}`, `  web_listen_addr: 127.0.0.1:${webPort}`, '  tunnel_listen_addr: 127.0.0.1:0',
    'ssh_service:', `  listen_addr: 127.0.0.1:${nodePort}`, '',
  ].join('\n'))
  const teleport = startTeleport(['-c', config])
  await teleport.waitForLog(/Node service is starting/)
  must(tctl, ['-c', config, 'users', 'add', 'bench', '--roles=access', `--logins=${LOGIN}`])
  must(tctl, ['-c', config, 'auth', 'sign', '--user=bench', '--ttl=2h', `--out=${path.join(dir, 'bench')}`])
  const hostCAs = must(tctl, ['-c', config, 'auth', 'export', '--type=host']).trim().split('\n').map((l) => l.split(/\s+/).slice(2, 4).join(' '))
  // The X.509 certificate of the same key, as tsh login gets it.
  const admin = readIdentityFile(dataDirPaths(path.join(dir, 'data')).adminIdentity)
  const api = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: authPort, credentials: admin, trust: {hostCAs: admin.hostCAs}}))
  const publicKey = readFileSync(path.join(dir, 'bench.pub'), 'utf8')
  const signed = await api.signUserCert({username: 'bench', publicKey, ttlMs: 2 * 3600_000}).finally(() => api.close())
  const login = {
    profile: {webProxyAddr: `127.0.0.1:${webPort}`, sshProxyAddr: `127.0.0.1:${proxySshPort}`, user: 'bench', cluster: CLUSTER, authType: 'local', forwardPorts: [], dynamicForwardPorts: []},
    privateKey: readFileSync(path.join(dir, 'bench'), 'utf8'),
    publicKey,
    certificate: readFileSync(path.join(dir, 'bench-cert.pub'), 'utf8'),
    hostCAs,
  }
  const home = path.join(dir, 'tsh')
  const store = new FileKeyStore(home)
  saveLogin(store, {...login, profile: {...login.profile, sshRelayAlpn: SSH_RELAY_ALPN}, x509: {certificate: signed.tlsCertificate!, cas: signed.tlsCAs!.join('')}})
  store.writeProxyCertificate('127.0.0.1', await fetchProxyCertificate(`127.0.0.1:${webPort}`))
  const sshHome = path.join(dir, 'tsh-ssh')
  saveLogin(new FileKeyStore(sshHome), login)
  return {dir, config, webPort, proxySshPort, nodePort, authPort, pid: teleport.child.pid!, logs: () => teleport.logs(), env: {TELEPORT_HOME: home}, sshEnv: {TELEPORT_HOME: sshHome}, stop: () => teleport.stop()}
}
