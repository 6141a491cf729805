// Shared plumbing for the interop tests: temp dirs, free ports, OpenSSH daemons and tools
// (sshd, ssh, ssh-keygen, ssh-agent, ssh-add) and our ssh2 server/client on loopback.
// Everything started here is stopped by the returned handle; tests call it in after()/finally.

import {spawn, type ChildProcess} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, existsSync} from 'node:fs'
import {createServer, type AddressInfo} from 'node:net'
import {tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import ssh2 from 'ssh2'
import type {AuthContext, ConnectConfig, ServerConfig} from 'ssh2'

export const LOGIN = userInfo().username
/** Generous: nothing here depends on timing, these only bound a hung test. */
export const TIMEOUT_MS = 30_000
export const SSHD = '/usr/sbin/sshd'

export function tempDir(prefix: string): {path: string; cleanup: () => void} {
  const path = mkdtempSync(join(tmpdir(), `tp-${prefix}-`))
  return {path, cleanup: () => rmSync(path, {recursive: true, force: true})}
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const {port} = srv.address() as AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs a program to completion (killed after TIMEOUT_MS). Never rejects for a non-zero exit. */
export function run(cmd: string, args: string[], opts: {env?: NodeJS.ProcessEnv; input?: string | Buffer; timeoutMs?: number} = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {env: opts.env ?? process.env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? TIMEOUT_MS)
    child.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({code, signal, stdout, stderr})
    })
    if (child.stdin) {
      child.stdin.on('error', () => {}) // EPIPE if the program exits without reading: its exit code tells
      child.stdin.end(opts.input)
    }
  })
}

export async function mustRun(cmd: string, args: string[], opts: {env?: NodeJS.ProcessEnv} = {}): Promise<string> {
  const r = await run(cmd, args, opts)
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r.stdout
}

/** ssh-keygen -t type -f path; returns {privateKey, publicKey} texts. */
export async function keygen(path: string, type: 'ed25519' | 'rsa' | 'ecdsa' = 'ed25519'): Promise<{privateKey: string; publicKey: string; path: string}> {
  const args = ['-q', '-t', type, '-N', '', '-C', `test-${type}`, '-f', path]
  if (type === 'rsa') args.push('-b', '2048')
  await mustRun('ssh-keygen', args)
  return {path, privateKey: readFileSync(path, 'utf8'), publicKey: readFileSync(`${path}.pub`, 'utf8').trim()}
}

/**
 * ssh-keygen -s ca [-h] -I id -n principals -V validity key.pub; returns the certificate line
 * (also written to key-cert.pub, where ssh and ssh-add look for it).
 */
export async function keygenSign(opts: {caPath: string; keyPath: string; id: string; principals: string[]; host?: boolean; validity?: string}): Promise<string> {
  const args = ['-q', '-s', opts.caPath, '-I', opts.id, '-n', opts.principals.join(','), '-V', opts.validity ?? '-5m:+1h']
  if (opts.host) args.push('-h')
  args.push(`${opts.keyPath}.pub`)
  await mustRun('ssh-keygen', args)
  return readFileSync(`${opts.keyPath}-cert.pub`, 'utf8').trim()
}

export function writeKeyFiles(dir: string, name: string, privateKey: string, publicKey?: string, cert?: string): string {
  const path = join(dir, name)
  writeFileSync(path, privateKey.endsWith('\n') ? privateKey : `${privateKey}\n`, {mode: 0o600})
  chmodSync(path, 0o600)
  if (publicKey) writeFileSync(`${path}.pub`, `${publicKey.trim()}\n`)
  if (cert) writeFileSync(`${path}-cert.pub`, `${cert.trim()}\n`)
  return path
}

export interface Daemon {
  port: number
  /** Everything the daemon logged so far (sshd -e logs to stderr). */
  logs: () => string
  /**
   * Resolves once `pattern` shows in the logs after offset `since` (a logs().length taken before
   * the action); rejects after TIMEOUT_MS. Logs may trail the network reply, so tests wait.
   */
  waitForLog: (pattern: RegExp, since?: number) => Promise<string>
  stop: () => Promise<void>
}

/** A growing log with waiters. */
class LogBuffer {
  text = ''
  private waiters = new Set<() => void>()
  append(chunk: string): void {
    this.text += chunk
    for (const w of [...this.waiters]) w()
  }
  waitFor(pattern: RegExp, since = 0): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!pattern.test(this.text.slice(since))) return
        this.waiters.delete(check)
        clearTimeout(timer)
        resolve(this.text.slice(since))
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        reject(new Error(`log never showed ${pattern}; got:\n${this.text.slice(since)}`))
      }, TIMEOUT_MS)
      this.waiters.add(check)
      check()
    })
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

/** Waits for `pattern` in the child's stderr (or its exit, which is an error). */
function waitForOutput(child: ChildProcess, pattern: RegExp, what: string, output: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${what} did not start within ${TIMEOUT_MS} ms:\n${output()}`)), TIMEOUT_MS)
    const onData = () => {
      if (pattern.test(output())) done()
    }
    const onExit = (code: number | null) => done(new Error(`${what} exited (${code}) before it was ready:\n${output()}`))
    const done = (err?: Error) => {
      clearTimeout(timer)
      child.stderr?.off('data', onData)
      child.stdout?.off('data', onData)
      child.off('exit', onExit)
      if (err) reject(err)
      else resolve()
    }
    child.stderr?.on('data', onData)
    child.stdout?.on('data', onData)
    child.once('exit', onExit)
    onData()
  })
}

/**
 * OpenSSH sshd on 127.0.0.1 with a temp config: certificate auth only (TrustedUserCAKeys),
 * no authorized_keys, the login must be among the certificate's principals.
 */
export async function startSshd(opts: {dir: string; trustedUserCAKeys: string[]; hostKeyPath: string; hostCertPath?: string; logLevel?: string; extraConfig?: string[]}): Promise<Daemon> {
  // sshd's privilege separation directory; present on Debian once sshd ran, created if not.
  if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', {mode: 0o755})
  const port = await freePort()
  const caFile = join(opts.dir, 'trusted_user_ca_keys')
  writeFileSync(caFile, opts.trustedUserCAKeys.map((l) => l.trim()).join('\n') + '\n')
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${opts.hostKeyPath}`,
    ...(opts.hostCertPath ? [`HostCertificate ${opts.hostCertPath}`] : []),
    'PidFile none',
    'StrictModes no',
    'UsePAM no',
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'AuthorizedKeysFile none',
    `TrustedUserCAKeys ${caFile}`,
    `LogLevel ${opts.logLevel ?? 'DEBUG1'}`,
    'Subsystem sftp internal-sftp',
    ...(opts.extraConfig ?? []),
  ].join('\n')
  const configPath = join(opts.dir, 'sshd_config')
  writeFileSync(configPath, config + '\n')
  const child = spawn(SSHD, ['-D', '-e', '-f', configPath], {stdio: ['ignore', 'pipe', 'pipe']})
  const log = new LogBuffer()
  child.stdout.on('data', (d: Buffer) => log.append(d.toString()))
  child.stderr.on('data', (d: Buffer) => log.append(d.toString()))
  await waitForOutput(child, /Server listening on 127\.0\.0\.1 port/, 'sshd', () => log.text)
  return {port, logs: () => log.text, waitForLog: (p, since) => log.waitFor(p, since), stop: () => stopChild(child)}
}

/** OpenSSH ssh-agent in the foreground (-D) on a socket in `dir`; stop() kills it. */
export async function startAgent(dir: string): Promise<{socket: string; env: NodeJS.ProcessEnv; stop: () => Promise<void>}> {
  const socket = join(dir, 'agent.sock')
  const child = spawn('ssh-agent', ['-D', '-a', socket], {stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output += d.toString()))
  // ssh-agent -D prints "SSH_AUTH_SOCK=...; export SSH_AUTH_SOCK;" once its socket is listening.
  await waitForOutput(child, /SSH_AUTH_SOCK=/, 'ssh-agent', () => output)
  return {socket, env: {...process.env, SSH_AUTH_SOCK: socket}, stop: () => stopChild(child)}
}

export const EXEC_GREETING = 'hello from the ssh2 server'

/**
 * Our ssh2 server on 127.0.0.1:0. `authenticate` decides each auth attempt (return true to
 * accept, false to reject); every session's exec answers EXEC_GREETING plus the command.
 */
export async function startSsh2Server(opts: {hostKeys: ServerConfig['hostKeys']; authenticate: (ctx: AuthContext, ip: string) => boolean; debug?: boolean}): Promise<Daemon> {
  const clients = new Set<ssh2.Connection>()
  const log = new LogBuffer()
  const server = new ssh2.Server({hostKeys: opts.hostKeys, ...(opts.debug ? {debug: (m: string) => log.append(m + '\n')} : {})}, (client, info) => {
    clients.add(client)
    client.on('close', () => clients.delete(client))
    client.on('error', (err) => log.append(`client error: ${err.message}\n`))
    client.on('authentication', (ctx) => {
      let ok = false
      try {
        ok = opts.authenticate(ctx, info.ip)
      } catch (err) {
        log.append(`authenticate threw: ${(err as Error).message}\n`)
      }
      if (ok) ctx.accept()
      else ctx.reject(['publickey'])
    })
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept()
        session.on('exec', (acceptExec, _reject, req) => {
          const stream = acceptExec()
          stream.write(`${EXEC_GREETING}: ${req.command}\n`)
          stream.exit(0)
          stream.end()
        })
      })
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const {port} = server.address() as AddressInfo
  return {
    port,
    logs: () => log.text,
    waitForLog: (p, since) => log.waitFor(p, since),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const c of clients) c.end()
        server.close(() => resolve())
      }),
  }
}

export interface ExecOutcome {
  ok: boolean
  stdout: string
  code?: number
  error?: Error
}

/**
 * Connects our ssh2 client with `config`, runs `command`, disconnects. Resolves with the output,
 * or with ok=false and the error (handshake, host key or authentication failure).
 */
export function ssh2Exec(config: ConnectConfig, command: string, onError?: (err: Error) => Error): Promise<ExecOutcome> {
  return new Promise((resolve) => {
    const client = new ssh2.Client()
    let settled = false
    const finish = (outcome: ExecOutcome) => {
      if (settled) return
      settled = true
      client.end()
      resolve(outcome)
    }
    client.on('error', (err) => finish({ok: false, stdout: '', error: onError ? onError(err) : err}))
    client.on('close', () => finish({ok: false, stdout: '', error: new Error('connection closed before the command finished')}))
    client.on('ready', () => {
      client.exec(command, (err, stream) => {
        if (err) return finish({ok: false, stdout: '', error: err})
        let stdout = ''
        let code: number | undefined
        stream.on('data', (d: Buffer) => (stdout += d.toString()))
        stream.stderr.on('data', () => {})
        stream.on('exit', (c: number) => (code = c))
        stream.on('close', () => finish({ok: true, stdout, ...(code !== undefined ? {code} : {})}))
      })
    })
    try {
      client.connect({host: '127.0.0.1', readyTimeout: TIMEOUT_MS, ...config})
    } catch (err) {
      finish({ok: false, stdout: '', error: err as Error})
    }
  })
}

/** OpenSSH ssh, non-interactive, with nothing from ~/.ssh or /etc/ssh. */
export function opensshExec(opts: {port: number; knownHosts: string; identity: string; certificate?: string; command: string; extra?: string[]}): Promise<RunResult> {
  return run('ssh', [
    '-F', '/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${opts.knownHosts}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'UpdateHostKeys=no',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', `IdentityFile=${opts.identity}`,
    ...(opts.certificate ? ['-o', `CertificateFile=${opts.certificate}`] : []),
    '-o', `ConnectTimeout=${TIMEOUT_MS / 1000}`,
    ...(opts.extra ?? []),
    '-p', String(opts.port),
    `${LOGIN}@127.0.0.1`,
    opts.command,
  ])
}
