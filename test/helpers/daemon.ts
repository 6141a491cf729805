import {spawn, type ChildProcess} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import path from 'node:path'
import {repoRoot, tctlOk} from './cli.js'

// A real `teleport start` process for end-to-end tests, with its log and a clean stop.

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })
}

export interface TeleportDaemon {
  child: ChildProcess
  logs: () => string
  waitForLog: (pattern: RegExp, timeoutMs?: number) => Promise<void>
  stop: () => Promise<number | null>
}

/** `wrap`: a command that execs teleport in turn (`ip netns exec <ns>`), keeping its pid. */
export function startTeleport(args: string[], env: NodeJS.ProcessEnv = {}, wrap: string[] = []): TeleportDaemon {
  const command = [...wrap, path.join(repoRoot, 'bin', 'teleport'), 'start', ...args]
  const child = spawn(command[0]!, command.slice(1), {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1', ...env}})
  let text = ''
  const listeners = new Set<() => void>()
  const append = (d: Buffer) => {
    text += d.toString()
    for (const l of [...listeners]) l()
  }
  child.stdout!.on('data', append)
  child.stderr!.on('data', append)
  child.on('exit', () => {
    for (const l of [...listeners]) l()
  })
  return {
    child,
    logs: () => text,
    waitForLog: (pattern, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(text)) {
            done()
            resolve()
          } else if (child.exitCode !== null) {
            done()
            reject(new Error(`teleport exited (${child.exitCode}) before logging ${pattern}:\n${text}`))
          }
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`teleport never logged ${pattern}:\n${text}`))
        }, timeoutMs)
        const done = () => {
          clearTimeout(timer)
          listeners.delete(check)
        }
        listeners.add(check)
        check()
      }),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode)
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
        child.once('exit', (code) => {
          clearTimeout(timer)
          resolve(code)
        })
        child.kill('SIGTERM')
      }),
  }
}

/** A config file for an auth-only process on a free loopback port. */
export function writeAuthConfig(dir: string, port: number, extra = ''): string {
  const file = path.join(dir, 'teleport.yaml')
  writeFileSync(
    file,
    [
      'teleport:',
      `  data_dir: ${path.join(dir, 'data')}`,
      '  nodename: auth-test',
      'auth_service:',
      `  listen_addr: 127.0.0.1:${port}`,
      '  cluster_name: test.example.com',
      'proxy_service:',
      '  enabled: no',
      '  public_addr: proxy.test.example.com:3080',
      'ssh_service:',
      '  enabled: no',
      extra,
    ].join('\n'),
  )
  return file
}

/** An auth-only `teleport start` in multiplex mode that proxies and nodes join with `token`. */
export interface JoinableAuth {
  daemon: TeleportDaemon
  config: string
  port: number
  /** The lines of teleport.yaml that join a host to it through `servers` (auth_servers). */
  joining(servers: string): string[]
}

export async function startJoinableAuth(options: {dir: string; cluster: string; token: string}): Promise<JoinableAuth> {
  const port = await freePort()
  const config = path.join(options.dir, 'auth.yaml')
  writeFileSync(config, [
    'teleport:', '  nodename: auth', `  data_dir: ${path.join(options.dir, 'auth')}`,
    'auth_service:', `  listen_addr: 127.0.0.1:${port}`, `  cluster_name: ${options.cluster}`,
    '  authentication: {type: local, second_factor: "off"}', '  proxy_listener_mode: multiplex', `  tokens: ["proxy,node:${options.token}"]`,
    'proxy_service: {enabled: no}', 'ssh_service: {enabled: no}', '',
  ].join('\n'))
  const daemon = startTeleport(['-c', config])
  await daemon.waitForLog(/Auth service is starting on/)
  const pin = /sha256:[0-9a-f]{64}/.exec(tctlOk(config, 'status'))![0]
  return {daemon, config, port, joining: (servers) => ['teleport:', `  auth_servers: [${servers}]`, `  auth_token: ${options.token}`, `  ca_pin: ${pin}`]}
}
