import {createServer, type AddressInfo} from 'node:net'
import type {ConnectionHandler, Endpoint} from './connection.js'
import {socketConnection} from './connection.js'
import {listenOn} from './listen-on.js'

// The one place our servers bind a TCP port: it accepts and hands each socket to a
// ConnectionHandler (an SSH server, the web server, the auth API), which owns it from then on.

export interface TcpListener {
  /** The host asked for, and the port bound (port 0 resolved). */
  readonly address: Endpoint
  /** Stops accepting; resolves once every accepted connection has closed (their handler closes them). */
  close(): Promise<void>
}

/** Listens on `at`; rejects with node's bind error. Errors after that go to `onError`. */
export async function listenTcp(at: Endpoint, handler: ConnectionHandler, onError?: (err: Error) => void): Promise<TcpListener> {
  const server = createServer((socket) => {
    // Our servers write whole messages (ssh2 whole SSH packets, TLS whole records): Nagle can only
    // hold back the small ones (window adjusts) behind unacknowledged data and stall the stream.
    // With it on, 1 GiB through `tsh proxy ssh` ran at ~110-220 MiB/s instead of ~290 on
    // loopback, and connecting took ~30 ms longer. Go's Teleport sets it on every connection.
    socket.setNoDelay(true)
    handler.handle(socketConnection(socket))
  })
  await listenOn(server, at, onError)
  const {port} = server.address() as AddressInfo
  return {
    address: {host: at.host, port},
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
