import {chmodSync, chownSync, mkdtempSync, rmSync} from 'node:fs'
import {createServer, type Server, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import type {Connection} from 'ssh2'
import type {OsLogin} from './os-login.js'
import {openAgentChannel} from './ssh2-internals.js'

// Agent forwarding (`ssh -A`, auth-agent-req@openssh.com): a unix socket in a fresh 0700
// directory owned by the login user; each connection to it opens an auth-agent@openssh.com
// channel back to the client, whose agent answers. SSH_AUTH_SOCK points the session at it.

export interface ForwardedAgent {
  socketPath: string
  close(): void
}

export async function forwardAgent(client: Connection, login: OsLogin): Promise<ForwardedAgent> {
  const dir = mkdtempSync(path.join(tmpdir(), 'teleport-agent-'))
  const socketPath = path.join(dir, `agent.${process.pid}`)
  const sockets = new Set<Socket>()
  let server: Server | undefined
  const close = () => {
    server?.close()
    for (const s of sockets) s.destroy()
    rmSync(dir, {recursive: true, force: true})
  }
  try {
    chmodSync(dir, 0o700)
    if (process.getuid?.() === 0) chownSync(dir, login.uid, login.gid)
    server = createServer((socket) => {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
      socket.on('error', () => socket.destroy())
      socket.pause()
      openAgentChannel(client).then(
        (channel) => {
          channel.on('error', () => socket.destroy())
          socket.pipe(channel).pipe(socket)
          channel.once('close', () => socket.destroy())
          socket.once('close', () => channel.close())
          socket.resume()
        },
        () => socket.destroy(),
      )
    })
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject)
      server!.listen(socketPath, () => resolve())
    })
    chmodSync(socketPath, 0o600)
    if (process.getuid?.() === 0) chownSync(socketPath, login.uid, login.gid)
    return {socketPath, close}
  } catch (err) {
    close()
    throw err
  }
}
