import type {Duplex} from 'node:stream'
import type ssh2 from 'ssh2'

// A client that is done with a connection says so (SSH_MSG_DISCONNECT) and closes its socket at
// once, as OpenSSH's ssh does on exit. end() alone half-closes and keeps the process alive until
// the server's own close arrives: through a busy proxy, a quarter of a second on every tsh ls.
// ssh2's destroy() does nothing once end() has run, so the socket is closed directly.

export function hangUp(client: ssh2.Client): void {
  const socket = (client as unknown as {_sock?: Duplex})._sock
  client.end()
  socket?.destroy()
}
