import {connect, createServer, type Server, type Socket} from 'node:net'

// A load balancer in front of several servers, as HA setups put in front of proxies: each TCP
// connection goes to the next target in turn (a target may be listed twice to weight it), bytes
// copied both ways. Real sockets; the test reads how many connections went where.

export interface TcpBalancer {
  port: number
  /** The target port each connection went to, in order. */
  picks: number[]
  close(): Promise<void>
}

export async function startTcpBalancer(targets: number[], host = '127.0.0.1'): Promise<TcpBalancer> {
  const picks: number[] = []
  const sockets = new Set<Socket>()
  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
  }
  const server: Server = createServer((client) => {
    const port = targets[picks.length % targets.length]!
    picks.push(port)
    const upstream = connect({host, port})
    track(client)
    track(upstream)
    client.pipe(upstream)
    upstream.pipe(client)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  return {
    port: (server.address() as {port: number}).port,
    picks,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
