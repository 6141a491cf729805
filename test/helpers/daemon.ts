import {spawn, type ChildProcess} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import path from 'node:path'
import {repoRoot} from './cli.js'

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
