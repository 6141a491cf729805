import type {Server} from 'node:net'

// Starting a listener as a promise: resolves once the server listens, rejects with the bind
// error (EADDRINUSE, EACCES, ...) as node reports it, for the caller to word.

export type ListenAddress = {host: string; port: number} | {path: string}

/** Listens on a TCP address or a Unix socket path; later errors go to `onError` (default: ignored). */
export function listenOn(server: Server, at: ListenAddress, onError: (err: Error) => void = () => {}): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    const listening = () => {
      server.off('error', reject)
      server.on('error', onError)
      resolve()
    }
    if ('path' in at) server.listen(at.path, listening)
    else server.listen(at.port, at.host, listening)
  })
}
