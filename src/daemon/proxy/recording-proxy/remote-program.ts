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

/**
 * The program of a moderated session: the node's channel is asked for only once the session's
 * gate opens (the session core spawns then), so nothing runs on the node before the moderators
 * joined. Until the channel is open, calls wait for it in order; a node that refuses ends the
 * session with exit status 255 and its reason.
 */
export function remoteProgramOnceOpen(opening: Promise<ClientChannel>, terminal: boolean): Program {
  let program: Program | undefined
  let failure: SessionExit | undefined
  const waiting: ((program: Program) => void)[] = []
  const exitListeners: ((exit: SessionExit) => void)[] = []
  const later = (call: (program: Program) => void) => (program ? call(program) : void waiting.push(call))
  opening.then(
    (channel) => {
      program = remoteProgram(channel, terminal)
      for (const call of waiting.splice(0)) call(program)
    },
    (err: Error) => {
      failure = {code: 255, startError: err.message}
      for (const listener of exitListeners) listener(failure)
    },
  )
  return {
    terminal,
    onOutput: (listener) => later((p) => p.onOutput(listener)),
    onExit(listener) {
      if (failure) return listener(failure)
      exitListeners.push(listener)
      later((p) => p.onExit(listener))
    },
    write(bytes) {
      if (program) return program.write(bytes)
      later((p) => void p.write(bytes))
      return false
    },
    // Bytes written before the channel opened go first, in order: then the writer may go on.
    onceWritable: (callback) => (program ? program.onceWritable(callback) : later(() => callback())),
    endInput: () => later((p) => p.endInput()),
    resize: (size) => later((p) => p.resize(size)),
    kill: (signal) => later((p) => p.kill(signal)),
    pause: () => later((p) => p.pause()),
    resume: () => later((p) => p.resume()),
    hangUp: () => later((p) => p.hangUp()),
  }
}
