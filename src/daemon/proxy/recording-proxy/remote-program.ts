import type {ClientChannel} from 'ssh2'
import type {Program, SessionExit} from '../../node/session/program.js'

// The program of a session the recording proxy runs: the node's session channel (shell, exec or
// subsystem), seen as the session core sees a local program. Its output is the channel's stdout
// and stderr; its exit the node's exit-status or exit-signal; input, resizes, signals and EOF go
// to the node as channel requests.

export function remoteProgram(channel: ClientChannel, terminal: boolean): Program {
  let exit: SessionExit | undefined
  channel.on('exit', (code: number | null, signal?: string) => {
    exit = signal ? {code: null, signal: signal.replace(/^SIG/, '')} : {code: code ?? 0}
  })
  channel.on('error', () => {})
  return {
    terminal,
    onOutput(listener) {
      channel.on('data', (bytes: Buffer) => listener(bytes, 'stdout'))
      channel.stderr.on('data', (bytes: Buffer) => listener(bytes, 'stderr'))
    },
    onExit(listener) {
      // A node that closes without an exit status ended the session as sshd's "closed by remote host".
      channel.once('close', () => listener(exit ?? {code: 255}))
    },
    write: (bytes) => channel.write(bytes),
    onceWritable: (callback) => void channel.once('drain', callback),
    endInput: () => void channel.end(),
    resize: (size) => void channel.setWindow(size.rows, size.cols, 0, 0),
    kill: (signal) => void channel.signal(signal.replace(/^SIG/, '')),
    pause() {
      channel.pause()
      channel.stderr.pause()
    },
    resume() {
      channel.resume()
      channel.stderr.resume()
    },
    hangUp: () => void channel.close(),
  }
}
