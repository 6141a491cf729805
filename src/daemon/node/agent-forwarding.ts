import {chmodSync, lchownSync, mkdtempSync, rmSync} from 'node:fs'
import {createServer, type Server, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import type {Connection} from 'ssh2'
import type {OsLogin} from './os-login.js'
import {listenOn} from '../../lib/net/listen-on.js'
import {openAgentChannel} from '../../ssh/server-internals.js'

// Agent forwarding (`ssh -A`, auth-agent-req@openssh.com): a unix socket that only the login user
// may connect to; each connection opens an auth-agent@openssh.com channel back to the client,
// whose agent answers. SSH_AUTH_SOCK points the session at it.
//
// A root node must not let the user race it: the socket lives in a fresh directory that stays
// root's (0711: the user may reach the socket by name, not create, rename or replace anything in
// it), so the paths root then changes (lchown, chmod of the socket) can never be swapped for a
// symlink. Only the socket itself is handed to the user. A node not running as root serves only
// its own user: a plain 0700 directory.

export interface ForwardedAgent {
  socketPath: string
  close(): void
}

export async function forwardAgent(client: Connection, login: OsLogin): Promise<ForwardedAgent> {
  const asRoot = process.getuid?.() === 0
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
    chmodSync(dir, asRoot ? 0o711 : 0o700)
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
    await listenOn(server, {path: socketPath})
    chmodSync(socketPath, 0o600)
    if (asRoot) lchownSync(socketPath, login.uid, login.gid)
    return {socketPath, close}
  } catch (err) {
    close()
    throw err
  }
}
