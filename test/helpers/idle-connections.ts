import {connect, type Socket} from 'node:net'

// Idle TCP connections for the tests of listeners' limits on unauthenticated clients: they
// connect and never speak (whatever the server sends is read and ignored).

export interface Idle {
  socket: Socket
  closed: Promise<void>
  isClosed(): boolean
}

export async function openIdle(port: number, count: number): Promise<Idle[]> {
  const idle: Idle[] = []
  for (let i = 0; i < count; i++) {
    const socket = connect(port, '127.0.0.1')
    let done = false
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve(void (done = true))))
    socket.on('error', () => {})
    socket.on('data', () => {}) // the server's version line: read and ignored, never answered
    await new Promise<void>((resolve) => (socket.once('connect', resolve), socket.once('close', resolve)))
    idle.push({socket, closed, isClosed: () => done})
  }
  return idle
}

/** Waits until `n` of them are closed; returns those still open then. */
export async function untilClosed(idle: Idle[], n: number): Promise<Idle[]> {
  await new Promise<void>((resolve) => {
    let count = 0
    for (const c of idle) void c.closed.then(() => ++count === n && resolve())
  })
  return idle.filter((c) => !c.isClosed())
}
